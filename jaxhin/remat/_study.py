"""The paper's comparison: eight models, three policies, budgets as fractions of each model's
memory need; lowest feasible budgets; ablations of Coop's three parts.

`load_trace` is the one path from a model name (built-in or `module:factory`) to a `Trace`;
`budget_bytes` turns a ratio into bytes; `study` runs the whole table that
`jaxhin remat study` prints and `notebooks/30_remat.ipynb` plots.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

from jaxhin.remat._models import MODELS, model_step
from jaxhin.remat._sim import (
    POLICIES,
    Infeasible,
    SimConfig,
    lowest_budget,
    peak_memory,
    policy_config,
    simulate,
)
from jaxhin.remat._trace import DeviceModel, Trace, trace

ABLATIONS = {
    "coop": {},
    "coop - window": {"window": False},
    "coop - partition": {"partition": False},
    "coop - recomputable in-place": {"recomputable_inplace": False},
}


def load_trace(model: str, device: DeviceModel | None = None) -> Trace:
    """Trace a built-in model (`MODELS`) or a user's `module:factory` / `file.py:factory`;
    op times from `device` (default: `DeviceModel()`)."""
    step, args = model_step(model)
    return trace(step, *args, name=model, device=device or DeviceModel())


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """The comparison's settings.

    Attributes:
      models: names (built-in or factories).
      ratios: budget ratios (of each model's memory need) where policies are compared.
      policies: compared policies.
      resolution: bisection step of the lowest feasible budget.
      ablation_ratio: budget ratio of the ablation rows.
    """

    models: tuple[str, ...] = tuple(MODELS)
    ratios: tuple[float, ...] = (0.8, 0.6, 0.5)
    policies: tuple[str, ...] = POLICIES
    resolution: float = 0.01
    ablation_ratio: float = 0.5

    def __post_init__(self):
        for r in (*self.ratios, self.ablation_ratio):
            if not 0 < r <= 1:
                raise ValueError(f"budget ratios must be in (0, 1], got {r}")
        for p in self.policies:
            SimConfig(policy=p)
        if not 0 < self.resolution < 0.5:
            raise ValueError(f"resolution must be in (0, 0.5), got {self.resolution}")


def study_model(tr: Trace, config: StudyConfig, log: Callable[[str], None] = lambda s: None
                ) -> dict:
    """One model's rows: per ratio and policy the simulation metrics, the lowest feasible
    budget per policy, and Coop's ablations."""
    peak = peak_memory(tr)
    out = {"model": tr.name, "ops": len(tr.ops), "tensors": len(tr.tensors),
           "peak_bytes": peak, "input_bytes": tr.input_bytes, "step_s": tr.time_s,
           "runs": [], "lowest": {}, "ablations": []}
    for ratio in config.ratios:
        for policy in config.policies:
            start = time.perf_counter()
            res = simulate(tr, policy_config(policy), int(peak * ratio))
            out["runs"].append({"ratio": ratio, **res.metrics(),
                                "wall_s": time.perf_counter() - start})
    for policy in config.policies:
        try:
            ratio, res = lowest_budget(tr, policy_config(policy), peak=peak,
                                       resolution=config.resolution)
            out["lowest"][policy] = {"ratio": ratio, "bytes": res.budget_bytes,
                                     "overhead": res.overhead}
        except Infeasible as err:
            out["lowest"][policy] = {"ratio": None, "bytes": None, "reason": str(err)}
    for label, change in ABLATIONS.items():
        res = simulate(tr, policy_config("coop", **change), int(peak * config.ablation_ratio))
        out["ablations"].append({"variant": label, "ratio": config.ablation_ratio,
                                 **res.metrics()})
    log(summary_line(out))
    return out


def summary_line(row: dict) -> str:
    """One line per model: overheads per ratio and policy, lowest budgets."""
    cells = []
    for ratio in sorted({r["ratio"] for r in row["runs"]}, reverse=True):
        runs = {r["policy"]: r for r in row["runs"] if r["ratio"] == ratio}
        cells.append(f"{ratio:g}: " + " ".join(
            f"{p} {r['overhead']:.3f}" if r["feasible"] else f"{p} OOM"
            for p, r in runs.items()))
    low = " ".join(f"{p} {v['ratio']:.2f}" if v["ratio"] is not None else f"{p} -"
                   for p, v in row["lowest"].items())
    return f"{row['model']:13s} " + " | ".join(cells) + f" | lowest {low}"


def study(config: StudyConfig = StudyConfig(), *, log: Callable[[str], None] = print,
          show_progress: bool = True) -> dict:
    """Run every model of `config`; returns per-model rows and the acceptance tallies."""
    from jaxhin.train import progress

    rows = []
    for name in progress(config.models, desc="models", enabled=show_progress):
        rows.append(study_model(load_trace(name), config, log))
    return {"models": rows, "tallies": tallies(rows)}


def _overhead(run: dict) -> float:
    return run["overhead"] if run["feasible"] else float("inf")


def tallies(rows: Sequence[dict]) -> dict:
    """The acceptance counts: where Coop's lowest budget is at most half DTR's (and never
    above), and per ratio the models where Coop's overhead is below both baselines', its
    fragmentation lower, its pieces scanned fewer. An infeasible run's overhead is infinite."""
    out: dict = {"half_of_dtr": [], "above_dtr": [], "per_ratio": {}}
    for row in rows:
        low = row["lowest"]
        coop, dtr = low.get("coop", {}).get("ratio"), low.get("dtr", {}).get("ratio")
        if coop is not None and (dtr is None or coop <= 0.5 * dtr):
            out["half_of_dtr"].append(row["model"])
        if coop is None or (dtr is not None and coop > dtr):
            out["above_dtr"].append(row["model"])
    for ratio in sorted({r["ratio"] for row in rows for r in row["runs"]}, reverse=True):
        lower, frag, scan = [], [], []
        for row in rows:
            runs = {r["policy"]: r for r in row["runs"] if r["ratio"] == ratio}
            if not {"coop", "dtr", "dte"} <= set(runs):
                continue
            c, d, e = runs["coop"], runs["dtr"], runs["dte"]
            if _overhead(c) < min(_overhead(d), _overhead(e)):
                lower.append(row["model"])
            if c["fragmentation"] < min(d["fragmentation"], e["fragmentation"]):
                frag.append(row["model"])
            if c["pieces_scanned"] < d["pieces_scanned"]:
                scan.append(row["model"])
        out["per_ratio"][str(ratio)] = {"overhead_below_both": lower,
                                        "fragmentation_lower": frag,
                                        "scanned_below_dtr": scan}
    return out
