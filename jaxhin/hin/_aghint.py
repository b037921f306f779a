"""AGHINT: attribute-guided heterogeneous graph Transformer (HINormer + AGM + AGT).

The premise (`jaxhin.hin._disparity`): heterogeneous GNNs lose accuracy on target nodes whose
attributes differ from their neighbours'. AGHINT answers with two modules on top of a
HINormer-style encoder (`jaxhin.hin._hinormer`); each can be switched off for ablations.

**AGM, attribute-guided message weighting.** With sim(u, v) the attribute similarity of two
target nodes (Jaccard for binary attributes, cosine for real-valued) and d = 1 - sim their
disparity, a path of length <= K (`agm_hops`, 1 or 2) between target nodes u and v carries the
weight

    w(u, v) = max(0, 1 - gamma d(u, v))            (continuous), or
    w(u, v) = 1 - gamma [d(u, v) > threshold]      (thresholded),

and every graph edge gets the mean weight of the target-to-target paths of length <= K that
run through it (1 for an edge on none, and for self-loops). For K = 2 the edge {u, x} of a target
node u lies on the paths u - x - v for every target neighbour v != u of x, and on u - x itself
if x is a target node. The local GCN encoder then normalises the weighted adjacency,
D_w^-1/2 W D_w^-1/2 with D_w the weighted degree, so a node's messages are reweighted against
each other and against its self-loop (weight 1), not only scaled. With the Simple-HGN local
encoder (`local="simplehgn"`) the weights enter the attention logits instead, as log w: the
attention becomes alpha_ij ~ w_ij exp(e_ij), so a disparate neighbour's share of the softmax
shrinks by w. The weights are computed once per graph (`agm_edge_weights`), as an (E,) array
aligned with the graph's edges. With `relative` (`AgmConfig.relative`) each weight is divided by
the geometric mean of the weights of the edges of its type into the same node: most edges lie
on many paths, so their absolute weights sit near one value per edge type (e.g. 0.56-0.59 for
ACM's paper-paper edges at gamma 0.5), which would mostly shift attention from neighbours to the
self-loop and between edge types; the relative weights keep only the disparity ranking among a
node's neighbours of one type.

**AGT, attribute-guided similar-node completion.** For every target node its `top_k` most
attribute-similar target nodes over the whole graph (`similar_nodes`; not only its neighbours)
join its Transformer context: the sequence is [self, structural context (HINormer's sampled
neighbourhood), similar nodes], and a learned token-type embedding (self / structural / similar)
is added to every token before the Transformer layers.

Both searches run blocked on the device (`_block_similarity`): `block` rows of targets against
all targets at a time, so memory is block x N_t, never N_t x N_t.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp

from jaxhin.data import HgbData
from jaxhin.hin._disparity import _pair_distance
from jaxhin.hin._graph import HeteroGraph
from jaxhin.hin._hinormer import HINormer, HINormerConfig
from jaxhin.hin._models import AttentionConv, InputProjection, sym_norm, xavier_relu

AGM_MODES = ("continuous", "threshold")
LOCAL_ENCODERS = ("gcn", "simplehgn")
# AGM's weights are floored here before the log, so a weight of 0 removes an edge's message
# without producing -inf - -inf = nan where every message of a node has weight 0
_WEIGHT_FLOOR = 1e-6
TOKEN_SELF, TOKEN_STRUCTURAL, TOKEN_SIMILAR = 0, 1, 2


@dataclasses.dataclass(frozen=True)
class AgmConfig:
    """How AGM turns disparity into edge weights (see the module docstring).

    Attributes:
      gamma: decay rate, in [0, 1] for the thresholded mode.
      hops: K, the longest target-to-target path whose edges are weighted (1 or 2).
      mode: "continuous" (w = max(0, 1 - gamma d)) or "threshold" (w = 1 - gamma [d > threshold]).
      threshold: disparity above which the thresholded mode decays.
      relative: divide each edge's weight by the geometric mean of the weights of the edges of
        its type into the same node, so AGM only reweights a node's messages of one type against
        each other, by disparity, and leaves the balance between edge types (and the self-loop)
        to the encoder.
      learn_scale: each attention head of the Simple-HGN local encoder learns an exponent on
        the weights (`AGHINT`); the weights themselves do not change.
    """

    gamma: float = 0.5
    hops: int = 2
    mode: str = "continuous"
    threshold: float = 0.5
    relative: bool = False
    learn_scale: bool = False

    def __post_init__(self):
        if self.mode not in AGM_MODES:
            raise ValueError(f"agm_mode must be one of {AGM_MODES}, got {self.mode!r}")
        if self.hops not in (1, 2):
            raise ValueError(f"agm_hops must be 1 or 2, got {self.hops}")
        if self.gamma < 0:
            raise ValueError(f"agm_gamma must be >= 0, got {self.gamma}")

    def weight(self, similarity):
        """w as a function of sim = 1 - d (numpy or jax arrays)."""
        disparity = 1.0 - similarity
        if self.mode == "threshold":
            return 1.0 - self.gamma * (disparity > self.threshold)
        return np.maximum(0.0, 1.0 - self.gamma * disparity)


def target_attributes(data: HgbData) -> tuple[np.ndarray, bool]:
    """The target type's attributes, dense (N_t, D) float32, and whether they are binary."""
    x = data.dense(data.target_type)
    if x is None:
        raise ValueError(f"{data.name}: AGHINT needs attributes on the target type "
                         f"{data.node_types[data.target_type]!r}, which has none")
    return x, bool(np.isin(x, (0.0, 1.0)).all())


@functools.partial(jax.jit, static_argnames=("binary", "k"))
def _block_similarity(rows, x_rows, x, sizes, *, binary: bool, k: int):
    """sim(rows, all) (b, N_t) and each row's top-k other nodes (b, k): Jaccard if `binary`
    (sizes: attribute counts), else cosine (x already L2-normalised; sizes unused). The same
    conventions as `jaxhin.hin.disparity`: two empty binary rows are identical (sim 1), a zero
    real-valued row is dissimilar to everything (sim 0)."""
    inter = x_rows @ x.T
    if binary:
        union = sizes[rows][:, None] + sizes[None, :] - inter
        sim = jnp.where(union > 0, inter / jnp.where(union > 0, union, 1.0), 1.0)
    else:
        sim = inter
    if not k:
        return sim, None
    others = sim.at[jnp.arange(rows.shape[0]), rows].set(-jnp.inf)
    return sim, jax.lax.top_k(others, k)[1]


def _blocks(data: HgbData, block: int, k: int):
    """Yields (first row, rows' similarities (b, N_t) as numpy, top-k (b, k) or None)."""
    x, binary = target_attributes(data)
    if binary:
        sizes = x.sum(1)
    else:
        norm = np.linalg.norm(x, axis=1, keepdims=True)
        x = np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
        sizes = np.zeros(len(x), np.float32)
    n = len(x)
    if k >= n:
        raise ValueError(f"top_k={k} must be smaller than the {n} target nodes")
    x_dev, sizes_dev = jnp.asarray(x), jnp.asarray(sizes)
    for start in range(0, n, block):
        # the last block is padded to `block` rows so every block shares one compilation
        rows = np.minimum(np.arange(start, start + block), n - 1)
        sim, top = _block_similarity(jnp.asarray(rows, jnp.int32), x_dev[rows], x_dev, sizes_dev,
                                     binary=binary, k=k)
        stop = min(start + block, n) - start
        yield start, np.asarray(sim)[:stop], None if top is None else np.asarray(top)[:stop]


def similar_nodes(data: HgbData, k: int, *, block: int = 512) -> np.ndarray:
    """(N_t, k) int32 global ids: each target node's k most attribute-similar other target
    nodes, most similar first (blocked top-k; ties broken by lower id)."""
    lo = int(data.type_offsets[data.target_type])
    parts = [top for _, _, top in _blocks(data, block, k)]
    return (np.concatenate(parts) + lo).astype(np.int32)


def agm_edge_weights(data: HgbData, g: HeteroGraph, config: AgmConfig = AgmConfig(), *,
                     block: int = 512) -> np.ndarray:
    """(E,) float32 AGM weight of each edge of `g` (built from `data`), see the module docstring.

    Blocked over target rows: each block's similarity rows (b, N_t) become path weights, and one
    sparse product with the target columns of the adjacency sums them over every middle node.
    """
    n, t = data.num_nodes, data.target_type
    lo, hi = int(data.type_offsets[t]), int(data.type_offsets[t + 1])
    src, dst = np.asarray(g.graph.senders), np.asarray(g.graph.receivers)
    # the simple undirected graph the paths run on (types ignored, no self-loops)
    keep = data.src != data.dst
    adj = sp.csr_matrix((np.ones(keep.sum(), np.float32), (data.src[keep], data.dst[keep])),
                        shape=(n, n))
    adj = ((adj + adj.T) > 0).astype(np.float32).tocsr()
    to_targets = adj[:, lo:hi].tocsr()  # (N, N_t): x's target neighbours
    target_degree = np.asarray(to_targets.sum(1)).ravel()
    # every (target u, neighbour x) pair of a graph edge, either direction, deduplicated
    is_target = (np.arange(n) >= lo) & (np.arange(n) < hi)
    real = src != dst
    u = np.concatenate([src[real & is_target[src]], dst[real & is_target[dst]]])
    x = np.concatenate([dst[real & is_target[src]], src[real & is_target[dst]]])
    pairs = np.unique(np.stack([u, x], 1), axis=0)
    pair_sum = np.zeros(len(pairs), np.float64)
    pair_count = np.zeros(len(pairs), np.float64)
    for start, sim, _ in _blocks(data, block, 0):
        weight = config.weight(sim).astype(np.float32)  # (b, N_t) path weights
        lo_u, hi_u = lo + start, lo + start + len(sim)
        sel = np.arange(*np.searchsorted(pairs[:, 0], [lo_u, hi_u]))  # pairs sort by u
        pu, px = pairs[sel, 0] - lo_u, pairs[sel, 1]
        if config.hops == 2:  # u - x - v for every target neighbour v != u of x
            middle, at = np.unique(px, return_inverse=True)
            through = to_targets[middle] @ weight.T  # (middle nodes, b): sums over their v
            self_weight = weight[np.arange(len(sim)), np.arange(len(sim)) + start]
            pair_sum[sel] += through[at, pu] - self_weight[pu]
            pair_count[sel] += target_degree[px] - 1
        direct = is_target[px]  # u - x itself, x a target
        pair_sum[sel[direct]] += weight[pu[direct], px[direct] - lo]
        pair_count[sel[direct]] += 1
    # an edge {a, b} sums the paths with a as the target end and those with b as the target end
    key = pairs[:, 0].astype(np.int64) * n + pairs[:, 1]
    out_sum, out_count = np.zeros(len(src)), np.zeros(len(src))
    for a, b in ((src, dst), (dst, src)):
        idx = np.searchsorted(key, a.astype(np.int64) * n + b)
        found = real & is_target[a] & (idx < len(key))
        found[found] = key[idx[found]] == a[found].astype(np.int64) * n + b[found]
        out_sum[found] += pair_sum[idx[found]]
        out_count[found] += pair_count[idx[found]]
    # a direct target-target edge was counted from both ends: once is its one path
    both = real & is_target[src] & is_target[dst]
    if both.any():
        out_sum[both] -= config.weight(1.0 - _pair_distance(data, src[both], dst[both]))
        out_count[both] -= 1
    weight = np.where(out_count > 0, out_sum / np.maximum(out_count, 1), 1.0)
    if config.relative:
        weight = _relative(weight, dst, np.asarray(g.graph.edges), real, len(g.edge_types))
    return weight.astype(np.float32)


def _relative(weight, dst, etype, real, num_types):
    """`weight` over the geometric mean of its (receiver, edge type) group; self-loops keep 1."""
    group = np.unique(dst.astype(np.int64) * num_types + etype, return_inverse=True)[1]
    log_w = np.log(np.maximum(weight, _WEIGHT_FLOOR))
    mean = np.bincount(group, log_w) / np.bincount(group)
    return np.where(real, np.exp(log_w - mean[group]), 1.0)


@dataclasses.dataclass(frozen=True)
class AgtConfig:
    """AGT: each target's `top_k` most attribute-similar targets join its context sequence."""

    top_k: int = 10

    def __post_init__(self):
        if self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k}")


@dataclasses.dataclass(frozen=True)
class AGHINTConfig:
    """AGHINT (`AGHINT`): a HINormer Transformer over a local encoder, plus AGM and AGT (None
    switches a module off, for ablations).

    Attributes:
      hinormer: the Transformer, sequence and relation-encoder settings.
      agm: attribute-guided message weighting (`AgmConfig`), or None.
      agt: attribute-similar context nodes (`AgtConfig`), or None.
      local: the local encoder, "gcn" (HINormer's) or "simplehgn" (attention layers).
      gnn_heads, negative_slope, edge_dim, attn_residual: the Simple-HGN local encoder's heads
        per layer, LeakyReLU slope, edge-type embedding width and residual attention weight.
    """

    # flat setting names (`jaxhin.hin.override`): a nested config's fields under its prefix;
    # a module that can be switched off also has its switch (`agm=False`)
    hinormer: HINormerConfig = dataclasses.field(
        default=HINormerConfig(hidden=64, seq_len=30, relation_beta=0.1),
        metadata={"prefix": ""})
    agm: AgmConfig | None = dataclasses.field(default=AgmConfig(),
                                              metadata={"prefix": "agm_", "switch": "agm"})
    agt: AgtConfig | None = dataclasses.field(default=AgtConfig(),
                                              metadata={"prefix": "", "switch": "agt"})
    local: str = "gcn"
    gnn_heads: int = 8
    negative_slope: float = 0.05
    edge_dim: int = 64
    attn_residual: float = 0.05
    name: ClassVar[str] = "aghint"

    def __post_init__(self):
        if self.local not in LOCAL_ENCODERS:
            raise ValueError(f"local={self.local!r}: expected one of {LOCAL_ENCODERS}")
        if self.agm is not None and self.agm.learn_scale and self.local != "simplehgn":
            raise ValueError("agm_learn_scale needs local='simplehgn' (the GCN encoder has no "
                             "attention heads to scale)")


class AGHINT(HINormer):
    """AGHINT: HINormer's Transformer with AGM-weighted local messages and AGT's similar-node
    tokens (module docstring), configured by an `AGHINTConfig`. Its `agm` / `agt` switch each
    module off for ablations; with both off and the GCN local encoder it is HINormer plus a
    (self / structural) token-type embedding.

    Context sequences are [self, `seq_len - 1` structural nodes, `top_k` similar nodes].

    `local` picks the local structure encoder: "gcn" (HINormer's: `gnn_layers` GCN layers; AGM
    enters the messages, the weighted adjacency's normalisation) or "simplehgn" (`gnn_layers`
    Simple-HGN attention layers of `gnn_heads` heads with edge-type embeddings and residual
    attention, then a linear map to `hidden`; AGM enters the attention logits,
    alpha_ij ~ w_ij exp(e_ij)). With `agm_learn_scale` each attention layer and head learns its
    own exponent s = softplus(theta) >= 0 on the weights, alpha_ij ~ w_ij^s exp(e_ij), starting
    at s = 1: training, not a fixed gamma, decides how much disparity each head discounts (down
    to s = 0, no AGM). The optimiser's weight decay acts on theta, pulling s towards log 2.
    """

    config: AGHINTConfig = AGHINTConfig()
    num_edge_types: int = 0

    @property
    def hp(self) -> HINormerConfig:
        return self.config.hinormer

    def attention_encoder(self, g: HeteroGraph, features, log_weight, *, train: bool):
        """(h, r) from Simple-HGN attention layers (`log_weight`: AGM's (E,) log edge weights
        added to the attention logits, or None) and HINormer's relation encoder."""
        h = InputProjection(self.specs, self.hp.hidden)(features)
        alpha = None
        for layer in range(self.hp.gnn_layers):
            bias = log_weight
            if log_weight is not None and self.config.agm.learn_scale:
                # softplus(log(e - 1)) = 1: every head starts at the fixed weights w
                theta = self.param(f"agm_scale_{layer}", nn.initializers.constant(np.log(np.e - 1)),
                                   (self.config.gnn_heads,))
                bias = log_weight[:, None] * jax.nn.softplus(theta)[None]
            h, alpha = AttentionConv(
                self.hp.hidden, self.config.gnn_heads, self.hp.dropout, self.hp.dropout, self.config.negative_slope,
                residual=layer > 0, num_edge_types=self.num_edge_types, edge_dim=self.config.edge_dim,
                beta=self.config.attn_residual, name=f"hgn_{layer}")(
                h, g, alpha, train=train, edge_bias=bias)
            h = h.reshape(g.num_nodes, -1)
        h = nn.Dense(self.hp.hidden, kernel_init=xavier_relu, name="hgn_out")(h)
        return h, self.relation_encoder(g)

    @nn.compact
    def __call__(self, g: HeteroGraph, features, context, nodes, *, train: bool) -> jax.Array:
        weight = context.edge_weight if self.config.agm is not None else None
        if self.config.local == "gcn":
            # AGM: the GCN normalises the weighted adjacency, so a node's messages are
            # reweighted against each other (and against its self-loop), not only scaled
            h, r = self.local_encoder(g, features, sym_norm(g, weight), train=train)
        else:  # "simplehgn": AGHINTConfig admits no other local encoder
            log_weight = None if weight is None else jnp.log(jnp.maximum(weight, _WEIGHT_FLOOR))
            h, r = self.attention_encoder(g, features, log_weight, train=train)
        local = nodes - context.first
        seq = context.sequences[local]
        kinds = [TOKEN_SELF] + [TOKEN_STRUCTURAL] * (seq.shape[1] - 1)
        if self.config.agt is not None:
            seq = jnp.concatenate([seq, context.similar[local]], axis=1)
            kinds += [TOKEN_SIMILAR] * self.config.agt.top_k
        token_type = self.param("token_type", nn.initializers.normal(0.02), (3, self.hp.hidden))
        tokens = h[seq] + token_type[np.asarray(kinds)][None]
        r_tokens = r[seq]
        for layer in range(self.hp.layers):
            tokens = self.transformer(self.hp.hidden, self.hp.heads, self.hp.dropout, self.hp.temperature,
                                      self.hp.relation_beta)(
                tokens, r_tokens, train=train, first_only=layer == self.hp.layers - 1)
        return self.readout(tokens[:, 0])
