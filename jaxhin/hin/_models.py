"""HGB's baselines (Lv et al., KDD 2021) on typed graphs, in Flax Linen.

Every model maps `(graph, features, context, nodes)` to the logits of `nodes` (global ids of
the target type): `features` per node type as `node_features` builds them, `context` the
`HinContext` pytree that `jaxhin.hin.build_context` builds once per run (HGT's layer edges,
HINormer's node sequences; empty for the others). Message passing is segment ops over the edge list (jraph): no Python
loop over nodes or edges; loops over node or edge *types* are over static type metadata.

- GCN, GAT: HGB's homogeneous baselines (all edge types as one graph, self-loops added).
- RGCN (Schlichtkrull et al., 2018): a weight per relation, mean over each relation.
- Simple-HGN (Lv et al., 2021): GAT with edge-type embeddings in the attention logits, residual
  attention and L2-normalised logits.
- HGT (Hu et al., 2020): type-specific K/Q/V, relation-specific attention and message matrices
  and priors, a learned skip gate per target type.
- HINormer (Mao et al., 2023): in `_hinormer.py`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph
import numpy as np

from jaxhin.data import FeatureSpec
from jaxhin.hin._aggregate import aggregate
from jaxhin.hin._graph import HeteroGraph
from jaxhin.train import ByteDropout

# HGB's reference code initialises every projection with Xavier-normal, gain sqrt(2).
xavier_relu = nn.initializers.variance_scaling(2.0, "fan_avg", "normal")
# The same for its (1, heads, width) attention vectors, with PyTorch's fans for a 3-d tensor
# (fan_in = heads * width, fan_out = width): Flax's default fans (heads, width) would start them
# ~2.8x larger for 8 heads of 64.
xavier_relu_heads = nn.initializers.variance_scaling(2.0, "fan_avg", "normal", in_axis=1,
                                                     out_axis=0)


@dataclasses.dataclass(frozen=True)
class GCNConfig:
    """HGB's GCN (`GCN`): `layers` GraphConv layers of width `hidden`, dropout `dropout`."""

    hidden: int = 64
    layers: int = 2
    dropout: float = 0.5
    name: ClassVar[str] = "gcn"

    def __post_init__(self):  # every config of this family: sizes that make a model
        if self.hidden < 1 or self.layers < 0 or not 0 <= self.dropout < 1:
            raise ValueError(f"{self.name}: expected hidden >= 1, layers >= 0 and dropout in "
                             f"[0, 1), got hidden={self.hidden}, layers={self.layers}, "
                             f"dropout={self.dropout}")


@dataclasses.dataclass(frozen=True)
class RGCNConfig(GCNConfig):
    """R-GCN (`RGCN`): `layers` relational layers of width `hidden`."""

    name: ClassVar[str] = "rgcn"


@dataclasses.dataclass(frozen=True)
class GATConfig(GCNConfig):
    """HGB's GAT (`GAT`): `layers` attention layers of `heads` x `hidden`; `negative_slope` is
    the attention LeakyReLU's.

    `attn_residual` mixes each layer's attention with the previous layer's (Simple-HGN's
    residual attention, its beta). HGB's GAT has none (0); jaxhin's recorded GAT rows ran with
    0.05, which the one config once shared by all models handed GAT unnoticed, so that is the
    default here, where it can be seen and set (`--attn-residual 0`), until those rows are rerun.
    """

    heads: int = 8
    negative_slope: float = 0.05
    attn_residual: float = 0.05
    name: ClassVar[str] = "gat"


@dataclasses.dataclass(frozen=True)
class SimpleHGNConfig(GATConfig):
    """Simple-HGN (Lv et al., 2021; `GAT` with this config): GAT with edge-type embeddings of
    width `edge_dim` in the attention logits, residual connections, residual attention of weight
    `attn_residual` (its beta) and L2-normalised logits."""

    edge_dim: int = 64
    name: ClassVar[str] = "simplehgn"


@dataclasses.dataclass(frozen=True)
class HGTConfig(GCNConfig):
    """HGT (`HGT`): `layers` HGT layers of `heads` x `hidden`; `layer_norm` is HGB's `use_norm`
    (per-type LayerNorm after each layer)."""

    heads: int = 8
    dropout: float = 0.2
    layer_norm: bool = False
    name: ClassVar[str] = "hgt"


class InputProjection(nn.Module):
    """Project every node type into a common width: h_v = x_v W_{type(v)} + b_{type(v)}.

    "given" types use their attributes (dense or BCOO), "embedding" types a learned table (HGB's
    identity features, without the identity matrix), "zeros" types only a bias.
    """

    specs: tuple[FeatureSpec, ...]
    width: int

    @nn.compact
    def __call__(self, features: Sequence) -> jax.Array:
        parts = []
        for t, (spec, x) in enumerate(zip(self.specs, features, strict=True)):
            bias = self.param(f"bias_{t}", nn.initializers.zeros, (1, self.width))
            if spec.kind == "given":
                kernel = self.param(f"kernel_{t}", xavier_relu, (spec.dim, self.width))
                parts.append(x @ kernel + bias)  # BCOO @ dense stays sparse-dense
            elif spec.kind == "embedding":
                # an identity row times W is W's row: a table initialised like W
                table = self.param(f"embed_{t}", xavier_relu, (spec.dim, self.width))
                parts.append(table + bias)
            else:  # a zero vector times W is zero: only the bias remains
                parts.append(jnp.broadcast_to(bias, (spec.count, self.width)))
        return jnp.concatenate(parts, axis=0)


def sym_norm(g: HeteroGraph, weight: jax.Array | None = None) -> jax.Array:
    """(E,) D^-1/2 A D^-1/2 coefficients of the graph's edges (in-degree on both ends, which
    is the degree for the symmetric graphs HGB's GCN uses); with (E,) edge weights, those of
    the weighted adjacency (A_uv = weight, D its weighted in-degree)."""
    n, src, dst = g.num_nodes, g.graph.senders, g.graph.receivers
    if weight is None:
        degree = jraph.segment_sum(jnp.ones_like(dst, jnp.float32), dst, n)
        norm = jax.lax.rsqrt(jnp.maximum(degree, 1.0))
        return norm[src] * norm[dst]
    norm = jax.lax.rsqrt(jnp.maximum(jraph.segment_sum(weight, dst, n), 1e-12))
    return weight * norm[src] * norm[dst]


def needed_types(g: HeteroGraph, depth: int, target_type: int | None) -> list[set[int]]:
    """needed[l]: the node types whose layer-l output (of `depth` message-passing layers) the
    logits of `target_type` depend on; every type at every layer if `target_type` is None.

    The last layer needs only the target type; each layer before it also the source types of
    the relations into what the next one needs (a layer's own type feeds it through the
    root/skip term, so the sets only grow going back).
    """
    num_types = len(g.node_types)
    needed = [set(range(num_types)) if target_type is None else {target_type}]
    for _ in range(depth - 1):
        later = needed[0]
        needed.insert(0, later | {s for _, s, t in g.edge_types if t in later})
    return needed


class GCN(nn.Module):
    """HGB's GCN: a weightless propagation after the input projection, `layers - 1` hidden
    GraphConv layers, an output GraphConv; h' = act(D^-1/2 (A + I) D^-1/2 h W + b)."""

    specs: tuple[FeatureSpec, ...]
    num_classes: int
    config: GCNConfig = GCNConfig()
    self_loops: ClassVar[bool] = True

    @nn.compact
    def __call__(self, g: HeteroGraph, features, context, nodes, *, train: bool) -> jax.Array:
        h = InputProjection(self.specs, self.config.hidden)(features)
        n, src, dst = g.num_nodes, g.graph.senders, g.graph.receivers
        coef = sym_norm(g)
        for layer in range(self.config.layers + 1):
            if layer > 0:
                h = nn.Dropout(self.config.dropout, deterministic=not train)(h)
                width = self.num_classes if layer == self.config.layers else self.config.hidden
                h = nn.Dense(width, kernel_init=nn.initializers.glorot_uniform())(h)
            h = aggregate(h, coef, src, dst, n, src_order=g.sender_order)
            if layer < self.config.layers:
                h = nn.elu(h)
        return h[nodes]


class AttentionConv(nn.Module):
    """GAT attention (Velickovic et al., 2018) with Simple-HGN's extensions (Lv et al., 2021):

        e_ij = LeakyReLU(a^T [W h_i || W h_j || W_r r_{type(ij)}]),  alpha = softmax_j(e),
        alpha <- (1 - beta) alpha + beta alpha_prev   (residual attention),
        h_i' = act(sum_j alpha_ij W h_j + res(h_i)).

    `num_edge_types` = 0 drops the edge-type term (plain GAT). An (E,) or (E, heads) `edge_bias`
    is added to the logits after the LeakyReLU (AGHINT's AGM passes log weights:
    alpha_ij ~ w_ij exp(e_ij)).
    Returns (out (N, heads, width), alpha (E, heads) without gradient, for the next layer's
    residual attention). Dropout masks are byte-granular (`ByteDropout`): with threefry's word
    per element, the (E, heads) attention mask made a GAT step on ACM 27% slower (992 against
    779 ms, 2 CPU cores).
    """

    width: int
    heads: int
    feat_drop: float
    attn_drop: float
    negative_slope: float = 0.05
    residual: bool = False
    activation: Callable | None = nn.elu
    num_edge_types: int = 0
    edge_dim: int = 64
    beta: float = 0.0

    @nn.compact
    def __call__(self, h, g: HeteroGraph, prev_alpha=None, *, train: bool, edge_bias=None):
        n, src, dst = g.num_nodes, g.graph.senders, g.graph.receivers
        h = ByteDropout(self.feat_drop, deterministic=not train)(h)
        z = nn.Dense(self.heads * self.width, use_bias=False, kernel_init=xavier_relu)(h)
        z = z.reshape(n, self.heads, self.width)
        a_src = self.param("attn_src", xavier_relu_heads, (1, self.heads, self.width))
        a_dst = self.param("attn_dst", xavier_relu_heads, (1, self.heads, self.width))
        logits = (z * a_src).sum(-1)[src] + (z * a_dst).sum(-1)[dst]
        if self.num_edge_types:
            emb = self.param("edge_emb", nn.initializers.normal(1.0),
                             (self.num_edge_types, self.edge_dim))
            r = nn.Dense(self.heads * self.edge_dim, use_bias=False, kernel_init=xavier_relu,
                         name="edge_fc")(emb).reshape(-1, self.heads, self.edge_dim)
            a_edge = self.param("attn_edge", xavier_relu_heads, (1, self.heads, self.edge_dim))
            logits = logits + (r * a_edge).sum(-1)[g.graph.edges]
        logits = nn.leaky_relu(logits, self.negative_slope)
        if edge_bias is not None:
            logits = logits + (edge_bias[:, None] if edge_bias.ndim == 1 else edge_bias)
        alpha = jraph.segment_softmax(logits, dst, n)
        alpha = ByteDropout(self.attn_drop, deterministic=not train)(alpha)
        if prev_alpha is not None and self.beta:
            alpha = (1.0 - self.beta) * alpha + self.beta * prev_alpha
        out = aggregate(z, alpha, src, dst, n, src_order=g.sender_order)
        if self.residual:
            res = h if h.shape[-1] == self.heads * self.width else nn.Dense(
                self.heads * self.width, use_bias=False, kernel_init=xavier_relu,
                name="res_fc")(h)
            out = out + res.reshape(out.shape)
        if self.activation is not None:
            out = self.activation(out)
        return out, jax.lax.stop_gradient(alpha)


class GAT(nn.Module):
    """HGB's GAT: `layers` attention layers (heads concatenated, the first without residual),
    then a 1-head output layer; logits are its head mean.

    With a `SimpleHGNConfig` it is Simple-HGN: a learned embedding per edge type in the logits
    (`num_edge_types` of them), residual connections, attention residual across layers
    (`attn_residual`, Simple-HGN's beta) and L2-normalised logits.
    """

    specs: tuple[FeatureSpec, ...]
    num_classes: int
    config: GATConfig = GATConfig()
    num_edge_types: int = 0
    self_loops: ClassVar[bool] = True

    @nn.compact
    def __call__(self, g: HeteroGraph, features, context, nodes, *, train: bool) -> jax.Array:
        c = self.config
        simple = isinstance(c, SimpleHGNConfig)
        h = InputProjection(self.specs, c.hidden)(features)
        n = g.num_nodes
        common = {"feat_drop": c.dropout, "attn_drop": c.dropout,
                  "negative_slope": c.negative_slope, "edge_dim": c.edge_dim if simple else 64,
                  "num_edge_types": self.num_edge_types if simple else 0,
                  "beta": c.attn_residual}
        alpha = None
        for layer in range(c.layers):
            h, alpha = AttentionConv(c.hidden, c.heads, residual=simple and layer > 0,
                                     **common)(h, g, alpha, train=train)
            h = h.reshape(n, -1)
        out, _ = AttentionConv(self.num_classes, 1, residual=simple, activation=None,
                               **common)(h, g, None, train=train)  # 1 head: no residual attention
        logits = out.mean(1)[nodes]
        if simple:
            logits = logits / jnp.maximum(jnp.linalg.norm(logits, axis=-1, keepdims=True), 1e-12)
        return logits


class RGCN(nn.Module):
    """R-GCN: h_i' = act(W_0 h_i + sum_r sum_{j in N_r(i)} 1/|N_r(i)| W_r h_j).

    Per layer and target type, the incoming edges are one contiguous slice (edges are sorted by
    target). A relation's messages are averaged per target and then transformed once, so the
    per-edge work is a d-wide gather, not a matmul; where the layer narrows (the output layer)
    the sources are transformed first and the gather is output-wide. With `target_type` set,
    only what the logits of that type depend on is computed: the output layer sums only the
    relations into the target type, the layer before it only those into the types that feeds
    from, and so on back to the input (the same logits and gradients, less work; DGL's message
    flow graphs do the same per node). Dropout masks are byte-granular (`ByteDropout`).
    """

    specs: tuple[FeatureSpec, ...]
    num_classes: int
    num_edge_types: int
    config: RGCNConfig = RGCNConfig()
    target_type: int | None = None
    self_loops: ClassVar[bool] = False

    @nn.compact
    def __call__(self, g: HeteroGraph, features, context, nodes, *, train: bool) -> jax.Array:
        off, num_types = g.type_offsets, len(g.node_types)
        rel_source = [s for _, s, _ in g.edge_types]
        rel_target = [t for _, _, t in g.edge_types]
        if min(rel_target) < 0:
            raise ValueError("RGCN needs typed relations; build the graph without self-loops")
        if g.target_offsets is None:
            raise ValueError("RGCN needs the edges sorted by target (jaxhin.hin.from_hgb)")
        needed = needed_types(g, self.config.layers + 1, self.target_type)
        h = InputProjection(self.specs, self.config.hidden)(features)
        # per target type with incoming edges: its relations and edge slice, the same every layer
        incoming = {}
        for t in range(num_types):
            rels = [e for e in range(len(rel_target)) if rel_target[e] == t]
            if rels and g.target_offsets[t + 1] > g.target_offsets[t]:
                incoming[t] = self._edges(g, t, rels)
        for layer in range(self.config.layers + 1):
            last = layer == self.config.layers
            width = self.num_classes if last else self.config.hidden
            h = ByteDropout(self.config.dropout, deterministic=not train)(h) if layer else h
            w = self.param(f"w_rel_{layer}", xavier_relu, (self.num_edge_types, h.shape[-1],
                                                           width))
            root = nn.Dense(width, kernel_init=xavier_relu, name=f"w_self_{layer}")
            parts = []
            for t in range(num_types):
                if t not in needed[layer]:
                    parts.append(jnp.zeros((off[t + 1] - off[t], width)))
                    continue
                out = root(h[off[t]:off[t + 1]])
                if t in incoming:
                    out = out + self._relations(h, w, incoming[t], off, rel_source)
                parts.append(out)
            h = jnp.concatenate(parts)
            if not last:
                h = nn.elu(h)
        return h[nodes]

    @staticmethod
    def _edges(g: HeteroGraph, t: int, rels: list[int]) -> dict:
        """Type t's incoming edge slice: sources, local targets, each edge's (relation, target)
        segment and 1 / that segment's size (R-GCN's per-relation mean)."""
        a, b = g.target_offsets[t], g.target_offsets[t + 1]
        n_target = g.type_offsets[t + 1] - g.type_offsets[t]
        slot = np.zeros(len(g.edge_types), np.int32)
        slot[rels] = np.arange(len(rels))
        slot = jnp.asarray(slot)[g.graph.edges[a:b]]  # the relation's position among `rels`
        local_dst = g.graph.receivers[a:b] - g.type_offsets[t]
        segment = slot * n_target + local_dst
        count = jraph.segment_sum(jnp.ones_like(segment, jnp.float32), segment,
                                  len(rels) * n_target)
        return {"rels": rels, "n_target": n_target, "src": g.graph.senders[a:b],
                "local_dst": local_dst, "slot": slot, "segment": segment,
                "inv": (1.0 / jnp.maximum(count, 1.0))[segment],
                "order": g.slice_sender_order[a:b]}

    @staticmethod
    def _relations(h, w, edges: dict, off, rel_source):
        """sum over a target type's relations of the per-relation mean of W_r h_src."""
        rels, n_target, src = edges["rels"], edges["n_target"], edges["src"]
        if w.shape[2] < w.shape[1]:  # narrowing: transform each relation's sources first
            sizes = [off[rel_source[e] + 1] - off[rel_source[e]] for e in rels]
            starts = np.concatenate([[0], np.cumsum(sizes)])
            z = jnp.concatenate([h[off[rel_source[e]]:off[rel_source[e] + 1]] @ w[e]
                                 for e in rels])
            shift = jnp.asarray([starts[i] - off[rel_source[e]] for i, e in enumerate(rels)],
                                jnp.int32)
            return aggregate(z, edges["inv"], shift[edges["slot"]] + src, edges["local_dst"],
                             n_target, src_order=edges["order"])
        mean = aggregate(h, edges["inv"], src, edges["segment"], len(rels) * n_target,
                         src_order=edges["order"])
        return sum(mean[i * n_target:(i + 1) * n_target] @ w[e] for i, e in enumerate(rels))


class HGTLayer(nn.Module):
    """One HGT layer (Hu et al., WWW 2020), per head:

        ATT(s, e, t) = (K_{tau(s)} h_s W^ATT_{phi(e)}) . (Q_{tau(t)} h_t) mu_{phi(e)} / sqrt(d),
        MSG(s, e, t) = V_{tau(s)} h_s W^MSG_{phi(e)},
        H_t = mean_r sum_{s in N_r(t)} softmax_{s in N_r(t)}(ATT) MSG   (as HGB's DGL HGT),
        h_t' = sigma(skip_{tau(t)}) A_{tau(t)}(GELU(H_t)) + (1 - sigma) h_t,
        then LayerNorm per type if `layer_norm` (HGB's `use_norm`).

    Types own contiguous id ranges, so K/Q/V/A are per-range Dense layers; W^ATT, W^MSG are
    applied once per (relation, source node), then gathered per edge. The per-edge work runs
    over the edges in `edges` (`layer_edges`): all of them, or only those into the types whose
    output is needed; the other types' rows are then computed with H = 0, and no later layer
    or logit reads them. Dropout masks are byte-granular (`ByteDropout`).
    """

    width: int
    heads: int
    dropout: float
    layer_norm: bool = True

    @nn.compact
    def __call__(self, h, g: HeteroGraph, edges: LayerEdges, *, train: bool):
        """`edges`: the edges to use (`LayerEdges`: each edge's source row in the relation
        stack, receiver, type, and the permutation sorting the rows)."""
        n, d = g.num_nodes, self.width // self.heads
        off = g.type_offsets
        types = range(len(g.node_types))

        def per_type(name):
            return jnp.concatenate([nn.Dense(self.width, name=f"{name}_{t}")(h[off[t]:off[t + 1]])
                                    for t in types]).reshape(n, self.heads, d)

        k, q, v = per_type("k"), per_type("q"), per_type("v")
        rels = [(e, s) for e, (_, s, _) in enumerate(g.edge_types)]
        w_att = self.param("w_att", nn.initializers.glorot_uniform(in_axis=-2, out_axis=-1),
                           (len(rels), self.heads, d, d))
        w_msg = self.param("w_msg", nn.initializers.glorot_uniform(in_axis=-2, out_axis=-1),
                           (len(rels), self.heads, d, d))
        mu = self.param("mu", nn.initializers.ones, (len(rels), self.heads))
        # keys and messages of each relation's source nodes, stacked relation by relation
        k_rel = jnp.concatenate([jnp.einsum("nhd,hde->nhe", k[off[s]:off[s + 1]], w_att[e])
                                 for e, s in rels])
        v_rel = jnp.concatenate([jnp.einsum("nhd,hde->nhe", v[off[s]:off[s + 1]], w_msg[e])
                                 for e, s in rels])
        row, dst, etype = edges.row, edges.dst, edges.etype
        logits = (k_rel[row] * q[dst]).sum(-1) * mu[etype] / math.sqrt(d)
        # as HGB's (DGL's) HGT: softmax over each relation's edges into a node, then the mean
        # over the relations that end at the node's type
        alpha = jraph.segment_softmax(logits, etype * n + dst, len(rels) * n)
        alpha = ByteDropout(self.dropout, deterministic=not train)(alpha)
        incoming = np.bincount([t for _, _, t in g.edge_types], minlength=len(g.node_types))
        per_type = jnp.asarray(1.0 / np.maximum(incoming, 1), jnp.float32)[g.node_type]
        agg = aggregate(v_rel, alpha, row, dst, n, src_order=edges.order)
        agg = jax.nn.gelu(agg * per_type[:, None, None]).reshape(n, -1)
        out = jnp.concatenate([nn.Dense(self.width, name=f"a_{t}")(agg[off[t]:off[t + 1]])
                               for t in types])
        out = ByteDropout(self.dropout, deterministic=not train)(out)
        skip = self.param("skip", nn.initializers.ones, (len(g.node_types),))
        gate = jax.nn.sigmoid(skip)[g.node_type][:, None]
        out = gate * out + (1.0 - gate) * h
        if not self.layer_norm:
            return out
        return jnp.concatenate([nn.LayerNorm(name=f"norm_{t}")(out[off[t]:off[t + 1]])
                                for t in types])


class HGT(nn.Module):
    """HGB's HGT: GELU input projection, `layers` HGT layers (per-type LayerNorm after the skip
    gate, as DGL's reference HGT), a linear classifier.

    With `target_type` set, each layer's per-edge work (attention, softmax, messages) covers
    only the edges into the types whose output the target type's logits depend on
    (`needed_types`), as RGCN does: the same logits and gradients, less work. On DBLP the last
    layer then reads the 19,645 paper-author edges instead of all 239,566.
    """

    self_loops: ClassVar[bool] = False  # its relations are typed: no self-loop type
    specs: tuple[FeatureSpec, ...]
    num_classes: int
    config: HGTConfig = HGTConfig()
    target_type: int | None = None

    @nn.compact
    def __call__(self, g: HeteroGraph, features, context, nodes, *, train: bool) -> jax.Array:
        h = nn.gelu(InputProjection(self.specs, self.config.hidden)(features))
        h = ByteDropout(self.config.dropout, deterministic=not train)(h)
        for layer in range(self.config.layers):
            h = HGTLayer(self.config.hidden, self.config.heads, self.config.dropout, self.config.layer_norm)(
                h, g, context.layer_edges[layer], train=train)
        return nn.Dense(self.num_classes)(h[nodes])


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class LayerEdges:
    """The edges one HGT layer works on (all, or those into the types it must compute).

    Attributes:
      row: (E',) int32 each edge's row in the layer's per-relation stack of source keys and
        messages (`relation_rows`).
      dst: (E',) int32 receivers.
      etype: (E',) int32 edge types.
      order: (E',) int32 permutation ordering the edges by `row`.
    """

    row: jax.Array
    dst: jax.Array
    etype: jax.Array
    order: jax.Array


def layer_edges(g: HeteroGraph, layers: int, target_type: int | None = None
                ) -> list[LayerEdges]:
    """Per HGT layer, the edges it needs (see `HGT`)."""
    row = np.asarray(relation_rows(g))
    dst, etype = np.asarray(g.graph.receivers), np.asarray(g.graph.edges)
    if target_type is not None and g.target_offsets is None:
        raise ValueError("HGT with a target type needs the edges sorted by target "
                         "(jaxhin.hin.from_hgb)")
    needed = [frozenset(types) for types in needed_types(g, layers, target_type)]
    built: dict[frozenset, LayerEdges] = {}  # layers that need the same types share one set
    for types in dict.fromkeys(needed):
        if len(types) == len(g.node_types):
            keep = np.arange(len(row))
        else:
            to = g.target_offsets
            keep = np.concatenate([np.arange(to[t], to[t + 1]) for t in sorted(types)])
        built[types] = LayerEdges(jnp.asarray(row[keep], jnp.int32),
                                  jnp.asarray(dst[keep], jnp.int32),
                                  jnp.asarray(etype[keep], jnp.int32),
                                  jnp.asarray(np.argsort(row[keep], kind="stable"), jnp.int32))
    return [built[types] for types in needed]


def relation_rows(g: HeteroGraph) -> jax.Array:
    """(E,) each edge's row in HGT's per-relation stack of source-node keys/messages."""
    off = np.asarray(g.type_offsets)
    src, etype = np.asarray(g.graph.senders), np.asarray(g.graph.edges)
    starts, total = [], 0
    for _, s, _ in g.edge_types:
        if s < 0:
            raise ValueError("HGT needs typed relations; build the graph without self-loops")
        starts.append(total - off[s])
        total += off[s + 1] - off[s]
    return jnp.asarray(np.asarray(starts)[etype] + src, jnp.int32)
