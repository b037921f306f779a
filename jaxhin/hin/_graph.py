"""Typed (heterogeneous) graphs on `jraph.GraphsTuple`.

Nodes are numbered contiguously per type; `graph.edges` holds each edge's type id, so segment
ops over `graph.receivers` do message passing for all types at once and per-type parameters
are gathered by edge type. Self-loops and reverse edges are added as HGB models build them:
self-loops as one extra edge type, reverses as new types "rev:<name>" for link types whose
reverse the dataset does not already contain.
"""

from __future__ import annotations

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import jraph
import numpy as np
from jax.experimental import sparse

from jaxhin.data import FeatureSpec, HgbData, feature_specs


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class HeteroGraph:
    """A typed graph. Arrays are leaves; type metadata is static.

    Attributes:
      graph: `jraph.GraphsTuple` with `edges` = (E,) int32 edge type, `nodes` = None.
      node_type: (N,) int32 type of each node.
      edge_weight: (E,) float32.
      sender_order: (E,) int32 permutation ordering the edges by sender (for the transposed
        message sum of gradients; see `jaxhin.hin._aggregate`).
      node_types: type names (T).
      edge_types: per edge type, (name, source type, target type).
      type_offsets: (T + 1) first node id of each type, then N.
      slice_sender_order: (E,) int32, when `target_offsets` is set: within each target type's
        slice, the local permutation ordering that slice's edges by sender.
      target_offsets: (T + 1) first edge whose target has each type, then E, when the edges are
        sorted by target (`sort_by_target`, which `from_hgb` applies); else None. The edges
        into type t are then the contiguous slice [target_offsets[t], target_offsets[t + 1]).
    """

    graph: jraph.GraphsTuple
    node_type: jax.Array
    edge_weight: jax.Array
    sender_order: jax.Array
    node_types: tuple[str, ...] = dataclasses.field(metadata={"static": True})
    edge_types: tuple[tuple[str, int, int], ...] = dataclasses.field(metadata={"static": True})
    type_offsets: tuple[int, ...] = dataclasses.field(metadata={"static": True})
    slice_sender_order: jax.Array | None = None
    target_offsets: tuple[int, ...] | None = dataclasses.field(default=None,
                                                               metadata={"static": True})

    @property
    def num_nodes(self) -> int:
        return self.type_offsets[-1]

    @property
    def num_edges(self) -> int:
        return int(self.graph.senders.shape[0])

    def __repr__(self) -> str:
        return (f"HeteroGraph(N={self.num_nodes} in {len(self.node_types)} types, "
                f"E={self.num_edges} in {len(self.edge_types)} edge types)")


def _make(src, dst, etype, weight, node_type, node_types, edge_types, offsets,
          target_offsets=None) -> HeteroGraph:
    n, e = int(offsets[-1]), len(src)
    graph = jraph.GraphsTuple(nodes=None, edges=jnp.asarray(etype, jnp.int32),
                              senders=jnp.asarray(src, jnp.int32),
                              receivers=jnp.asarray(dst, jnp.int32),
                              n_node=jnp.asarray([n]), n_edge=jnp.asarray([e]), globals=None)
    order = np.argsort(np.asarray(src), kind="stable")
    slice_order = None
    if target_offsets is not None:
        slice_order = np.concatenate([np.argsort(np.asarray(src)[a:b], kind="stable")
                                      for a, b in itertools.pairwise(target_offsets)])
        slice_order = jnp.asarray(slice_order, jnp.int32)
        target_offsets = tuple(int(o) for o in target_offsets)
    return HeteroGraph(graph, jnp.asarray(node_type, jnp.int32), jnp.asarray(weight, jnp.float32),
                       jnp.asarray(order, jnp.int32), tuple(node_types),
                       tuple(tuple(t) for t in edge_types), tuple(int(o) for o in offsets),
                       slice_order, target_offsets)


def from_hgb(data: HgbData, *, reverse: bool = True, self_loops: bool = True) -> HeteroGraph:
    """Build the typed graph of an HGB dataset, with reverse edges and self-loops if asked."""
    offsets = np.asarray(data.type_offsets)
    node_type = np.repeat(np.arange(len(data.node_types)), np.diff(offsets))
    g = _make(data.src, data.dst, data.edge_type, data.weight, node_type, data.node_types,
              data.edge_types, offsets)
    if reverse:
        g = add_reverse_edges(g)
    if self_loops:
        g = add_self_loops(g)
    return sort_by_target(g)


def sort_by_target(g: HeteroGraph) -> HeteroGraph:
    """The same graph with edges ordered by (target, source): message sums then write each
    output row from one contiguous run of edges."""
    src, dst = np.asarray(g.graph.senders), np.asarray(g.graph.receivers)
    order = np.lexsort((src, dst))
    return _make(src[order], dst[order], np.asarray(g.graph.edges)[order],
                 np.asarray(g.edge_weight)[order], np.asarray(g.node_type), g.node_types,
                 g.edge_types, g.type_offsets,
                 np.searchsorted(dst[order], np.asarray(g.type_offsets), side="left"))


def add_reverse_edges(g: HeteroGraph) -> HeteroGraph:
    """Add "rev:<name>" edge types for link types with no declared reverse (host-side)."""
    src, dst = np.asarray(g.graph.senders), np.asarray(g.graph.receivers)
    etype, weight = np.asarray(g.graph.edges), np.asarray(g.edge_weight)
    edge_types = list(g.edge_types)
    new = [(src, dst, etype, weight)]
    for e, (name, s, t) in enumerate(g.edge_types):
        if any((s2, t2) == (t, s) for e2, (_, s2, t2) in enumerate(g.edge_types) if e2 != e):
            continue  # another link type already is the reverse (paper-author, cite/ref)
        mask = etype == e
        new.append((dst[mask], src[mask], np.full(mask.sum(), len(edge_types)), weight[mask]))
        edge_types.append((f"rev:{name}", t, s))
    src, dst, etype, weight = (np.concatenate(parts) for parts in zip(*new, strict=True))
    return _make(src, dst, etype, weight, np.asarray(g.node_type), g.node_types, edge_types,
                 g.type_offsets)


def add_self_loops(g: HeteroGraph) -> HeteroGraph:
    """Add one self-loop per node as a new edge type "self" (Simple-HGN's convention)."""
    n = g.num_nodes
    loop = np.arange(n)
    edge_types = [*g.edge_types, ("self", -1, -1)]
    return _make(np.concatenate([np.asarray(g.graph.senders), loop]),
                 np.concatenate([np.asarray(g.graph.receivers), loop]),
                 np.concatenate([np.asarray(g.graph.edges), np.full(n, len(g.edge_types))]),
                 np.concatenate([np.asarray(g.edge_weight), np.ones(n, np.float32)]),
                 np.asarray(g.node_type), g.node_types, edge_types, g.type_offsets)


def node_features(data: HgbData, feats_type: int = 0, *, sparse_above: int = 1_000_000
                  ) -> tuple[tuple[FeatureSpec, ...], tuple]:
    """Per-type model inputs under HGB's `feats_type`.

    Returns:
      `(specs, features)`: for a "given" type a dense float32 array, or a
      `jax.experimental.sparse.BCOO` when it has more than `sparse_above` entries (DBLP's
      14,328 x 4,231 paper bag-of-words); None for "embedding" and "zeros" types, which the
      model builds (a learned table, never an identity matrix).
    """
    specs = feature_specs(data, feats_type)
    out = []
    for t, spec in enumerate(specs):
        if spec.kind != "given":
            out.append(None)
            continue
        n, dim = data.type_count(t), data.dims[t]
        if n * dim > sparse_above:
            values, indices, indptr = data.features[t]
            rows = np.repeat(np.arange(n), np.diff(indptr))
            out.append(sparse.BCOO((jnp.asarray(values), jnp.asarray(
                np.stack([rows, indices], 1), jnp.int32)), shape=(n, dim)))
        else:
            out.append(jnp.asarray(data.dense(t)))
    return specs, tuple(out)
