"""Plans as `jax.checkpoint` policies: from a simulated eviction record to saved names.

A model that tags its intermediates with `checkpoint_name` can be run two ways: unrolled (a
Python loop over layers: the eager program the simulator replays) and scanned with `nn.remat`
inside `nn.scan` (what XLA compiles; on XLA:CPU rematerialization survives only inside a scan
body). `plan_names` reads which tagged tensors a Coop run at a budget kept resident from the
forward pass to their backward use; `save_only_these_names` of those is the exported policy,
and `policy_cost` measures any policy the way the issue asks: XLA's own memory analysis of the
compiled step (`temp_size_in_bytes`) and FLOPs counted from the step's jaxpr (recomputation
included, scan bodies times their length).

Built-in exportable models (`EXPORT_MODELS`): a pre-LayerNorm Transformer and a residual MLP.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.ad_checkpoint import checkpoint_name

from jaxhin.remat._trace import Trace, jaxpr_flops
from jaxhin.train import check_at_least

# JAX's built-in policies that need no names, compared against every plan.
BUILTIN_POLICIES: dict[str, Callable | None] = {
    "everything_saveable": jax.checkpoint_policies.everything_saveable,
    "dots_saveable": jax.checkpoint_policies.dots_saveable,
    "dots_with_no_batch_dims_saveable": jax.checkpoint_policies.dots_with_no_batch_dims_saveable,
    "nothing_saveable": jax.checkpoint_policies.nothing_saveable,
}


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    """Sizes of the exportable models.

    Attributes:
      model: "transformer" or "mlp".
      layers: blocks (scanned).
      batch, seq: Transformer batch and sequence length (the MLP uses batch * seq rows).
      width, heads, hidden: model width, attention heads, MLP hidden width.
    """

    model: str = "transformer"
    layers: int = 8
    batch: int = 8
    seq: int = 256
    width: int = 256
    heads: int = 4
    hidden: int = 1024

    def __post_init__(self):
        if self.model not in EXPORT_MODELS:
            raise ValueError(f"export model must be one of {', '.join(EXPORT_MODELS)}, "
                             f"got {self.model!r}")
        check_at_least(self, 1, "layers", "batch", "seq", "width", "heads", "hidden")
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")


class NamedLayerNorm(nn.Module):
    """LayerNorm whose backward residuals are named: `{name}_xhat` (the normalised input) and
    `{name}_rstd` (1 / standard deviation), so that a plan can keep them. With Flax's
    `nn.LayerNorm` they are anonymous, a names-only policy cannot save them, and XLA then
    recomputes them from the LayerNorm's input, and that input's producer, in the backward
    pass."""

    tag: str
    epsilon: float = 1e-6

    @nn.compact
    def __call__(self, x):
        mean = jnp.mean(x, axis=-1, keepdims=True)
        centred = x - mean
        rstd = checkpoint_name(
            jax.lax.rsqrt(jnp.mean(centred * centred, axis=-1, keepdims=True) + self.epsilon),
            f"{self.tag}_rstd")
        xhat = checkpoint_name(centred * rstd, f"{self.tag}_xhat")
        scale = self.param("scale", nn.initializers.ones, (x.shape[-1],))
        bias = self.param("bias", nn.initializers.zeros, (x.shape[-1],))
        shape = (1,) * (x.ndim - 1) + (-1,)
        return checkpoint_name(xhat * scale.reshape(shape) + bias.reshape(shape), self.tag)


class TransformerBlock(nn.Module):
    """Pre-LayerNorm block; every intermediate a plan may keep carries a `checkpoint_name`."""

    heads: int
    hidden: int

    @nn.compact
    def __call__(self, x, _=None):
        b, n, d = x.shape
        h = NamedLayerNorm("ln1")(x)
        q = checkpoint_name(nn.Dense(d)(h), "q").reshape(b, n, self.heads, -1)
        k = checkpoint_name(nn.Dense(d)(h), "k").reshape(b, n, self.heads, -1)
        v = checkpoint_name(nn.Dense(d)(h), "v").reshape(b, n, self.heads, -1)
        scores = checkpoint_name(jnp.einsum("bqhd,bkhd->bhqk", q, k) * (d // self.heads) ** -0.5,
                                 "scores")
        probs = checkpoint_name(jax.nn.softmax(scores, axis=-1), "probs")
        ctx = checkpoint_name(jnp.einsum("bhqk,bkhd->bqhd", probs, v).reshape(b, n, d), "context")
        x = checkpoint_name(x + checkpoint_name(nn.Dense(d)(ctx), "attn_out"), "resid")
        h = NamedLayerNorm("ln2")(x)
        pre = checkpoint_name(nn.Dense(self.hidden)(h), "mlp_pre")
        act = checkpoint_name(nn.gelu(pre), "mlp_act")
        return x + nn.Dense(d)(act), None


class MLPBlock(nn.Module):
    """Residual MLP block: x + W2 gelu(W1 LayerNorm(x))."""

    hidden: int

    @nn.compact
    def __call__(self, x, _=None):
        h = NamedLayerNorm("ln")(x)
        pre = checkpoint_name(nn.Dense(self.hidden)(h), "pre")
        act = checkpoint_name(nn.gelu(pre), "act")
        return x + nn.Dense(x.shape[-1])(act), None


class Stack(nn.Module):
    """`layers` blocks, scanned (with `nn.remat(policy)`) or unrolled (no remat)."""

    block: type[nn.Module]
    kwargs: tuple
    layers: int
    scan: bool = True
    policy: Callable | None = None
    remat: bool = True

    @nn.compact
    def __call__(self, x):
        kwargs = dict(self.kwargs)
        if not self.scan:
            for i in range(self.layers):
                x, _ = self.block(**kwargs, name=f"layer{i}")(x)
            return x
        block = nn.remat(self.block, policy=self.policy, prevent_cse=False) if self.remat \
            else self.block
        scanned = nn.scan(block, variable_axes={"params": 0}, split_rngs={"params": True},
                          length=self.layers)
        x, _ = scanned(**kwargs, name="layers")(x, None)
        return x


EXPORT_MODELS = ("transformer", "mlp")


def export_step(config: ExportConfig, *, scan: bool = True, policy: Callable | None = None,
                remat: bool = True):
    """`(step_fn, example_args)` of one SGD step of an exportable model (mean-square loss on
    a target of the input's shape). `scan=False` is the unrolled program the simulator
    replays; `remat=False` is the scanned model with no rematerialization at all."""
    if config.model == "transformer":
        block, kwargs = TransformerBlock, (("heads", config.heads), ("hidden", config.hidden))
        shape = (config.batch, config.seq, config.width)
    else:
        block, kwargs = MLPBlock, (("hidden", config.hidden),)
        shape = (config.batch * config.seq, config.width)
    model = Stack(block, kwargs, config.layers, scan=scan, policy=policy, remat=remat)
    x = jax.ShapeDtypeStruct(shape, jnp.float32)
    params = jax.eval_shape(model.init, jax.random.key(0), x)
    opt = optax.sgd(0.01, momentum=0.9)
    opt_state = jax.eval_shape(opt.init, params)

    def step(params, opt_state, x, target):
        def loss_fn(p):
            return jnp.mean((model.apply(p, x) - target) ** 2)

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return step, (params, opt_state, x, x)


def backward_start(trace: Trace) -> int:
    """Index of the op that makes the loss (the step's scalar output): the forward pass ends
    there and the backward pass begins."""
    scalars = [trace.tensors[t].producer for t in trace.outputs
               if trace.tensors[t].shape == () and trace.tensors[t].producer >= 0]
    if not scalars:
        raise ValueError(f"{trace.name}: the step returns no scalar loss to split forward from "
                         f"backward")
    return max(scalars)


def plan_names(trace: Trace, evicted: np.ndarray, *, keep_share: float = 0.5) -> tuple[str, ...]:
    """Names a simulation did not evict: a name (one tensor per layer) is saved unless more
    than `1 - keep_share` of its tensors made in the forward pass were evicted at some point.

    A name that died in the forward pass of the eager program is kept too: JAX's partial
    evaluation may pick other residuals than the eager program reads (under `nn.remat`,
    softmax's backward reads its input, the scores), and saving such a value costs memory only
    if XLA's backward needs it, while dropping it costs a recomputation whenever it does.
    Sorted, for a stable policy."""
    boundary = backward_start(trace)
    by_name: dict[str, list[int]] = {}
    for t, tensor in enumerate(trace.tensors):
        if tensor.name is not None and 0 <= tensor.producer < boundary:
            by_name.setdefault(tensor.name, []).append(t)
    saved = [name for name, ts in by_name.items()
             if np.mean(evicted[ts]) <= 1.0 - keep_share]
    return tuple(sorted(saved))


def names_policy(names: Iterable[str]) -> Callable:
    """The exported policy: save exactly these named tensors, recompute everything else."""
    return jax.checkpoint_policies.save_only_these_names(*names)


@dataclasses.dataclass(frozen=True)
class PolicyCost:
    """What XLA and the jaxpr say a policy costs: `temp_bytes` from
    `compile().memory_analysis()`, `flops` of the whole step, `extra_flops` over no remat."""

    policy: str
    temp_bytes: int
    flops: float
    extra_flops: float


def policy_cost(label: str, step_fn: Callable, args: tuple, base_flops: float | None = None
                ) -> PolicyCost:
    """Compile `step_fn` for `args` (shapes only; nothing runs) and measure it."""
    flops = jaxpr_flops(jax.make_jaxpr(step_fn)(*args))
    compiled = jax.jit(step_fn).lower(*args).compile()
    temp = int(compiled.memory_analysis().temp_size_in_bytes)
    extra = flops - base_flops if base_flops is not None else 0.0
    return PolicyCost(policy=label, temp_bytes=temp, flops=flops, extra_flops=extra)


def compare_policies(config: ExportConfig, plan: Iterable[str]) -> list[PolicyCost]:
    """Cost of no remat, the plan (`save_only_these_names(plan)`) and every built-in policy."""
    plan = tuple(plan)
    step, args = export_step(config, remat=False)
    base = policy_cost("no remat", step, args)
    rows = [dataclasses.replace(base, extra_flops=0.0)]
    for label, policy in [(f"plan {list(plan)}", names_policy(plan)), *BUILTIN_POLICIES.items()]:
        step, args = export_step(config, policy=policy)
        rows.append(policy_cost(label, step, args, base.flops))
    return rows


def dominates(a: PolicyCost, b: PolicyCost) -> bool:
    """`a` uses no more memory than `b` and fewer extra FLOPs, or the same FLOPs and less
    memory (Pareto-better on XLA's memory and the jaxpr's FLOPs)."""
    return (a.temp_bytes <= b.temp_bytes and a.extra_flops <= b.extra_flops
            and (a.temp_bytes < b.temp_bytes or a.extra_flops < b.extra_flops))
