"""The GPT trained under data x tensor (x pipeline) parallelism declared with SBP placements.

Parameters carry `NamedSharding`s derived from Megatron's SBP placements (`megatron_sbp`) on a
("data", "model") mesh; `jit` partitions each step. The pipeline variant splits the layers into
stages on disjoint sub-meshes driven by `jaxhin.sbp`'s actor runtime
(`jaxhin.sbp.pipeline_value_and_grad`). Meshes and shardings come from `jaxhin.sbp`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding  # types only: jaxhin.sbp builds them

from jaxhin.ptm._gpt import ModelConfig, gpt, gpt_block, gpt_params
from jaxhin.sbp import (
    B,
    NdSbp,
    S,
    Split,
    Stage,
    Timeline,
    cross_entropy,
    embedding,
    layernorm,
    make_mesh,
    matmul,
    mean,
    pipeline_value_and_grad,
    plan,
    put_from_host,
    to_named_sharding,
    trace_graph,
)

TINY = ModelConfig(batch=32, seq=16, width=32, heads=4, hidden=128, vocab=64, layers=4)


def megatron_sbp(name: str) -> NdSbp:
    """Megatron-LM's placement of a GPT parameter on a ("data", "model") mesh: replicated over
    data; attention split by heads, MLP by columns then rows, vocabulary split in the
    embedding and the output layer; LayerNorm replicated."""
    model_axis = {"w_qkv": S(2), "w_o": S(0), "w1": S(1), "w2": S(0), "wte": S(0),
                  "w_out": S(1)}.get(name, B)
    return (B, model_axis)


def _leaf_name(path) -> str:
    return next(k.key for k in reversed(path) if isinstance(k, jax.tree_util.DictKey))


def param_shardings(params, mesh: Mesh):
    """`NamedSharding`s of a GPT parameter pytree from `megatron_sbp`, by leaf name."""
    return jax.tree_util.tree_map_with_path(
        lambda path, leaf: to_named_sharding(megatron_sbp(_leaf_name(path)), mesh,
                                             len(leaf.shape)), params)


_BATCH = (S(0), B)  # the batch is split over "data", replicated over "model"


def batch_sharding(mesh: Mesh, ndim: int) -> NamedSharding:
    """The batch's `NamedSharding`: split over "data", replicated over "model"."""
    return to_named_sharding(_BATCH, mesh, ndim)


def synthetic_tokens(key, cfg: ModelConfig) -> tuple[jax.Array, jax.Array]:
    """A learnable token stream: each sequence counts up from a random start (mod V)."""
    start = jax.random.randint(key, (cfg.batch, 1), 0, cfg.vocab)
    ids = (start + jnp.arange(cfg.seq + 1)[None, :]) % cfg.vocab
    return ids[:, :-1].astype(jnp.int32), ids[:, 1:].astype(jnp.int32)


def reference_value_and_grad(params, ids, labels):
    """Loss and gradients on one device, the unparallelised reference."""
    device = jax.devices()[0]  # committed inputs pin the computation to this device
    return jax.jit(jax.value_and_grad(gpt))(*jax.device_put((params, ids, labels), device))


# ----------------------------------------------------------------------------- pipeline


def _first(params, ids):
    x = embedding(params["wte"], ids)
    for block in params["blocks"]:
        x = gpt_block(block, x)
    return x


def _middle(params, x):
    for block in params["blocks"]:
        x = gpt_block(block, x)
    return x


def _last(params, x, labels):
    for block in params["blocks"]:
        x = gpt_block(block, x)
    x = layernorm(x, params["lnf_scale"], params["lnf_bias"])
    return mean(cross_entropy(matmul(x, params["w_out"]), labels))


def split_stages(params: dict, stages: int) -> list[dict]:
    """Split GPT parameters into `stages` contiguous groups of blocks."""
    layers = len(params["blocks"])
    if not 1 <= stages <= layers:
        raise ValueError(f"cannot split {layers} layers into {stages} stages")
    bounds = np.linspace(0, layers, stages + 1).round().astype(int)
    parts = [{"blocks": params["blocks"][a:b]} for a, b in itertools.pairwise(bounds)]
    parts[0]["wte"] = params["wte"]
    parts[-1].update(lnf_scale=params["lnf_scale"], lnf_bias=params["lnf_bias"],
                     w_out=params["w_out"])
    return parts


def merge_stages(parts: Sequence[dict]) -> dict:
    """Inverse of `split_stages`."""
    merged = {"blocks": [b for p in parts for b in p["blocks"]], "wte": parts[0]["wte"]}
    merged.update({k: parts[-1][k] for k in ("lnf_scale", "lnf_bias", "w_out")})
    return merged


def stage_meshes(stages: int, microbatch: int, devices: Sequence[jax.Device] | None = None
                 ) -> list[Mesh]:
    """Disjoint ("data", "model") sub-meshes, one per stage, over `devices` (default: all).

    Each stage gets `len(devices) // stages` devices: "model" is 2 where that is even, "data"
    the rest as far as it divides the microbatch (devices that do not fit stay idle). With
    fewer devices than stages the stages share devices round-robin (a logical pipeline).
    """
    devices = list(jax.devices() if devices is None else devices)
    per = len(devices) // stages
    if per == 0:
        return [make_mesh({"data": 1, "model": 1}, [devices[s % len(devices)]])
                for s in range(stages)]
    model = 2 if per % 2 == 0 else 1
    data = math.gcd(per // model, microbatch)
    return [make_mesh({"data": data, "model": model}, devices[s * per:s * per + data * model])
            for s in range(stages)]


@dataclasses.dataclass(frozen=True)
class PipelineResult:
    """Loss and gradients of one pipelined step and their distance to one device."""

    loss: float
    reference_loss: float
    max_grad_err: float
    timeline: Timeline


def pipeline_step_check(key, cfg: ModelConfig = TINY, *, stages: int = 2, microbatches: int = 4,
                        schedule: str = "1f1b", backward_ticks: int = 1,
                        devices: Sequence[jax.Device] | None = None) -> PipelineResult:
    """Run one data x tensor x pipeline parallel GPT step and compare with one device."""
    k_params, k_data = jax.random.split(key)
    params = gpt_params(k_params, cfg)
    ids, labels = synthetic_tokens(k_data, cfg)
    meshes = stage_meshes(stages, cfg.batch // microbatches, devices)
    parts = split_stages(params, stages)
    fns = [gpt] if stages == 1 else [_first, *([_middle] * (stages - 2)), _last]
    stage_defs = [Stage(fn, param_shardings(part, mesh),
                        batch_sharding(mesh, 2 if s == 0 else 3))
                  for s, (fn, part, mesh) in enumerate(zip(fns, parts, meshes, strict=True))]
    loss, grads, timeline = pipeline_value_and_grad(
        stage_defs, parts, ids, labels, microbatches=microbatches, schedule=schedule,
        labels_sharding=batch_sharding(meshes[-1], 2), backward_ticks=backward_ticks)
    ref_loss, ref_grads = reference_value_and_grad(params, ids, labels)
    errors = jax.tree.map(lambda a, b: float(np.max(np.abs(np.asarray(a) - np.asarray(b)))),
                          merge_stages(grads), ref_grads)
    return PipelineResult(float(loss), float(ref_loss), max(jax.tree.leaves(errors)), timeline)


# ----------------------------------------------------------------------------- SPMD training


def train_spmd(key, mesh: Mesh, cfg: ModelConfig = TINY, *, steps: int = 3,
               learning_rate: float = 1e-2) -> list[float]:
    """Train the GPT for `steps` Adam steps on `mesh` (data x tensor), return the losses.

    Works unchanged across processes: arrays are built with `make_array_from_callback`, so
    each process supplies only its own shards.
    """
    k_params, k_data = jax.random.split(key)
    params = gpt_params(k_params, cfg)
    ids, labels = synthetic_tokens(k_data, cfg)
    params = jax.tree_util.tree_map_with_path(
        lambda path, leaf: put_from_host(leaf, megatron_sbp(_leaf_name(path)), mesh), params)
    optimizer = optax.adam(learning_rate)
    opt_state = jax.jit(optimizer.init)(params)
    ids = put_from_host(ids, _BATCH, mesh)
    labels = put_from_host(labels, _BATCH, mesh)

    @jax.jit
    def step(params, opt_state, ids, labels):
        loss, grads = jax.value_and_grad(gpt)(params, ids, labels)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    losses = []
    for _ in range(steps):
        params, opt_state, loss = step(params, opt_state, ids, labels)
        losses.append(loss)
    return [float(x) for x in jax.device_get(losses)]



# --- The Flax backbone (`Transformer`) under data x tensor parallelism ----------------------

# Megatron-LM's split of each backbone matrix over "model", by (module, parameter) name and
# counted without the layer axis that nn.scan stacks in front: attention's fused q|k|v and
# the MLP's first layer by output columns, their output projections by input rows (each pair
# then needs one all-reduce), the token table by vocabulary rows. Everything else (LayerNorms,
# positions, remaining biases) is replicated over "model"; all of it is replicated over "data".
_BACKBONE_SPLITS = {("attn_qkv", "kernel"): 1, ("attn_qkv", "bias"): 0,
                    ("attn_out", "kernel"): 0, ("mlp_in", "kernel"): 1, ("mlp_in", "bias"): 0,
                    ("mlp_out", "kernel"): 0, ("wte", "embedding"): 0}


def backbone_sbp(path, shape, mesh: Mesh) -> NdSbp:
    """Megatron's ("data", "model") placement of a backbone parameter (or of an optimizer
    moment of it: optax keeps the parameters' paths) from its pytree path and shape. A
    dimension that "model" does not divide (a 65-token vocabulary on 4 devices) stays
    replicated instead of padded."""
    keys = [k.key for k in path if isinstance(k, jax.tree_util.DictKey)]
    dim = _BACKBONE_SPLITS.get(tuple(keys[-2:]))
    if dim is None:
        return (B, B)
    dim += 1 if "blocks" in keys else 0
    if len(shape) <= dim or shape[dim] % mesh.shape["model"]:
        return (B, B)
    return (B, S(dim))


# A backbone parameter's counterpart among the inputs of the planner's graph (`gpt` of
# `jaxhin.ptm._gpt`, one block), and where each of that input's dimensions lies in the backbone
# parameter (a dimension missing here has no counterpart: the parameter stays whole on it).
_FROM_GRAPH = {
    # tied: the backbone's table is also its output projection, the heavier use (B x L x V
    # logits), so it follows the graph's output matrix (D, V), transposed
    ("wte", "embedding"): ("['w_out']", {0: 1, 1: 0}),
    ("attn_qkv", "kernel"): ("['blocks'][0]['w_qkv']", {0: 0, 1: 1, 2: 1, 3: 1}),
    ("attn_qkv", "bias"): ("['blocks'][0]['w_qkv']", {1: 0, 2: 0, 3: 0}),
    ("attn_out", "kernel"): ("['blocks'][0]['w_o']", {0: 0, 1: 0, 2: 1}),
    ("attn_out", "bias"): ("['blocks'][0]['w_o']", {2: 0}),
    ("mlp_in", "kernel"): ("['blocks'][0]['w1']", {0: 0, 1: 1}),
    ("mlp_in", "bias"): ("['blocks'][0]['w1']", {1: 0}),
    ("mlp_out", "kernel"): ("['blocks'][0]['w2']", {0: 0, 1: 1}),
    ("mlp_out", "bias"): ("['blocks'][0]['w2']", {1: 0}),
    ("ln_1", "scale"): ("['blocks'][0]['ln1_scale']", {0: 0}),
    ("ln_1", "bias"): ("['blocks'][0]['ln1_bias']", {0: 0}),
    ("ln_2", "scale"): ("['blocks'][0]['ln2_scale']", {0: 0}),
    ("ln_2", "bias"): ("['blocks'][0]['ln2_bias']", {0: 0}),
    ("ln_f", "scale"): ("['lnf_scale']", {0: 0}),
    ("ln_f", "bias"): ("['lnf_bias']", {0: 0}),
}


def planner_sbp(model_cfg, mesh: Mesh, batch: int, seq: int):
    """`(place, plan)`: the placements `jaxhin.sbp.plan` chooses for the backbone on `mesh`,
    as a function `place(path, shape, mesh) -> NdSbp` that stands in for `backbone_sbp`.

    The planner places a one-block GPT written with registered SBP ops (`benchmark("gpt")`)
    at the backbone's sizes and `batch` x `seq` windows split over "data"; each backbone
    parameter takes its counterpart's placement per mesh axis (`_FROM_GRAPH`; a parameter
    without one, e.g. learned positions, is replicated, as is a dimension the axis does not
    divide). Small models come out data-parallel (replicated parameters: their collectives
    cost more than the compute they split); large ones Megatron's splits (README, `jaxhin.sbp`).
    """
    from jaxhin.ptm._gpt import benchmark

    graph_cfg = ModelConfig(batch=batch, seq=seq, width=model_cfg.width, heads=model_cfg.heads,
                            hidden=model_cfg.hidden or 4 * model_cfg.width,
                            vocab=model_cfg.vocab_size, layers=1)
    fn, shapes, data = benchmark("gpt", graph_cfg)
    graph = trace_graph(fn, *shapes)
    chosen = plan(graph, mesh, fixed={d: (S(0), B) for d in data})
    by_name = {graph.tensors[t].name: sbp
               for t, sbp in zip(graph.inputs, chosen.input_sbp, strict=True)}

    def place(path, shape, mesh: Mesh) -> NdSbp:
        keys = [k.key for k in path if isinstance(k, jax.tree_util.DictKey)]
        entry = _FROM_GRAPH.get(tuple(keys[-2:]))
        if entry is None:
            return (B,) * len(mesh.axis_names)
        name, dims = entry
        offset = 1 if "blocks" in keys else 0  # the scanned blocks' layer axis
        out = []
        for axis, sbp in zip(mesh.axis_names, by_name["[0]" + name], strict=True):
            dim = dims.get(sbp.axis) if isinstance(sbp, Split) else None
            if dim is None or len(shape) <= dim + offset or shape[dim + offset] % mesh.shape[axis]:
                out.append(B)
            else:
                out.append(S(dim + offset))
        return tuple(out)

    return place, chosen


def backbone_shardings(tree, mesh: Mesh):
    """`NamedSharding`s of a backbone parameter (or optimizer state) pytree: `backbone_sbp`."""
    return jax.tree_util.tree_map_with_path(
        lambda path, leaf: to_named_sharding(backbone_sbp(path, jnp.shape(leaf), mesh), mesh,
                                             jnp.ndim(leaf)), tree)


def window_sharding(mesh: Mesh, ndim: int = 2) -> NamedSharding:
    """Token windows (..., batch, seq): the batch split over "data", replicated over "model"."""
    sbp = (S(ndim - 2), B)
    return to_named_sharding(sbp, mesh, ndim)
