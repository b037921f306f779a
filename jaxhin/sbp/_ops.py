"""Op SBP signatures (OneFlow, Sec. 3.2), a registry users extend, and execution on global tensors.

An op is registered once with
  * `fn`: its global (single-device) definition, the reference every placement must reproduce;
  * `signatures(shapes)`: its 1-D SBP signatures along one mesh axis (N-D signatures are one
    1-D signature per mesh axis, as in OneFlow);
  * `local`: the kernel each device runs on its blocks (default: `fn` itself), told the chosen
    signature and mesh through an `OpContext`.
Ops are also named `jax.jit` functions, so a model written with them traces to a jaxpr whose
equations are these ops: that is the graph the planner (`jaxhin.sbp.plan`) places.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Callable, Sequence
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from jaxhin.sbp._global import GlobalTensor
from jaxhin.sbp._hlo import collective_bytes
from jaxhin.sbp._placement import (
    B,
    NdSbp,
    P,
    PlacementError,
    S,
    Sbp,
    Split,
    check_placement,
    partial_axes,
    physical_spec,
)


@dataclasses.dataclass(frozen=True)
class Signature:
    """A 1-D SBP signature of an op along one mesh axis.

    Attributes:
      inputs: placement each input must have along the axis.
      outputs: placement of each output along the axis.
      divides_work: the axis's devices share the compute (False: each does all of it).
      internal: collectives the kernel itself runs along the axis, as (kind, fraction of the
        first output's global elements in each device's block), e.g. vocabulary-parallel
        cross-entropy's all-reduces.
    """

    inputs: tuple[Sbp, ...]
    outputs: tuple[Sbp, ...]
    divides_work: bool = True
    internal: tuple[tuple[str, Fraction], ...] = ()

    def __repr__(self) -> str:
        ins = ", ".join(map(repr, self.inputs))
        outs = ", ".join(map(repr, self.outputs))
        return f"({ins}) -> ({outs})"


NdSignature = tuple[Signature, ...]


@dataclasses.dataclass(frozen=True)
class OpContext:
    """What a local kernel may need: the mesh, the N-D signature and the global shapes."""

    mesh: Mesh
    signature: NdSignature
    in_shapes: tuple[tuple[int, ...], ...]

    def block_start(self, arg: int, dim: int) -> jax.Array:
        """Global index of this device's first element along `dim` of input `arg`."""
        start = jnp.int32(0)
        size = self.in_shapes[arg][dim]
        for axis_name, sig in zip(self.mesh.axis_names, self.signature, strict=True):
            entry = sig.inputs[arg]
            if isinstance(entry, Split) and entry.axis == dim:
                size //= self.mesh.shape[axis_name]
                start = start + jax.lax.axis_index(axis_name) * size
        return start

    def axes_with(self, arg: int, entry: Sbp) -> tuple[str, ...]:
        """Mesh axes along which input `arg` has placement `entry`."""
        return tuple(a for a, sig in zip(self.mesh.axis_names, self.signature, strict=True)
                     if sig.inputs[arg] == entry)


@dataclasses.dataclass(frozen=True)
class OpDef:
    """A registered op (see the module docstring)."""

    name: str
    fn: Callable
    signatures: Callable[[tuple[tuple[int, ...], ...]], list[Signature]]
    local: Callable | None = None
    flops: Callable[[tuple[tuple[int, ...], ...]], float] | None = None

    def kernel(self, ctx: OpContext) -> Callable:
        return functools.partial(self.local, ctx) if self.local is not None else self.fn

    def cost_flops(self, shapes: tuple[tuple[int, ...], ...]) -> float:
        if self.flops is not None:
            return float(self.flops(shapes))
        return float(sum(math.prod(s) for s in shapes))


OPS: dict[str, OpDef] = {}


def register_op(op: OpDef) -> Callable:
    """Register `op` and return its named, jitted global function (what models call).

    Example:
      >>> gelu = register_op(OpDef("gelu", jax.nn.gelu, elementwise_signatures))  # doctest: +SKIP
    """
    OPS[op.name] = op
    return jax.jit(_rename(op.fn, op.name))


def _rename(fn: Callable, name: str) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)

    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


def get_op(name: str) -> OpDef:
    if name not in OPS:
        raise PlacementError(f"unknown op {name!r}: no SBP signatures registered; known ops: "
                             f"{', '.join(sorted(OPS))} (register it with jaxhin.sbp.register_op)")
    return OPS[name]


# ----------------------------------------------------------------------------- signature rules


def elementwise_signatures(shapes) -> list[Signature]:
    """Unary non-linear element-wise ops: S(i) -> S(i), B -> B."""
    (shape,) = shapes
    return [Signature((B,), (B,), False)] + [Signature((S(i),), (S(i),)) for i in range(len(shape))]


def _binary_signatures(shapes, partial: tuple[tuple[Sbp, Sbp], ...]) -> list[Signature]:
    ndim = len(shapes[0])
    return ([Signature((B, B), (B,), False)]
            + [Signature(ins, (P,), False) for ins in partial]
            + [Signature((S(i), S(i)), (S(i),)) for i in range(ndim)])


def _add_signatures(shapes) -> list[Signature]:
    """a + b: partial sums add (P, P) -> P."""
    return _binary_signatures(shapes, ((P, P),))


def _mul_signatures(shapes) -> list[Signature]:
    """a * b: a partial sum times a broadcast factor stays partial."""
    return _binary_signatures(shapes, ((P, B), (B, P)))


def _matmul_signatures(shapes) -> list[Signature]:
    r = len(shapes[0])
    sigs = [Signature((B, B), (B,), False),
            Signature((B, S(1)), (S(r - 1),)),        # column parallel
            Signature((S(r - 1), S(0)), (P,)),        # row parallel
            Signature((P, B), (P,), False),
            Signature((B, P), (P,), False)]
    sigs += [Signature((S(i), B), (S(i),)) for i in range(r - 1)]   # data parallel
    return sigs


def _last_axis_signatures(shapes) -> list[Signature]:
    """Ops normalising over the last axis (softmax, layernorm with B params)."""
    x = shapes[0]
    extra = (B,) * (len(shapes) - 1)
    sigs = [Signature((B, *extra), (B,), False)]
    return sigs + [Signature((S(i), *extra), (S(i),)) for i in range(len(x) - 1)]


def _mean_signatures(shapes) -> list[Signature]:
    (x,) = shapes
    return ([Signature((B,), (B,), False), Signature((P,), (P,), False)]
            + [Signature((S(i),), (P,)) for i in range(len(x))])


def _sum_last_signatures(shapes) -> list[Signature]:
    """Sum over the last axis: splitting it leaves partial sums."""
    r = len(shapes[0])
    return ([Signature((B,), (B,), False), Signature((P,), (P,), False),
             Signature((S(r - 1),), (P,))]
            + [Signature((S(i),), (S(i),)) for i in range(r - 1)])


def _attention_signatures(_shapes) -> list[Signature]:
    """q, k, v of shape (B, L, H, Dh): split batch or heads."""
    return [Signature((B, B, B), (B,), False), Signature((S(0),) * 3, (S(0),)),
            Signature((S(2),) * 3, (S(2),))]


def _self_attention_signatures(_shapes) -> list[Signature]:
    """x (B, L, D), w_qkv (D, 3, H, Dh), w_o (H, Dh, D): split batch, or heads (Megatron)."""
    return [Signature((B, B, B), (B,), False), Signature((S(0), B, B), (S(0),)),
            Signature((B, S(2), S(0)), (P,))]


def _embedding_signatures(shapes) -> list[Signature]:
    r = len(shapes[1])
    sigs = [Signature((B, B), (B,), False),
            Signature((S(0), B), (P,)),             # vocabulary parallel: masked local gather
            Signature((S(1), B), (S(r),))]          # embedding-dim parallel
    return sigs + [Signature((B, S(i)), (S(i),)) for i in range(r)]


def _cross_entropy_signatures(shapes) -> list[Signature]:
    """Per-example loss of logits (..., V) and labels (...)."""
    r = len(shapes[0])
    return [Signature((B, B), (B,), False),
            *(Signature((S(i), S(i)), (S(i),)) for i in range(r - 1)),
            # vocabulary parallel (Megatron): max, sum-exp and target logit are all-reduced
            Signature((S(r - 1), B), (B,), True,
                      internal=(("all-reduce", Fraction(1)), ("all-reduce", Fraction(1)),
                                ("all-reduce", Fraction(1))))]


# ----------------------------------------------------------------------------- global functions


def _layernorm(x, scale, bias):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    shape = (1,) * (x.ndim - 1) + scale.shape  # explicit broadcast: no rank promotion
    return (x - mean) * jax.lax.rsqrt(var + 1e-5) * scale.reshape(shape) + bias.reshape(shape)


def _attention(q, k, v):
    """Causal softmax attention; q, k, v: (B, L, H, Dh) -> (B, L, H, Dh)."""
    length = q.shape[1]
    logits = jnp.einsum("blhd,bmhd->bhlm", q, k) / jnp.sqrt(jnp.float32(q.shape[-1]))
    mask = jnp.tril(jnp.ones((length, length), bool))
    logits = jnp.where(mask, logits, jnp.finfo(logits.dtype).min)
    return jnp.einsum("bhlm,bmhd->blhd", jax.nn.softmax(logits, -1), v)


def _self_attention(x, w_qkv, w_o):
    """Causal multi-head self-attention: x (B, L, D) -> (B, L, D), heads from w_qkv's shape."""
    q, k, v = jnp.einsum("bld,dthe->tblhe", x, w_qkv)
    return jnp.einsum("blhe,hed->bld", _attention(q, k, v), w_o)


def _self_attention_flops(shapes):
    (b, length, d), (_, _, h, e), _ = shapes
    return 2 * b * length * d * 3 * h * e + 4 * b * h * length * length * e + 2 * b * length * h * e * d


def _embedding(table, ids):
    return jnp.take(table, ids, axis=0)


def _embedding_local(ctx: OpContext, table, ids):
    vocab_axes = ctx.axes_with(0, S(0))
    if not vocab_axes:
        return jnp.take(table, ids, axis=0)
    start = ctx.block_start(0, 0)
    local = ids - start
    inside = (local >= 0) & (local < table.shape[0])
    rows = jnp.take(table, jnp.clip(local, 0, table.shape[0] - 1), axis=0)
    return jnp.where(inside[..., None], rows, jnp.zeros_like(rows))


def _cross_entropy(logits, labels):
    """Per-example negative log-likelihood: logits (..., V), integer labels (...)."""
    logz = jax.nn.logsumexp(logits, axis=-1)
    target = jnp.take_along_axis(logits, labels[..., None], axis=-1)[..., 0]
    return logz - target


def _cross_entropy_local(ctx: OpContext, logits, labels):
    last = logits.ndim - 1
    vocab_axes = ctx.axes_with(0, S(last))
    if not vocab_axes:
        return _cross_entropy(logits, labels)
    # Megatron's vocabulary-parallel loss: no device ever holds a full row of logits.
    peak = jax.lax.pmax(jax.lax.stop_gradient(logits.max(-1)), vocab_axes)
    sum_exp = jax.lax.psum(jnp.exp(logits - peak[..., None]).sum(-1), vocab_axes)
    local = labels - ctx.block_start(0, last)
    vocab = logits.shape[-1]
    inside = (local >= 0) & (local < vocab)
    picked = jnp.take_along_axis(logits, jnp.clip(local, 0, vocab - 1)[..., None], -1)[..., 0]
    target = jax.lax.psum(jnp.where(inside, picked, 0.0), vocab_axes)
    return jnp.log(sum_exp) + peak - target


def _mean_local(ctx: OpContext, x):
    return x.sum() / math.prod(ctx.in_shapes[0])


def _matmul_flops(shapes):
    x, w = shapes
    return 2 * math.prod(x) * w[1]


def _attention_flops(shapes):
    b, length, h, d = shapes[0]
    return 4 * b * h * length * length * d


matmul = register_op(OpDef("matmul", lambda x, w: x @ w, _matmul_signatures,
                           flops=_matmul_flops))
add = register_op(OpDef("add", jnp.add, _add_signatures))
mul = register_op(OpDef("mul", jnp.multiply, _mul_signatures))
gelu = register_op(OpDef("gelu", jax.nn.gelu, elementwise_signatures))
relu = register_op(OpDef("relu", jax.nn.relu, elementwise_signatures))
softmax = register_op(OpDef("softmax", lambda x: jax.nn.softmax(x, -1), _last_axis_signatures))
layernorm = register_op(OpDef("layernorm", _layernorm, _last_axis_signatures))
attention = register_op(OpDef("attention", _attention, _attention_signatures,
                              flops=_attention_flops))
self_attention = register_op(OpDef("self_attention", _self_attention, _self_attention_signatures,
                                   flops=_self_attention_flops))
embedding = register_op(OpDef("embedding", _embedding, _embedding_signatures,
                              local=_embedding_local, flops=lambda s: math.prod(s[1]) * s[0][1]))
cross_entropy = register_op(OpDef("cross_entropy", _cross_entropy, _cross_entropy_signatures,
                                  local=_cross_entropy_local))
mean = register_op(OpDef("mean", jnp.mean, _mean_signatures, local=_mean_local))
sum_last = register_op(OpDef("sum_last", lambda x: x.sum(-1), _sum_last_signatures))


# ----------------------------------------------------------------------------- deduction


def nd_signatures(op: str, shapes: Sequence[Sequence[int]], mesh: Mesh) -> list[NdSignature]:
    """All N-D signatures of `op` for inputs of `shapes` on `mesh` that divide evenly."""
    opdef = get_op(op)
    shapes = tuple(tuple(s) for s in shapes)
    out_shapes = output_shapes(op, shapes)
    one_d = opdef.signatures(shapes)
    valid = []
    for combo in itertools.product(one_d, repeat=len(mesh.axis_names)):
        try:
            for i, shape in enumerate(shapes):
                check_placement(tuple(c.inputs[i] for c in combo), shape, mesh)
            for i, shape in enumerate(out_shapes):
                check_placement(tuple(c.outputs[i] for c in combo), shape, mesh)
        except PlacementError:
            continue
        valid.append(combo)
    return valid


@functools.lru_cache(maxsize=1024)
def _output_shapes(op: str, shapes: tuple[tuple[int, ...], ...], dtypes: tuple[str, ...]):
    args = [jax.ShapeDtypeStruct(s, d) for s, d in zip(shapes, dtypes, strict=True)]
    out = jax.eval_shape(get_op(op).fn, *args)
    return tuple(tuple(o.shape) for o in jax.tree.leaves(out))


def output_shapes(op: str, shapes, dtypes=None) -> tuple[tuple[int, ...], ...]:
    """Global output shapes of `op` for inputs of `shapes` (integer inputs where the op wants)."""
    shapes = tuple(tuple(s) for s in shapes)
    if dtypes is None:
        dtypes = tuple("int32" if op in ("embedding", "cross_entropy") and i == 1 else "float32"
                       for i in range(len(shapes)))
    return _output_shapes(op, shapes, tuple(dtypes))


def signature_inputs(sig: NdSignature, i: int) -> NdSbp:
    return tuple(s.inputs[i] for s in sig)


def signature_outputs(sig: NdSignature, i: int = 0) -> NdSbp:
    return tuple(s.outputs[i] for s in sig)


def deduce(op: str, inputs: Sequence[GlobalTensor], *, names: Sequence[str] | None = None
           ) -> NdSignature:
    """Return the N-D signature of `op` that accepts the inputs' placements as they are.

    Raises:
      PlacementError: naming the op, every input's shape and placement, and the accepted
        placements, when no signature matches (redistribute an input first).
    """
    mesh = inputs[0].mesh
    shapes = [g.shape for g in inputs]
    for sig in nd_signatures(op, shapes, mesh):
        if all(signature_inputs(sig, i) == g.sbp for i, g in enumerate(inputs)):
            return sig
    names = names or [f"input{i}" for i in range(len(inputs))]
    given = ", ".join(f"{n} {g.shape} {g.sbp}" for n, g in zip(names, inputs, strict=True))
    accepted = "; ".join(map(repr, get_op(op).signatures(tuple(map(tuple, shapes)))))
    raise PlacementError(f"op {op!r}: no SBP signature accepts {given} on mesh "
                         f"{dict(mesh.shape)}; 1-D signatures per mesh axis: {accepted}")


def signature_internal_bytes(sig: NdSignature, out_shape, itemsize: int, mesh: Mesh) -> Fraction:
    """Bytes of the collectives an op's kernel runs itself under `sig`.

    A kernel runs each internal collective once over all the mesh axes whose 1-D signature
    declares it (e.g. vocabulary-parallel cross-entropy splits the vocabulary over every such
    axis and all-reduces over them together).
    """
    axes = [a for a, s in zip(mesh.axis_names, sig, strict=True) if s.internal]
    if not axes:
        return Fraction(0)
    group = math.prod(mesh.shape[a] for a in axes)
    block = Fraction(math.prod(out_shape))
    for axis_name, s in zip(mesh.axis_names, sig, strict=True):
        if isinstance(s.outputs[0], Split):
            block /= mesh.shape[axis_name]
    internal = sig[mesh.axis_names.index(axes[0])].internal
    return sum((collective_bytes(kind, block * fraction * itemsize, group, mesh.devices.size)
                for kind, fraction in internal), Fraction(0))


def local_op(op: str, sig: NdSignature, mesh: Mesh, in_shapes) -> Callable:
    """Return the shard_map-able kernel on physical blocks (leading dims for partial axes)."""
    opdef = get_op(op)
    ctx = OpContext(mesh, sig, tuple(tuple(s) for s in in_shapes))
    kernel = opdef.kernel(ctx)
    n_in = len(in_shapes)

    def run(*blocks):
        squeezed = [b.reshape(b.shape[len(partial_axes(signature_inputs(sig, i), mesh)):])
                    for i, b in enumerate(blocks[:n_in])]
        outs = kernel(*squeezed)
        outs = outs if isinstance(outs, tuple) else (outs,)
        return tuple(o.reshape((1,) * len(partial_axes(signature_outputs(sig, i), mesh))
                               + o.shape) for i, o in enumerate(outs))

    return run


def apply_op(op: str, *inputs: GlobalTensor, signature: NdSignature | None = None
             ) -> GlobalTensor:
    """Run `op` on global tensors under `signature` (deduced from the inputs if None).

    Example:
      >>> y = apply_op("matmul", to_global(x, "S0", mesh), to_global(w, "B", mesh))
      >>> y.sbp  # doctest: +SKIP
      (S(0),)
    """
    mesh = inputs[0].mesh
    sig = signature if signature is not None else deduce(op, inputs)
    for i, g in enumerate(inputs):
        if g.sbp != signature_inputs(sig, i):
            raise PlacementError(f"op {op!r}: input {i} {g.shape} is placed {g.sbp} but the "
                                 f"signature needs {signature_inputs(sig, i)}")
    shapes = tuple(g.shape for g in inputs)
    dtypes = tuple(np.dtype(g.dtype).name for g in inputs)
    (out_shape,) = output_shapes(op, shapes, dtypes)
    fn = _compiled_op(op, sig, mesh, shapes, len(out_shape))
    (out,) = fn(*(g.data for g in inputs))
    return GlobalTensor(out, signature_outputs(sig), mesh)


@functools.lru_cache(maxsize=512)
def _compiled_op(op, sig, mesh, shapes, out_ndim):
    run = local_op(op, sig, mesh, shapes)
    in_specs = tuple(physical_spec(signature_inputs(sig, i), mesh, len(s))
                     for i, s in enumerate(shapes))
    out_specs = (physical_spec(signature_outputs(sig), mesh, out_ndim),)
    return jax.jit(jax.shard_map(run, mesh=mesh, in_specs=in_specs, out_specs=out_specs,
                                 check_vma=False))
