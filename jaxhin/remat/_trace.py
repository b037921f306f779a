"""Trace extraction: a training step's jaxpr as a list of ops over tensors, with no execution.

`trace(step_fn, *example_args)` runs `jax.make_jaxpr` (abstract values only, so a full-size
ResNet-152 step traces on a laptop), inlines calls (`jit`/`pjit`, `custom_jvp_call`,
`custom_vjp_call`, `checkpoint`, `closed_call`), drops dead equations, and turns what is left into
the eager program a rematerialization runtime sees: each op reads tensors and allocates its
outputs. View-like primitives (`reshape`, `squeeze`, `expand_dims`, `name`, `copy`) allocate
nothing in an eager framework, so their output is the input's tensor; `checkpoint_name` tags are
kept as the tensor's `name`, which is how a plan is exported back to a model
(`jaxhin.remat.export_names`).

The time of an op comes from a roofline `DeviceModel` (FLOPs over peak, bytes over bandwidth,
plus a launch cost), an analytic stand-in for a measured per-op table, stated so that every
figure can be reproduced on any machine.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

# Primitives whose equations are replaced by their body (a call, not a computation).
_INLINE = {"pjit": "jaxpr", "jit": "jaxpr", "closed_call": "call_jaxpr", "core_call": "call_jaxpr",
           "custom_jvp_call": "call_jaxpr", "custom_vjp_call": "call_jaxpr",
           "custom_vjp_call_jaxpr": "fun_jaxpr", "checkpoint": "jaxpr", "remat": "jaxpr",
           "remat2": "jaxpr"}
# Outputs that share the input's memory in an eager framework (views and tags).
_ALIAS = frozenset({"reshape", "squeeze", "expand_dims", "name", "copy", "copy_p",
                    "optimization_barrier"})
_MATMUL = frozenset({"dot_general", "conv_general_dilated"})
# Elementwise primitives an eager framework may run in place (output overwrites a dying input).
ELEMENTWISE = frozenset({
    "add", "add_any", "sub", "mul", "div", "max", "min", "neg", "exp", "log", "tanh", "logistic",
    "integer_pow", "pow", "sqrt", "rsqrt", "abs", "sign", "select_n", "erf", "exp2", "log1p",
    "expm1", "square", "sin", "cos", "clamp", "convert_element_type"})


@dataclasses.dataclass(frozen=True)
class DeviceModel:
    """Roofline time of an op: `max(flops / peak, bytes / bandwidth) + launch_s`.

    Defaults are an A100-class GPU in fp32 with TF32 matmuls (the paper's testbed class):
    `matmul_flops` for dot/conv, `vector_flops` for everything else.
    """

    matmul_flops: float = 100e12
    vector_flops: float = 19.5e12
    bandwidth: float = 1.5e12
    launch_s: float = 5e-6

    def __post_init__(self):
        for field in ("matmul_flops", "vector_flops", "bandwidth"):
            if not getattr(self, field) > 0:
                raise ValueError(f"DeviceModel.{field} must be > 0, got {getattr(self, field)}")
        if self.launch_s < 0:
            raise ValueError(f"DeviceModel.launch_s must be >= 0, got {self.launch_s}")


@dataclasses.dataclass(frozen=True)
class Op:
    """One eager op: reads `inputs`, allocates `outputs` (tensor ids)."""

    primitive: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    flops: float
    time_s: float


@dataclasses.dataclass(frozen=True)
class Tensor:
    """One buffer. `producer` is the op index, -1 for a step input or constant."""

    bytes: int
    shape: tuple[int, ...]
    dtype: str
    producer: int
    name: str | None = None


@dataclasses.dataclass(frozen=True)
class Trace:
    """A training step as an eager program.

    Attributes:
      ops: in program order.
      tensors: indexed by tensor id.
      inputs: step inputs and constants (parameters, optimizer state, batch): resident and
        unevictable throughout.
      outputs: the step's results (new parameters and state, loss): unevictable once produced.
      last_use: per tensor, the index of the last op that reads it (-1 if none).
      name: the model's name.
    """

    ops: tuple[Op, ...]
    tensors: tuple[Tensor, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    last_use: tuple[int, ...]
    name: str = "model"

    @property
    def flops(self) -> float:
        return float(sum(op.flops for op in self.ops))

    @property
    def time_s(self) -> float:
        return float(sum(op.time_s for op in self.ops))

    @property
    def input_bytes(self) -> int:
        return int(sum(self.tensors[t].bytes for t in self.inputs))

    def __repr__(self) -> str:
        return (f"Trace({self.name!r}: {len(self.ops)} ops, {len(self.tensors)} tensors, "
                f"inputs {self.input_bytes / 2**30:.2f} GiB, {self.flops / 1e12:.2f} TFLOP, "
                f"{self.time_s * 1e3:.1f} ms modelled)")


def _nbytes(aval) -> int:
    shape = getattr(aval, "shape", ())
    return int(math.prod(shape)) * np.dtype(aval.dtype).itemsize


def op_flops(eqn) -> float:
    """FLOPs of one equation: 2 x output x contraction for dot/conv, else one per element
    (of the largest operand, so reductions count their input). Sub-jaxprs (scan, while, cond)
    count their body, times the trip count for scan."""
    name = eqn.primitive.name
    out = sum(math.prod(getattr(v.aval, "shape", ())) for v in eqn.outvars)
    if name == "dot_general":
        (lhs_contract, _), _ = eqn.params["dimension_numbers"]
        lhs = eqn.invars[0].aval.shape
        return 2.0 * out * math.prod(lhs[d] for d in lhs_contract)
    if name == "conv_general_dilated":
        rhs = eqn.invars[1].aval.shape
        dn = eqn.params["dimension_numbers"]
        spec = dn.rhs_spec  # (out feature, in feature, spatial...)
        per_output = rhs[spec[1]] * math.prod(rhs[d] for d in spec[2:])
        return 2.0 * out * per_output
    inner = 0.0
    for key in ("jaxpr", "body_jaxpr", "call_jaxpr", "fun_jaxpr"):
        sub = eqn.params.get(key)
        if sub is not None:
            jaxpr = getattr(sub, "jaxpr", sub)
            inner += sum(op_flops(e) for e in jaxpr.eqns)
    for branch in eqn.params.get("branches", ()):
        inner = max(inner, sum(op_flops(e) for e in branch.jaxpr.eqns))
    if inner:
        return inner * eqn.params.get("length", 1)
    biggest = max([out, *(math.prod(getattr(v.aval, "shape", ())) for v in eqn.invars)])
    return float(biggest)


def jaxpr_flops(closed_jaxpr) -> float:
    """Total FLOPs of a (closed) jaxpr, nested bodies included (scan bodies x length)."""
    jaxpr = getattr(closed_jaxpr, "jaxpr", closed_jaxpr)
    return float(sum(op_flops(e) for e in jaxpr.eqns))


def _flatten(jaxpr, env: dict, emit: Callable) -> None:
    """Walk `jaxpr` with `env` mapping its vars to tensor handles, inlining calls."""
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        key = _INLINE.get(name)
        sub = eqn.params.get(key) if key else None
        if sub is not None:
            inner = getattr(sub, "jaxpr", sub)
            sub_env = {}
            for v, c in zip(inner.constvars, getattr(sub, "consts", ()), strict=False):
                sub_env[v] = emit("const", c)
            args = [_read(v, env) for v in eqn.invars]
            # custom_vjp_call carries extra leading args (consts) in some versions: align right.
            args = args[len(args) - len(inner.invars):]
            for v, a in zip(inner.invars, args, strict=True):
                sub_env[v] = a
            _flatten(inner, sub_env, emit)
            for v, inner_out in zip(eqn.outvars, inner.outvars, strict=True):
                env[v] = _read(inner_out, sub_env)
            continue
        ins = [_read(v, env) for v in eqn.invars]
        if name in _ALIAS and len(eqn.outvars) == 1 and ins and ins[0] is not None:
            env[eqn.outvars[0]] = ins[0]
            if name == "name":
                emit("tag", ins[0], eqn.params.get("name"))
            continue
        outs = emit("op", eqn, [i for i in ins if i is not None])
        for v, t in zip(eqn.outvars, outs, strict=True):
            env[v] = t


def _read(v, env):
    from jax.extend import core as jcore

    if isinstance(v, jcore.Literal):
        return None
    return env[v]


def trace(step_fn: Callable, *example_args: Any, name: str = "model",
          device: DeviceModel | None = None) -> Trace:
    """Trace `step_fn(*example_args)` (arrays or `jax.ShapeDtypeStruct`s; nothing runs) into a
    `Trace`. Parameters, optimizer state and the batch are the step's inputs; its outputs
    (new parameters, state, loss) are kept unevictable once produced."""
    device = device or DeviceModel()
    args = [jax.ShapeDtypeStruct(a.shape, a.dtype) if hasattr(a, "shape") else a
            for a in example_args]
    closed = jax.make_jaxpr(step_fn)(*args)
    jaxpr = closed.jaxpr

    avals: list = []      # per raw tensor: aval
    producer: list[int] = []
    names: dict[int, str] = {}
    raw_ops: list[tuple] = []  # (eqn, input handles, output handles)

    def new_tensor(aval, prod):
        avals.append(aval)
        producer.append(prod)
        return len(avals) - 1

    def emit(kind, *payload):
        if kind == "const":
            value = payload[0]
            return new_tensor(jax.core.get_aval(value), -1)
        if kind == "tag":
            handle, tag = payload
            names.setdefault(handle, tag)
            return None
        eqn, ins = payload
        outs = []
        for v in eqn.outvars:
            outs.append(new_tensor(v.aval, len(raw_ops)))
        raw_ops.append((eqn, ins, outs))
        return outs

    env = {}
    inputs = []
    for v, c in zip(jaxpr.constvars, closed.consts, strict=True):
        env[v] = new_tensor(jax.core.get_aval(c), -1)
        inputs.append(env[v])
    for v in jaxpr.invars:
        env[v] = new_tensor(v.aval, -1)
        inputs.append(env[v])
    _flatten(jaxpr, env, emit)
    from jax.extend import core as jcore

    outputs = [env[v] for v in jaxpr.outvars if not isinstance(v, jcore.Literal)]
    # Constants met inside inlined calls are inputs too.
    inputs += [t for t in range(len(avals)) if producer[t] == -1 and t not in set(inputs)]

    # Dead-code elimination: keep ops one of whose outputs is needed by the step's outputs.
    needed = set(outputs)
    keep = [False] * len(raw_ops)
    for i in range(len(raw_ops) - 1, -1, -1):
        eqn, ins, outs = raw_ops[i]
        if any(o in needed for o in outs) or eqn.effects:
            keep[i] = True
            needed.update(ins)
    # Renumber tensors that survive: inputs first, then op outputs in order.
    remap: dict[int, int] = {}
    tensors: list[Tensor] = []

    def add(handle, prod):
        aval = avals[handle]
        remap[handle] = len(tensors)
        tensors.append(Tensor(bytes=_nbytes(aval), shape=tuple(getattr(aval, "shape", ())),
                              dtype=str(aval.dtype), producer=prod, name=names.get(handle)))

    uniq_inputs = list(dict.fromkeys(inputs))
    for h in uniq_inputs:
        add(h, -1)
    ops: list[Op] = []
    for i, (eqn, ins, outs) in enumerate(raw_ops):
        if not keep[i]:
            continue
        for h in outs:
            add(h, len(ops))
        flops = op_flops(eqn)
        io_bytes = sum(_nbytes(avals[h]) for h in ins) + sum(_nbytes(avals[h]) for h in outs)
        peak = device.matmul_flops if eqn.primitive.name in _MATMUL else device.vector_flops
        time_s = max(flops / peak, io_bytes / device.bandwidth) + device.launch_s
        ops.append(Op(primitive=eqn.primitive.name,
                      inputs=tuple(dict.fromkeys(remap[h] for h in ins)),
                      outputs=tuple(remap[h] for h in outs), flops=flops, time_s=time_s))
    last_use = [-1] * len(tensors)
    for k, op in enumerate(ops):
        for t in op.inputs:
            last_use[t] = k
    return Trace(ops=tuple(ops), tensors=tuple(tensors), inputs=tuple(remap[h] for h in uniq_inputs),
                 outputs=tuple(dict.fromkeys(remap[h] for h in outputs)),
                 last_use=tuple(last_use), name=name)
