"""Auto-parallel planning (OneFlow, Sec. 3.4): choose an SBP signature for every op of a graph.

A function written with registered ops (`jaxhin.sbp.ops`) is traced to a jaxpr whose equations
are those ops: that is the `Graph`. A plan gives every op an N-D signature and every free input
(a parameter) a placement; its cost (`CostModel`) is, in seconds,
  sum over ops   compute flops / (devices sharing the work) / flops_per_s
               + bytes of the op's own collectives / (devices * link_bandwidth)
               + with `training`, the all-reduce of the gradient of every input that is B along a
                 mesh axis whose devices share the op's work (data-parallel gradient sync, and
                 Megatron's backward all-reduce)
  + sum over edges  boxing bytes from the producer's placement to the consumer's signature
  + param_memory_cost * parameter bytes held per device.
Three solvers share that objective:
  * `plan(...)`: exact dynamic programming over the ops in topological order, whose state is
    the placement of every live tensor (the frontier): global, and fast on chains of blocks;
  * `greedy_plan(...)`: OneFlow's rule, each op in turn picks its cheapest signature given the
    placements already fixed;
  * `exhaustive_plan(...)`: depth-first enumeration of every signature and every parameter
    placement, pruned only by an admissible bound (exact, slow): the check on the DP.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh

from jaxhin.sbp._boxing import box_local, plan_boxing
from jaxhin.sbp._global import GlobalTensor, to_global
from jaxhin.sbp._hlo import collective_bytes
from jaxhin.sbp._ops import (
    OPS,
    NdSignature,
    get_op,
    local_op,
    nd_signatures,
    signature_inputs,
    signature_internal_bytes,
    signature_outputs,
)
from jaxhin.sbp._placement import (
    Broadcast,
    NdSbp,
    Partial,
    PlacementError,
    Split,
    check_placement,
    local_shape,
    physical_spec,
    to_named_sharding,
)


@dataclasses.dataclass(frozen=True)
class Tensor:
    """A value of the graph: a graph input (named by its pytree path) or an op's output."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * np.dtype(self.dtype).itemsize


@dataclasses.dataclass(frozen=True)
class Node:
    """One op application: `op` of input tensor ids, producing tensor `output`."""

    op: str
    inputs: tuple[int, ...]
    output: int


@dataclasses.dataclass(frozen=True)
class Graph:
    """An op graph in topological order (the traced jaxpr's equation order)."""

    tensors: tuple[Tensor, ...]
    nodes: tuple[Node, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def input_names(self) -> tuple[str, ...]:
        return tuple(self.tensors[t].name for t in self.inputs)


_PRIMITIVE_OPS = {"add": "add", "mul": "mul"}


def trace_graph(fn: Callable, *args) -> Graph:
    """Trace `fn(*args)` into a `Graph` of registered ops.

    `args` may be arrays or `jax.ShapeDtypeStruct`s in any pytree; inputs are named by their
    pytree path (e.g. `[0]['w1']`). Equations that are not registered ops (named `jit` calls of
    `jaxhin.sbp` ops, `x @ w` as `dot_general`, `+`, `*`) raise `PlacementError`.
    """
    leaves_with_path, _ = jax.tree_util.tree_flatten_with_path(args)
    closed = jax.make_jaxpr(fn)(*args)
    jaxpr = closed.jaxpr
    tensors: list[Tensor] = []
    ids: dict[Any, int] = {}

    def add_tensor(var, name: str) -> int:
        tensors.append(Tensor(name, tuple(var.aval.shape), np.dtype(var.aval.dtype).name))
        ids[var] = len(tensors) - 1
        return ids[var]

    inputs = tuple(add_tensor(v, jax.tree_util.keystr(path))
                   for v, (path, _) in zip(jaxpr.invars, leaves_with_path, strict=True))
    nodes = []
    for index, eqn in enumerate(jaxpr.eqns):
        prim = eqn.primitive.name
        if prim in ("jit", "pjit") and eqn.params.get("name") in OPS:
            op = eqn.params["name"]
        elif prim == "dot_general" and _is_matmul(eqn):
            op = "matmul"
        elif prim in _PRIMITIVE_OPS and len({tuple(v.aval.shape) for v in eqn.invars}) == 1:
            op = _PRIMITIVE_OPS[prim]
        else:
            name = eqn.params.get("name", prim)
            raise PlacementError(
                f"unknown op {name!r} at equation {index} ({eqn}): no SBP signatures; write the "
                f"function with registered ops ({', '.join(sorted(OPS))}) or register it")
        in_ids = []
        for v in eqn.invars:
            if v not in ids:
                raise PlacementError(f"op {op!r} at equation {index}: input {v} is a constant; "
                                     f"pass it as an argument so it can be placed")
            in_ids.append(ids[v])
        (out,) = eqn.outvars
        output = add_tensor(out, f"{op}_{index}")
        nodes.append(Node(op, tuple(in_ids), output))
    outputs = tuple(ids[v] for v in jaxpr.outvars)
    return Graph(tuple(tensors), tuple(nodes), inputs, outputs)


def _is_matmul(eqn) -> bool:
    x, w = (v.aval for v in eqn.invars)
    (contract_x, contract_w), (batch_x, batch_w) = eqn.params["dimension_numbers"]
    return (w.ndim == 2 and tuple(contract_x) == (x.ndim - 1,) and tuple(contract_w) == (0,)
            and not batch_x and not batch_w)


@dataclasses.dataclass(frozen=True)
class CostModel:
    """Hardware numbers of the cost model (defaults: a fast GPU interconnect, in SI units).

    Attributes:
      link_bandwidth: bytes per second each device sends.
      flops_per_s: compute rate of one device.
      param_memory_cost: seconds charged per parameter byte held on a device.
      training: add the gradient all-reduces of a training step (module docstring).
    """

    link_bandwidth: float = 100e9
    flops_per_s: float = 100e12
    param_memory_cost: float = 0.0
    training: bool = True


@dataclasses.dataclass(frozen=True)
class Plan:
    """A placement of every op and input of `graph` on `mesh`.

    Attributes:
      signatures: N-D signature per node.
      input_sbp: placement per graph input.
      output_sbp: placement per graph output (never partial).
      cost: the objective, seconds.
      boxing_bytes: predicted collective bytes of the forward program (boxing of edges and
        outputs, plus the ops' own collectives); `plan_hlo_bytes` reads the same from HLO.
    """

    graph: Graph = dataclasses.field(repr=False)
    mesh: Mesh = dataclasses.field(repr=False)
    signatures: tuple[NdSignature, ...]
    input_sbp: tuple[NdSbp, ...]
    output_sbp: tuple[NdSbp, ...]
    cost: float
    boxing_bytes: Fraction

    def describe(self) -> str:
        """One line per input and op: what is placed how."""
        lines = [f"input {self.graph.tensors[t].name} {self.graph.tensors[t].shape}: {sbp}"
                 for t, sbp in zip(self.graph.inputs, self.input_sbp, strict=True)]
        for node, sig in zip(self.graph.nodes, self.signatures, strict=True):
            ins = ", ".join(str(signature_inputs(sig, i)) for i in range(len(node.inputs)))
            lines.append(f"{self.graph.tensors[node.output].name}: {node.op}({ins}) -> "
                         f"{signature_outputs(sig)}")
        lines.append(f"outputs: {list(self.output_sbp)}; cost {self.cost:.3e} s, "
                     f"forward collectives {float(self.boxing_bytes):.0f} bytes")
        return "\n".join(lines)


class _Problem:
    """Costs of one graph on one mesh, cached for all solvers."""

    def __init__(self, graph: Graph, mesh: Mesh, cost: CostModel,
                 fixed: Mapping[str, NdSbp], out_sbp: Mapping[str, NdSbp] | None):
        self.graph, self.mesh, self.cost = graph, mesh, cost
        self._box_cache: dict[tuple, Fraction] = {}
        self._choices: dict[int, tuple[NdSbp, ...]] = {}
        self._single_use: dict[tuple, tuple[float, NdSbp]] = {}
        self.num_devices = mesh.devices.size
        names = graph.input_names()
        unknown = set(fixed) - set(names)
        if unknown:
            raise PlacementError(f"fixed placements name unknown inputs {sorted(unknown)}; "
                                 f"inputs are {list(names)}")
        self.fixed = {graph.inputs[names.index(n)]:
                      check_placement(tuple(s), graph.tensors[graph.inputs[names.index(n)]].shape,
                                      mesh, name=n, op="input")
                      for n, s in fixed.items()}
        out_names = [graph.tensors[t].name for t in graph.outputs]
        self.out_sbp = {}
        for n, s in (out_sbp or {}).items():
            if n not in out_names:
                raise PlacementError(f"output placement names unknown output {n!r}; "
                                     f"outputs are {out_names}")
            self.out_sbp[graph.outputs[out_names.index(n)]] = tuple(s)
        self.consumers: dict[int, list[int]] = {t: [] for t in range(len(graph.tensors))}
        for j, node in enumerate(graph.nodes):
            for t in node.inputs:
                self.consumers[t].append(j)
        self.sigs = [self._node_options(node) for node in graph.nodes]

    def _node_options(self, node: Node) -> list[tuple[NdSignature, float]]:
        shapes = [self.graph.tensors[t].shape for t in node.inputs]
        options = []
        for sig in nd_signatures(node.op, shapes, self.mesh):
            options.append((sig, self.node_cost(node, sig)))
        if not options:
            raise PlacementError(f"op {node.op!r} ({self.graph.tensors[node.output].name}): no "
                                 f"signature divides shapes {shapes} on mesh "
                                 f"{dict(self.mesh.shape)}")
        return options

    def seconds(self, nbytes: Fraction | float) -> float:
        return float(nbytes) / (self.num_devices * self.cost.link_bandwidth)

    def node_cost(self, node: Node, sig: NdSignature) -> float:
        shapes = tuple(self.graph.tensors[t].shape for t in node.inputs)
        divisor = math.prod(n for n, s in zip(self.mesh.devices.shape, sig, strict=True)
                            if s.divides_work)
        out = self.graph.tensors[node.output]
        total = get_op(node.op).cost_flops(shapes) / divisor / self.cost.flops_per_s
        total += self.seconds(signature_internal_bytes(
            sig, out.shape, np.dtype(out.dtype).itemsize, self.mesh))
        if self.cost.training:
            for i, t in enumerate(node.inputs):
                tensor = self.graph.tensors[t]
                if not np.issubdtype(np.dtype(tensor.dtype), np.floating):
                    continue
                placement = signature_inputs(sig, i)
                block = self.block_bytes(t, placement)
                for n, s, e in zip(self.mesh.devices.shape, sig, placement, strict=True):
                    if s.divides_work and isinstance(e, Broadcast):
                        total += self.seconds(collective_bytes("all-reduce", Fraction(block), n,
                                                               self.num_devices))
        return total

    def box_bytes(self, t: int, src: NdSbp, dst: NdSbp) -> Fraction:
        key = (t, src, dst)
        if key not in self._box_cache:
            tensor = self.graph.tensors[t]
            steps = plan_boxing(src, dst, tensor.shape, tensor.dtype, self.mesh, name=tensor.name)
            self._box_cache[key] = sum((s.bytes for s in steps), Fraction(0))
        return self._box_cache[key]

    def box(self, t: int, src: NdSbp, dst: NdSbp) -> float:
        return 0.0 if src == dst else self.seconds(self.box_bytes(t, src, dst))

    def memory(self, t: int, sbp: NdSbp) -> float:
        return self.cost.param_memory_cost * self.block_bytes(t, sbp)

    def _non_partial(self, t: int) -> tuple[NdSbp, ...]:
        """Every valid placement of tensor `t` without a partial axis."""
        if t not in self._choices:
            shape = self.graph.tensors[t].shape
            per_axis = [Broadcast(), *(Split(i) for i in range(len(shape)))]
            out = []
            for combo in itertools.product(per_axis, repeat=len(self.mesh.axis_names)):
                try:
                    out.append(check_placement(combo, shape, self.mesh))
                except PlacementError:
                    continue
            self._choices[t] = tuple(out)
        return self._choices[t]

    def input_choices(self, t: int) -> tuple[NdSbp, ...]:
        """Placements a graph input may take (fixed, or any valid non-partial one)."""
        return (self.fixed[t],) if t in self.fixed else self._non_partial(t)

    def best_single_use_input(self, t: int, required: NdSbp) -> tuple[float, NdSbp]:
        """Cheapest placement of an input consumed once. Its placement touches nothing else,
        so choosing it here is exact. Ties go to the placement holding fewest bytes."""
        key = (t, required)
        if key not in self._single_use:
            self._single_use[key] = min(
                ((self.memory(t, p) + self.box(t, p, required), p)
                 for p in self.input_choices(t)),
                key=lambda c: (c[0], self.block_bytes(t, c[1])))
        return self._single_use[key]

    def block_bytes(self, t: int, sbp: NdSbp) -> int:
        """Bytes of one device's block of tensor `t` placed as `sbp`."""
        tensor = self.graph.tensors[t]
        return math.prod(local_shape(sbp, tensor.shape, self.mesh)) * np.dtype(
            tensor.dtype).itemsize

    def output_choices(self, t: int) -> tuple[NdSbp, ...]:
        """Placements an output may end in (required, or any valid non-partial one)."""
        return (self.out_sbp[t],) if t in self.out_sbp else self._non_partial(t)

    def best_output(self, t: int, sbp: NdSbp) -> tuple[float, NdSbp]:
        return min(((self.box(t, sbp, q), q) for q in self.output_choices(t)),
                   key=lambda c: c[0])

    def last_use(self, t: int) -> int:
        uses = self.consumers[t]
        return max(uses) if uses else -1

    def evaluate(self, signatures: Sequence[NdSignature], input_sbp: Mapping[int, NdSbp],
                 output_sbp: Mapping[int, NdSbp]) -> tuple[float, Fraction]:
        """Objective and forward collective bytes of a complete assignment."""
        placement = dict(input_sbp)
        total = sum(self.memory(t, p) for t, p in input_sbp.items())
        nbytes = Fraction(0)
        for node, sig in zip(self.graph.nodes, signatures, strict=True):
            total += self.node_cost(node, sig)
            out = self.graph.tensors[node.output]
            nbytes += signature_internal_bytes(sig, out.shape, np.dtype(out.dtype).itemsize,
                                               self.mesh)
            for i, t in enumerate(node.inputs):
                req = signature_inputs(sig, i)
                total += self.box(t, placement[t], req)
                if placement[t] != req:
                    nbytes += self.box_bytes(t, placement[t], req)
            placement[node.output] = signature_outputs(sig)
        for t in self.graph.outputs:
            total += self.box(t, placement[t], output_sbp[t])
            if placement[t] != output_sbp[t]:
                nbytes += self.box_bytes(t, placement[t], output_sbp[t])
        return total, nbytes

    def make_plan(self, signatures, input_sbp, output_sbp) -> Plan:
        cost, nbytes = self.evaluate(signatures, input_sbp, output_sbp)
        return Plan(self.graph, self.mesh, tuple(signatures),
                    tuple(input_sbp[t] for t in self.graph.inputs),
                    tuple(output_sbp[t] for t in self.graph.outputs), cost, nbytes)


def _problem(graph, mesh, cost, fixed, out_sbp) -> _Problem:
    return _Problem(graph, mesh, cost or CostModel(), fixed or {}, out_sbp)


def plan(graph: Graph, mesh: Mesh, *, fixed: Mapping[str, NdSbp] | None = None,
         out_sbp: Mapping[str, NdSbp] | None = None, cost: CostModel | None = None) -> Plan:
    """Return the cost-optimal plan of `graph` on `mesh` by frontier dynamic programming.

    Args:
      graph: from `trace_graph`.
      mesh: from `make_mesh`.
      fixed: placements of inputs that are given (the data batch), by input name.
      out_sbp: required placements of outputs, by output tensor name; others are the cheapest
        non-partial placement.
      cost: the cost model.

    Example:
      >>> p = plan(trace_graph(mlp, params, x), mesh, fixed={"[1]": (S(0), B)})  # doctest: +SKIP
    """
    prob = _problem(graph, mesh, cost, fixed, out_sbp)
    inputs, outputs = set(graph.inputs), set(graph.outputs)
    # One dict per node: live placements (sorted (tensor, sbp) pairs) -> (cost, back-pointer).
    layers: list[dict[tuple, tuple[float, Any]]] = []
    layer: dict[tuple, tuple[float, Any]] = {(): (0.0, None)}
    for j, node in enumerate(graph.nodes):
        nxt: dict[tuple, tuple[float, Any]] = {}
        # Inputs first used here and used again later join the state, so branch on them.
        fresh_multi = [t for t in dict.fromkeys(node.inputs)
                       if t in inputs and prob.consumers[t][0] == j and prob.last_use(t) > j]
        for state, (base, _) in layer.items():
            for fresh in itertools.product(*(prob.input_choices(t) for t in fresh_multi)):
                placed = dict(state) | dict(zip(fresh_multi, fresh, strict=True))
                extra = sum(prob.memory(t, p) for t, p in zip(fresh_multi, fresh, strict=True))
                for sig_index, (sig, node_cost) in enumerate(prob.sigs[j]):
                    total = base + extra + node_cost
                    chosen = dict(zip(fresh_multi, fresh, strict=True))
                    for i, t in enumerate(node.inputs):
                        req = signature_inputs(sig, i)
                        if t in placed:
                            total += prob.box(t, placed[t], req)
                        else:  # a graph input used only here: its cheapest placement
                            c, chosen[t] = prob.best_single_use_input(t, req)
                            total += c
                    live = {t: p for t, p in placed.items()
                            if prob.last_use(t) > j or t in outputs}
                    if prob.last_use(node.output) > j or node.output in outputs:
                        live[node.output] = signature_outputs(sig)
                    key = tuple(sorted(live.items()))
                    if key not in nxt or total < nxt[key][0]:
                        nxt[key] = (total, (state, sig_index, chosen))
        layers.append(nxt)
        layer = nxt
    best_key, best_total, best_out = None, math.inf, None
    for key, (total, _) in layer.items():
        live = dict(key)
        out = {}
        for t in graph.outputs:
            c, out[t] = prob.best_output(t, live[t])
            total += c
        if total < best_total:
            best_key, best_total, best_out = key, total, out
    signatures: list[NdSignature] = [None] * len(graph.nodes)  # type: ignore[list-item]
    input_sbp: dict[int, NdSbp] = {}
    key = best_key
    for j in range(len(graph.nodes) - 1, -1, -1):
        _, (key, sig_index, chosen) = layers[j][key]
        signatures[j] = prob.sigs[j][sig_index][0]
        input_sbp.update(chosen)
    for t in graph.inputs:  # inputs no op consumes keep their fixed or first valid placement
        input_sbp.setdefault(t, prob.input_choices(t)[0])
    return prob.make_plan(signatures, input_sbp, best_out)


def greedy_plan(graph: Graph, mesh: Mesh, *, fixed: Mapping[str, NdSbp] | None = None,
                out_sbp: Mapping[str, NdSbp] | None = None, cost: CostModel | None = None
                ) -> Plan:
    """OneFlow's greedy rule: each op, in order, takes its cheapest signature given its inputs'
    placements so far; a parameter takes the placement its first consumer wants."""
    prob = _problem(graph, mesh, cost, fixed, out_sbp)
    placement: dict[int, NdSbp] = {}
    input_sbp: dict[int, NdSbp] = {}
    signatures = []
    for j, node in enumerate(graph.nodes):
        best = None
        for sig, node_cost in prob.sigs[j]:
            total, chosen = node_cost, {}
            for i, t in enumerate(node.inputs):
                req = signature_inputs(sig, i)
                if t in placement:
                    total += prob.box(t, placement[t], req)
                elif t in chosen:
                    total += prob.box(t, chosen[t], req)
                else:
                    c, chosen[t] = prob.best_single_use_input(t, req)
                    total += c
            if best is None or total < best[0]:
                best = (total, sig, chosen)
        _, sig, chosen = best
        signatures.append(sig)
        placement.update(chosen)
        input_sbp.update(chosen)
        placement[node.output] = signature_outputs(sig)
    out = {t: prob.best_output(t, placement[t])[1] for t in graph.outputs}
    for t in graph.inputs:
        input_sbp.setdefault(t, prob.input_choices(t)[0])
    return prob.make_plan(signatures, input_sbp, out)


def exhaustive_plan(graph: Graph, mesh: Mesh, *, fixed: Mapping[str, NdSbp] | None = None,
                    out_sbp: Mapping[str, NdSbp] | None = None, cost: CostModel | None = None,
                    max_visits: int = 20_000_000) -> Plan:
    """The exact optimum by depth-first enumeration of every signature of every op and every
    placement of every input used more than once, independent of the DP.

    A branch is pruned only when its cost so far plus an admissible bound on the remaining ops
    (each op's cheapest signature counting its cheapest possible incoming boxing) cannot beat
    the best complete plan found (initially the greedy plan). An input used once takes its
    cheapest placement for the signature at hand, which is exact because that placement
    touches no other cost.

    Raises:
      RuntimeError: more than `max_visits` partial plans were needed.
    """
    prob = _problem(graph, mesh, cost, fixed, out_sbp)
    n = len(graph.nodes)
    producer = {node.output: j for j, node in enumerate(graph.nodes)}
    multi = {t for t in graph.inputs if len(prob.consumers[t]) > 1}

    def possible(t: int) -> set[NdSbp]:
        if t in producer:
            return {signature_outputs(sig) for sig, _ in prob.sigs[producer[t]]}
        return set(prob.input_choices(t))

    def edge_bound(t: int, req: NdSbp) -> float:
        if t in graph.inputs and t not in multi:
            return prob.best_single_use_input(t, req)[0]
        return min(prob.box(t, p, req) + (prob.memory(t, p) if t in multi else 0.0)
                   for p in possible(t))

    bounds = []
    for j, node in enumerate(graph.nodes):
        bounds.append([c + sum(edge_bound(t, signature_inputs(sig, i))
                               for i, t in enumerate(node.inputs)) for sig, c in prob.sigs[j]])
    order = [sorted(range(len(b)), key=b.__getitem__) for b in bounds]
    tail = [0.0] * (n + 1)
    for j in range(n - 1, -1, -1):
        tail[j] = tail[j + 1] + min(bounds[j])
    incumbent = greedy_plan(graph, mesh, fixed=fixed, out_sbp=out_sbp, cost=cost)
    best: dict[str, Any] = {"cost": incumbent.cost * (1 + 1e-12), "plan": None}
    visits = 0

    def visit(j: int, placement: dict[int, NdSbp], total: float, sigs: list,
              inputs_sbp: dict) -> None:
        nonlocal visits
        visits += 1
        if visits > max_visits:
            raise RuntimeError(f"exhaustive_plan: more than {max_visits} partial plans")
        if total + tail[j] >= best["cost"]:
            return
        if j == n:
            for choice in itertools.product(*(prob.output_choices(t) for t in graph.outputs)):
                done = total + sum(prob.box(t, placement[t], q)
                                   for t, q in zip(graph.outputs, choice, strict=True))
                if done < best["cost"]:
                    best["cost"] = done
                    best["plan"] = (list(sigs), dict(inputs_sbp),
                                    dict(zip(graph.outputs, choice, strict=True)))
            return
        node = graph.nodes[j]
        new_multi = [t for t in dict.fromkeys(node.inputs) if t in multi and t not in placement]
        for choice in itertools.product(*(prob.input_choices(t) for t in new_multi)):
            placed = placement | dict(zip(new_multi, choice, strict=True))
            mem = sum(prob.memory(t, p) for t, p in zip(new_multi, choice, strict=True))
            for s in order[j]:
                sig, node_cost = prob.sigs[j][s]
                step, chosen = mem + node_cost, dict(zip(new_multi, choice, strict=True))
                for i, t in enumerate(node.inputs):
                    req = signature_inputs(sig, i)
                    if t in placed:
                        step += prob.box(t, placed[t], req)
                    else:
                        c, chosen[t] = prob.best_single_use_input(t, req)
                        step += c
                visit(j + 1, placed | {node.output: signature_outputs(sig)}, total + step,
                      [*sigs, sig], inputs_sbp | chosen)

    visit(0, {}, 0.0, [], {})
    if best["plan"] is None:  # nothing beat the greedy plan: it is optimal
        return incumbent
    sigs, inputs_sbp, out = best["plan"]
    for t in graph.inputs:
        inputs_sbp.setdefault(t, prob.input_choices(t)[0])
    return prob.make_plan(sigs, inputs_sbp, out)


# ----------------------------------------------------------------------------- execution


def plan_program(plan: Plan) -> Callable:
    """Return a jitted function of the plan's physical inputs running the whole plan in one
    `shard_map`: every boxing and op kernel is local code plus the planned collectives."""
    graph, mesh = plan.graph, plan.mesh
    tensors = graph.tensors
    placement = dict(zip(graph.inputs, plan.input_sbp, strict=True))
    steps = []
    for node, sig in zip(graph.nodes, plan.signatures, strict=True):
        boxes = []
        for i, t in enumerate(node.inputs):
            req = signature_inputs(sig, i)
            boxes.append((t, placement[t], req, plan_boxing(placement[t], req, tensors[t].shape,
                                                           tensors[t].dtype, mesh)))
        kernel = local_op(node.op, sig, mesh, [tensors[t].shape for t in node.inputs])
        steps.append((node, boxes, kernel))
        placement[node.output] = signature_outputs(sig)
    finals = [(t, placement[t], q, plan_boxing(placement[t], q, tensors[t].shape,
                                               tensors[t].dtype, mesh))
              for t, q in zip(graph.outputs, plan.output_sbp, strict=True)]

    def local(*blocks):
        env = dict(zip(graph.inputs, blocks, strict=True))
        for node, boxes, kernel in steps:
            args = [box_local(env[t], st, src, dst, mesh) if src != dst else env[t]
                    for t, src, dst, st in boxes]
            (env[node.output],) = kernel(*args)
        return tuple(box_local(env[t], st, src, dst, mesh) if src != dst else env[t]
                     for t, src, dst, st in finals)

    in_specs = tuple(physical_spec(s, mesh, len(tensors[t].shape))
                     for t, s in zip(graph.inputs, plan.input_sbp, strict=True))
    out_specs = tuple(physical_spec(s, mesh, len(tensors[t].shape))
                      for t, s in zip(graph.outputs, plan.output_sbp, strict=True))
    return jax.jit(jax.shard_map(local, mesh=mesh, in_specs=in_specs, out_specs=out_specs,
                                 check_vma=False))


def place_inputs(plan: Plan, *args) -> list[GlobalTensor]:
    """Place the leaves of `args` (same pytree as traced) as the plan's inputs."""
    leaves = jax.tree.leaves(args)
    return [to_global(x, s, plan.mesh, name=plan.graph.tensors[t].name)
            for x, s, t in zip(leaves, plan.input_sbp, plan.graph.inputs, strict=True)]


def run_plan(plan: Plan, *args) -> list[jax.Array]:
    """Run `plan` on `args` and return the outputs as plain arrays (for checking)."""
    placed = place_inputs(plan, *args)
    outs = plan_program(plan)(*(g.data for g in placed))
    return [np.asarray(o) for o in outs]


def plan_hlo_bytes(plan: Plan) -> Fraction:
    """Collective bytes of the compiled plan program, read from its HLO."""
    from jaxhin.sbp._hlo import hlo_collective_bytes

    tensors = plan.graph.tensors
    args = []
    for t, s in zip(plan.graph.inputs, plan.input_sbp, strict=True):
        shape = tensors[t].shape
        lead = tuple(plan.mesh.shape[a] for a, e in zip(plan.mesh.axis_names, s, strict=True)
                     if isinstance(e, Partial))
        args.append(jax.ShapeDtypeStruct(lead + shape, tensors[t].dtype,
                                         sharding=to_named_sharding(s, plan.mesh, len(shape))))
    text = plan_program(plan).lower(*args).compile().as_text()
    return hlo_collective_bytes(text, plan.mesh.devices.size)


def xla_auto_bytes(fn: Callable, plan: Plan, *args) -> Fraction:
    """Collective bytes XLA's own sharding propagation emits for `fn` given the plan's input
    and output shardings (intermediates left to XLA)."""
    from jaxhin.sbp._hlo import hlo_collective_bytes

    tensors = plan.graph.tensors
    in_sh = [to_named_sharding(s, plan.mesh, len(tensors[t].shape))
             for t, s in zip(plan.graph.inputs, plan.input_sbp, strict=True)]
    out_sh = [to_named_sharding(s, plan.mesh, len(tensors[t].shape))
              for t, s in zip(plan.graph.outputs, plan.output_sbp, strict=True)]
    in_tree = jax.tree.structure(args)
    out_tree = jax.tree.structure(jax.eval_shape(fn, *args))
    jitted = jax.jit(fn, in_shardings=jax.tree.unflatten(in_tree, in_sh),
                     out_shardings=jax.tree.unflatten(out_tree, out_sh))
    abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), args)
    text = jitted.lower(*abstract).compile().as_text()
    return hlo_collective_bytes(text, plan.mesh.devices.size)
