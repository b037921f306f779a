"""An actor runtime for pipeline parallelism (OneFlow, Sec. 4).

Every stage s has two actors, forward F_s and backward B_s, on the stage's devices (one task at
a time per stage). An actor fires when its inputs are ready and it has a free output register:
  F_s(m) needs F_{s-1}(m) done (or the batch, s = 0) and a free register of F_s;
  B_s(m) needs B_{s+1}(m) done (or F_{S-1}(m), the loss, for the last stage).
F_s(m)'s register holds the stashed activation (the stage input) until B_s(m) has consumed it,
so the register count bounds the activations a stage keeps: back-pressure with no scheduler.
The classic schedules fall out of register counts:
  GPipe: M registers per stage, forward first: all forwards, then all backwards; stash = M.
  1F1B:  S - s registers at stage s, backward first: warm-up, one-forward-one-backward, drain;
         stash <= S.
Time is the runtime's logical clock (a forward task takes `forward_ticks`, a backward
`backward_ticks`); the bubble fraction is the idle share of stage-ticks, whose theory value for
uniform stages is (S - 1) / (M + S - 1). Wall-clock time on fake CPU devices says nothing about a
pipeline, which is why the clock is logical. Tasks run their JAX computations in firing order (a
valid dependency order); JAX's asynchronous dispatch overlaps stages on real devices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

SCHEDULES = ("gpipe", "1f1b")


@dataclasses.dataclass(frozen=True)
class Task:
    """One actor firing: stage, "F" or "B", microbatch, start and end tick."""

    stage: int
    kind: str
    microbatch: int
    start: int
    end: int


@dataclasses.dataclass(frozen=True)
class Timeline:
    """What the runtime did.

    Attributes:
      tasks: every firing in firing order.
      stages, microbatches: S and M.
      makespan: ticks from the first firing to the last completion.
      bubble_fraction: 1 - busy stage-ticks / (S * makespan).
      theory_bubble: (S - 1) / (M + S - 1).
      peak_stash: most registers (stashed activations) in use at once, per stage.
    """

    tasks: tuple[Task, ...]
    stages: int
    microbatches: int
    makespan: int
    bubble_fraction: float
    theory_bubble: float
    peak_stash: tuple[int, ...]


def schedule_registers(schedule: str, stages: int, microbatches: int
                       ) -> tuple[tuple[int, ...], str]:
    """Register counts and firing priority of a named schedule."""
    if schedule == "gpipe":
        return (microbatches,) * stages, "forward"
    if schedule == "1f1b":
        return tuple(min(stages - s, microbatches) for s in range(stages)), "backward"
    raise ValueError(f"unknown schedule {schedule!r}; expected one of {SCHEDULES}")


def run_actors(stages: int, microbatches: int, registers: Sequence[int], *,
               priority: str = "backward", forward_ticks: int = 1, backward_ticks: int = 1,
               on_fire: Callable[[Task], None] | None = None) -> Timeline:
    """Run the actor system of the module docstring and return its timeline.

    Args:
      stages, microbatches: S and M.
      registers: output registers of each stage's forward actor (>= 1).
      priority: which ready actor of a stage fires first, "forward" or "backward".
      forward_ticks, backward_ticks: task durations on the logical clock.
      on_fire: called with each task as it fires (runs the stage's computation).
    """
    if stages < 1 or microbatches < 1:
        raise ValueError(f"need stages >= 1 and microbatches >= 1, got {stages}, {microbatches}")
    if len(registers) != stages or min(registers) < 1:
        raise ValueError(f"registers must be {stages} counts >= 1, got {tuple(registers)}")
    if priority not in ("forward", "backward"):
        raise ValueError(f"priority must be 'forward' or 'backward', got {priority!r}")
    done_f = [[None] * microbatches for _ in range(stages)]
    done_b = [[None] * microbatches for _ in range(stages)]
    next_f, next_b = [0] * stages, [0] * stages
    busy_until = [0] * stages
    in_use: list[list[int]] = [[] for _ in range(stages)]  # end ticks of pending registers
    peak = [0] * stages
    tasks: list[Task] = []
    busy = 0
    t = 0
    while any(n < microbatches for n in next_b):
        for s in range(stages):
            if busy_until[s] > t:
                continue
            in_use[s] = [e for e in in_use[s] if e is None or e > t]
            m = next_f[s]
            can_f = (m < microbatches and len(in_use[s]) < registers[s]
                     and (s == 0 or (done_f[s - 1][m] is not None and done_f[s - 1][m] <= t)))
            m = next_b[s]
            can_b = False
            if m < microbatches:
                upstream = done_f[s][m] if s == stages - 1 else done_b[s + 1][m]
                can_b = (done_f[s][m] is not None and done_f[s][m] <= t
                         and upstream is not None and upstream <= t)
            if not (can_f or can_b):
                continue
            kind = ("B" if can_b else "F") if priority == "backward" else ("F" if can_f else "B")
            if kind == "F":
                m, ticks = next_f[s], forward_ticks
                next_f[s] += 1
                done_f[s][m] = t + ticks
                in_use[s].append(None)  # freed when B_s(m) ends
            else:
                m, ticks = next_b[s], backward_ticks
                next_b[s] += 1
                done_b[s][m] = t + ticks
                in_use[s][in_use[s].index(None)] = t + ticks
            peak[s] = max(peak[s], len(in_use[s]))
            busy_until[s] = t + ticks
            busy += ticks
            task = Task(s, kind, m, t, t + ticks)
            tasks.append(task)
            if on_fire is not None:
                on_fire(task)
        t += 1
    makespan = max(task.end for task in tasks)
    return Timeline(tuple(tasks), stages, microbatches, makespan,
                    1.0 - busy / (stages * makespan),
                    (stages - 1) / (microbatches + stages - 1), tuple(peak))


@dataclasses.dataclass(frozen=True)
class Stage:
    """One pipeline stage.

    Attributes:
      fn: `fn(params, x) -> y`; the last stage's is `fn(params, x, labels) -> mean loss`.
      params_sharding: pytree of `NamedSharding`s of the stage's parameters on its devices.
      input_sharding: `NamedSharding` of the stage's input activation (or batch) on its devices.
    """

    fn: Callable
    params_sharding: Any
    input_sharding: Any


def pipeline_value_and_grad(stages: Sequence[Stage], params: Sequence[Any], inputs: jax.Array,
                            labels: jax.Array, *, microbatches: int, schedule: str = "1f1b",
                            labels_sharding: Any = None, forward_ticks: int = 1,
                            backward_ticks: int = 1) -> tuple[jax.Array, list[Any], Timeline]:
    """Mean loss and per-stage parameter gradients of a pipelined model, run by the actors.

    The batch is split into `microbatches` equal parts along axis 0; the loss is the mean of
    the microbatch losses (the full-batch mean for equal parts), so the gradients equal those
    of the unpipelined model. A backward task recomputes its stage's forward from the stashed
    stage input (activation stashing with recomputation inside the stage).

    Returns:
      `(loss, grads, timeline)`; `grads[s]` has `params[s]`'s structure and sharding.
    """
    num = len(stages)
    if inputs.shape[0] % microbatches:
        raise ValueError(f"batch of {inputs.shape[0]} does not split into {microbatches} "
                         f"microbatches")
    registers, priority = schedule_registers(schedule, num, microbatches)
    params = [jax.device_put(p, st.params_sharding) for p, st in zip(params, stages, strict=True)]
    xs = np.split(np.asarray(inputs), microbatches)
    ys = np.split(np.asarray(labels), microbatches)
    scale = 1.0 / microbatches
    fwd = [jax.jit(st.fn) for st in stages[:-1]]

    def make_bwd(fn, first: bool):
        if first:  # the batch (token ids) has no gradient
            return jax.jit(lambda p, x, g: (jax.vjp(lambda q: fn(q, x), p)[1](g)[0], None))
        return jax.jit(lambda p, x, g: jax.vjp(fn, p, x)[1](g))

    bwd = [make_bwd(st.fn, s == 0) for s, st in enumerate(stages[:-1])]
    loss_fn = lambda p, x, y: stages[-1].fn(p, x, y) * scale  # noqa: E731
    if num == 1:
        grad_last = jax.value_and_grad(loss_fn)
        last = jax.jit(lambda p, x, y: (lambda v, g: (v, (g, None)))(*grad_last(p, x, y)))
    else:
        last = jax.jit(jax.value_and_grad(loss_fn, argnums=(0, 1)))
    accumulate = jax.jit(lambda a, b: jax.tree.map(jax.numpy.add, a, b))
    stash: list[dict[int, jax.Array]] = [{} for _ in range(num)]
    outputs: list[dict[int, jax.Array]] = [{} for _ in range(num)]
    grad_in: list[dict[int, jax.Array]] = [{} for _ in range(num)]
    grads: list[Any] = [None] * num
    losses: list[jax.Array] = []

    def fire(task: Task) -> None:
        s, m = task.stage, task.microbatch
        if task.kind == "F":
            source = xs[m] if s == 0 else outputs[s - 1].pop(m)
            x = jax.device_put(source, stages[s].input_sharding)  # data movement between stages
            stash[s][m] = x
            if s < num - 1:
                outputs[s][m] = fwd[s](params[s], x)
            return
        x = stash[s].pop(m)
        if s == num - 1:
            y = jax.device_put(ys[m], labels_sharding) if labels_sharding is not None else ys[m]
            loss, (g_params, g_x) = last(params[s], x, y)
            losses.append(loss)
        else:
            g_params, g_x = bwd[s](params[s], x, grad_in[s].pop(m))
        grads[s] = g_params if grads[s] is None else accumulate(grads[s], g_params)
        if s > 0:
            grad_in[s - 1][m] = jax.device_put(g_x, _output_sharding(stages, s - 1))

    timeline = run_actors(num, microbatches, registers, priority=priority,
                          forward_ticks=forward_ticks, backward_ticks=backward_ticks,
                          on_fire=fire)
    return sum(losses), grads, timeline


def _output_sharding(stages: Sequence[Stage], s: int):
    """Stage s's output lives where stage s+1 reads its input; its gradient goes back to s."""
    sharding = stages[s + 1].input_sharding
    mesh_s = stages[s].input_sharding.mesh
    return jax.sharding.NamedSharding(mesh_s, sharding.spec)
