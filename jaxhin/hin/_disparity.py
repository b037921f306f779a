"""Attribute disparity: how much a node's attributes differ from its same-type neighbours'.

For a target node v with same-type neighbours U within `hops` hops (e.g. author-paper-author
for hops = 2), disparity(v) = mean over u in U of 1 - Jaccard(x_v, x_u) for binary attributes,
1 - cosine(x_v, x_u) for real-valued ones; NaN where U is empty. AGHINT's premise is that
heterogeneous GNNs lose accuracy on high-disparity nodes; `f1_by_quintile` measures it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from jaxhin.data._hgb import HgbData
from jaxhin.hin._protocol import predictions
from jaxhin.train import f1_scores


def _attributes(data: HgbData, t: int) -> sp.csr_matrix:
    values, indices, indptr = data.features[t]
    return sp.csr_matrix((values, indices, indptr), shape=(data.type_count(t), data.dims[t]))


def disparity(data: HgbData, nodes: np.ndarray, hops: int = 2) -> np.ndarray:
    """Disparity of each node in `nodes` (global ids of the target type), (len(nodes),)."""
    t = data.target_type
    if data.features[t] is None:
        raise ValueError(f"{data.name}: target type {data.node_types[t]!r} has no attributes")
    n, lo = data.num_nodes, int(data.type_offsets[t])
    hi = int(data.type_offsets[t + 1])
    adj = sp.csr_matrix((np.ones(len(data.src), np.float32), (data.src, data.dst)), shape=(n, n))
    adj = ((adj + adj.T) > 0).astype(np.float32)
    reach = sp.identity(n, np.float32, format="csr")
    frontier = reach
    for _ in range(hops):
        frontier = (frontier @ adj > 0).astype(np.float32)
        reach = ((reach + frontier) > 0).astype(np.float32)
    block = reach[nodes][:, lo:hi].tocoo()
    rows, cols = block.row, block.col + lo
    keep = cols != nodes[rows]
    rows, cols = rows[keep], cols[keep]
    x = _attributes(data, t)
    xv, xu = x[nodes[rows] - lo], x[cols - lo]
    inter = np.asarray(xv.multiply(xu).sum(1)).ravel()
    binary = np.isin(x.data, (0.0, 1.0)).all()
    if binary:
        union = np.asarray(xv.sum(1)).ravel() + np.asarray(xu.sum(1)).ravel() - inter
        dist = 1.0 - np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
    else:
        norm_v = np.sqrt(np.asarray(xv.multiply(xv).sum(1)).ravel())
        norm_u = np.sqrt(np.asarray(xu.multiply(xu).sum(1)).ravel())
        denom = norm_v * norm_u
        dist = 1.0 - np.divide(inter, denom, out=np.zeros_like(inter), where=denom > 0)
    total = np.bincount(rows, weights=dist, minlength=len(nodes))
    count = np.bincount(rows, minlength=len(nodes))
    return np.divide(total, count, out=np.full(len(nodes), np.nan), where=count > 0)


def quintile_edges(values: np.ndarray) -> np.ndarray:
    """The 6 edges of disparity quintiles over the finite values."""
    return np.quantile(values[np.isfinite(values)], np.linspace(0, 1, 6))


def f1_by_quintile(data: HgbData, test_logits: np.ndarray, test_disparity: np.ndarray
                   ) -> list[dict]:
    """Macro/Micro-F1 (percent) of the test nodes in each disparity quintile."""
    edges = quintile_edges(test_disparity)
    bucket = np.clip(np.searchsorted(edges, test_disparity, side="right") - 1, 0, 4)
    pred = predictions(test_logits, data.multi_label)
    out = []
    for q in range(5):
        mask = np.isfinite(test_disparity) & (bucket == q)
        scores = f1_scores(data.test_labels[mask], pred[mask])
        out.append({"quintile": q + 1, "low": float(edges[q]), "high": float(edges[q + 1]),
                    "nodes": int(mask.sum()), "macro_f1": 100 * scores["macro_f1"],
                    "micro_f1": 100 * scores["micro_f1"]})
    return out
