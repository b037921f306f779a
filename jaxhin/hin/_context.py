"""What a HIN model reads besides the graph and the features, built once per run on the host.

`build_context(key, data, graph, config)` returns a `HinContext` pytree: HINormer's and
AGHINT's context sequences (drawn from `key`), AGHINT's similar-node lists (AGT) and edge
weights (AGM), HGT's per-layer edge sets. Models take it as an argument; nothing is cached
inside a module. The seed-independent parts (similar nodes, AGM weights, HGT's edges) can be
carried over from an earlier context of the same data and config with `reuse`, as
`jaxhin.hin.run_seeds` does for its seeds.

Example:
  >>> ctx = build_context(jax.random.key(0), data, graph, recipe("aghint", "ACM").model)
  >>> ctx.sequences.shape, ctx.similar.shape      # (N_t, S), (N_t, top_k)
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from jaxhin.data import HgbData
from jaxhin.hin._aghint import agm_edge_weights, similar_nodes
from jaxhin.hin._config import AGHINTConfig, HGTConfig, HINormerConfig, ModelConfig
from jaxhin.hin._graph import HeteroGraph
from jaxhin.hin._hinormer import context_sequences
from jaxhin.hin._models import LayerEdges, layer_edges


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class HinContext:
    """Per-run model inputs; a field a model does not use is None.

    Attributes:
      first: () int32, the first global id of the target type (rows of `sequences` and
        `similar` are target nodes in id order).
      sequences: (N_t, S) int32 context sequences (HINormer, AGHINT).
      similar: (N_t, k) int32 each target's k most attribute-similar targets (AGHINT's AGT).
      edge_weight: (E,) float32 AGM weight of each graph edge (AGHINT's AGM).
      layer_edges: per HGT layer, the edges it needs.
    """

    first: jax.Array | None = None
    sequences: jax.Array | None = None
    similar: jax.Array | None = None
    edge_weight: jax.Array | None = None
    layer_edges: tuple[LayerEdges, ...] | None = None


def build_context(key: jax.Array, data: HgbData, graph: HeteroGraph, config: ModelConfig, *,
                  reuse: HinContext | None = None) -> HinContext:
    """The context `config`'s model reads on `graph` (built from `data`); `key` draws the
    context sequences. `reuse`: an earlier context of the same data, graph and config whose
    seed-independent parts are taken as they are."""
    if isinstance(config, HGTConfig):
        edges = reuse.layer_edges if reuse is not None else tuple(
            layer_edges(graph, config.layers, int(data.target_type)))
        return HinContext(layer_edges=edges)
    if not isinstance(config, HINormerConfig | AGHINTConfig):
        return HinContext()
    hinormer = config.hinormer if isinstance(config, AGHINTConfig) else config
    t = data.target_type
    nodes = np.arange(data.type_offsets[t], data.type_offsets[t + 1])
    context = HinContext(first=jnp.int32(nodes[0]), sequences=jnp.asarray(
        context_sequences(key, graph, nodes, hinormer.seq_len)))
    if not isinstance(config, AGHINTConfig):
        return context
    similar = weight = None
    if config.agt is not None:
        similar = reuse.similar if reuse is not None else jnp.asarray(
            similar_nodes(data, config.agt.top_k))
    if config.agm is not None:
        weight = reuse.edge_weight if reuse is not None else jnp.asarray(
            agm_edge_weights(data, graph, config.agm))
        if weight.shape[0] != graph.num_edges:
            raise ValueError(f"AGM weights for {weight.shape[0]} edges, graph has "
                             f"{graph.num_edges}")
    return dataclasses.replace(context, similar=similar, edge_weight=weight)
