"""Attribute disparity: how much a node's attributes differ from its same-type neighbours'.

For a target node v with same-type neighbours U within `hops` hops (e.g. author-paper-author
for hops = 2), disparity(v) = mean over u in U of 1 - Jaccard(x_v, x_u) for binary attributes,
1 - cosine(x_v, x_u) for real-valued ones; NaN where U is empty. AGHINT's premise is that
heterogeneous GNNs lose accuracy on high-disparity nodes; `f1_by_quintile` measures it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from jaxhin.data import HgbData
from jaxhin.hin._protocol import predictions
from jaxhin.train import f1_scores


def _attributes(data: HgbData, t: int) -> sp.csr_matrix:
    values, indices, indptr = data.features[t]
    return sp.csr_matrix((values, indices, indptr), shape=(data.type_count(t), data.dims[t]))


def _target_pairs(data: HgbData, nodes: np.ndarray, hops: int):
    """(rows, cols): every pair of a node `nodes[rows]` and another target node `cols` (global
    ids) within `hops` hops of it."""
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
    return rows[keep], cols[keep]


def _pair_distance(data: HgbData, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 - Jaccard (binary attributes) or 1 - cosine of target nodes a_i, b_i (global ids)."""
    t = data.target_type
    lo = int(data.type_offsets[t])
    x = _attributes(data, t)
    xv, xu = x[a - lo], x[b - lo]
    inter = np.asarray(xv.multiply(xu).sum(1)).ravel()
    if np.isin(x.data, (0.0, 1.0)).all():
        union = np.asarray(xv.sum(1)).ravel() + np.asarray(xu.sum(1)).ravel() - inter
        return 1.0 - np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
    norm_v = np.sqrt(np.asarray(xv.multiply(xv).sum(1)).ravel())
    norm_u = np.sqrt(np.asarray(xu.multiply(xu).sum(1)).ravel())
    denom = norm_v * norm_u
    return 1.0 - np.divide(inter, denom, out=np.zeros_like(inter), where=denom > 0)


def disparity(data: HgbData, nodes: np.ndarray, hops: int = 2) -> np.ndarray:
    """Disparity of each node in `nodes` (global ids of the target type), (len(nodes),)."""
    rows, cols = _target_pairs(data, nodes, hops)
    dist = _pair_distance(data, nodes[rows], cols)
    total = np.bincount(rows, weights=dist, minlength=len(nodes))
    count = np.bincount(rows, minlength=len(nodes))
    return np.divide(total, count, out=np.full(len(nodes), np.nan), where=count > 0)


def label_agreement_by_disparity(data: HgbData, hops: int = 2, bins: int = 5) -> list[dict]:
    """Does attribute disparity predict disagreeing labels? AGM's premise, checked on `label.dat`
    (train + val) only, never on test labels.

    Every unordered pair of labelled target nodes within `hops` hops of each other is put in one
    of `bins` equal-count bins of its pair disparity (1 - Jaccard or 1 - cosine); each bin's
    label agreement is the share of its pairs with the same class (the mean Jaccard of the two
    label sets for multi-label data). Returns one dict per bin: low, high, pairs, agreement.
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    nodes = np.asarray(data.labelled_ids)
    rows, cols = _target_pairs(data, nodes, hops)
    position = np.full(data.num_nodes, -1)
    position[nodes] = np.arange(len(nodes))
    other = position[cols]
    keep = other > rows  # both labelled, each pair once
    a, b = rows[keep], other[keep]
    if not len(a):
        raise ValueError(f"{data.name}: no two labelled target nodes within {hops} hops")
    dist = _pair_distance(data, nodes[a], nodes[b])
    y = np.asarray(data.labelled)
    if data.multi_label:
        inter = (y[a] & y[b]).sum(1)
        union = (y[a] | y[b]).sum(1)
        agree = np.divide(inter, union, out=np.ones(len(a)), where=union > 0)
    else:
        agree = (y[a] == y[b]).astype(np.float64)
    edges = np.quantile(dist, np.linspace(0, 1, bins + 1))
    bucket = _bucket(dist, edges)
    return [{"bin": q + 1, "low": float(edges[q]), "high": float(edges[q + 1]),
             "pairs": int((bucket == q).sum()),
             "agreement": float(agree[bucket == q].mean()) if (bucket == q).any() else np.nan}
            for q in range(bins)]


def _bucket(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Index of each value's bin among `edges` (the last bin closed on the right)."""
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)


def quintile_edges(values: np.ndarray) -> np.ndarray:
    """The 6 edges of disparity quintiles over the finite values."""
    return np.quantile(values[np.isfinite(values)], np.linspace(0, 1, 6))


def f1_by_quintile(data: HgbData, test_logits: np.ndarray, test_disparity: np.ndarray
                   ) -> list[dict]:
    """Macro/Micro-F1 (percent) of the test nodes in each disparity quintile."""
    edges = quintile_edges(test_disparity)
    bucket = _bucket(test_disparity, edges)
    pred = predictions(test_logits, data.multi_label)
    out = []
    for q in range(5):
        mask = np.isfinite(test_disparity) & (bucket == q)
        scores = f1_scores(data.test_labels[mask], pred[mask])
        out.append({"quintile": q + 1, "low": float(edges[q]), "high": float(edges[q + 1]),
                    "nodes": int(mask.sum()), "macro_f1": 100 * scores["macro_f1"],
                    "micro_f1": 100 * scores["micro_f1"]})
    return out
