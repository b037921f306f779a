"""jaxhin.remat: Coop, allocation-aware tensor rematerialization (Zhang et al., NeurIPS 2023).

A training step is traced to an eager program (`trace`: ops, tensor sizes, producers,
consumers, FLOPs, modelled times), replayed in an address-ordered memory pool (`Allocator`:
alignment, best fit, split and merge) under a budget, and evicted by DTR, DTE or Coop (sliding
window over addresses, cheap tensor partitioning, recomputable in-place; each switchable in
`SimConfig`). `simulate` gives the paper's metrics (compute overhead, feasibility,
fragmentation, search latency and pieces scanned, share of evicted bytes used), `lowest_budget`
the smallest feasible budget, and `study` the eight-model comparison. A plan is exported as
`jax.checkpoint_policies.save_only_these_names` (`plan_names`, `names_policy`) and checked with
XLA's memory analysis and jaxpr FLOPs (`compare_policies`).

Example:
  >>> from jaxhin import remat
  >>> tr = remat.load_trace("resnet50")                     # shapes only, nothing runs
  >>> peak = remat.peak_memory(tr)
  >>> remat.simulate(tr, remat.policy_config("coop"), int(0.5 * peak)).overhead
"""

from jaxhin.remat._alloc import Allocator, OutOfMemory
from jaxhin.remat._export import (
    BUILTIN_POLICIES,
    EXPORT_MODELS,
    ExportConfig,
    PolicyCost,
    backward_start,
    compare_policies,
    dominates,
    export_step,
    names_policy,
    plan_names,
    policy_cost,
)
from jaxhin.remat._models import MODELS, model_step, train_step
from jaxhin.remat._report import plot_metric, plot_overhead, plot_study
from jaxhin.remat._sim import (
    INPLACE_PRIMITIVES,
    POLICIES,
    Infeasible,
    SimConfig,
    SimResult,
    lowest_budget,
    peak_memory,
    policy_config,
    simulate,
)
from jaxhin.remat._study import ABLATIONS, StudyConfig, load_trace, study, study_model, tallies
from jaxhin.remat._trace import DeviceModel, Op, Tensor, Trace, jaxpr_flops, trace

__all__ = [
    "ABLATIONS",
    "BUILTIN_POLICIES",
    "EXPORT_MODELS",
    "INPLACE_PRIMITIVES",
    "MODELS",
    "POLICIES",
    "Allocator",
    "DeviceModel",
    "ExportConfig",
    "Infeasible",
    "Op",
    "OutOfMemory",
    "PolicyCost",
    "SimConfig",
    "SimResult",
    "StudyConfig",
    "Tensor",
    "Trace",
    "backward_start",
    "compare_policies",
    "dominates",
    "export_step",
    "jaxpr_flops",
    "load_trace",
    "lowest_budget",
    "model_step",
    "names_policy",
    "peak_memory",
    "plan_names",
    "plot_metric",
    "plot_overhead",
    "plot_study",
    "policy_config",
    "policy_cost",
    "simulate",
    "study",
    "study_model",
    "tallies",
    "trace",
    "train_step",
]
