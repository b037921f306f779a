"""`jaxhin remat simulate | study | plan`: Coop's rematerialization runtime over traced models."""

from __future__ import annotations

import argparse

from jaxhin.cli.main import Command, UsageError, output_file

_MODEL_HELP = ("a built-in model ({names}) or your own: package.module:factory or "
               "path/to/file.py:factory, a no-argument function returning (step_fn, example_args)")


def _ratio(value: str) -> float:
    try:
        r = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {value!r}") from None
    if not 0 < r <= 1:
        raise argparse.ArgumentTypeError(f"a budget ratio must be in (0, 1], got {value}")
    return r


def _bytes(value: str) -> int:
    units = {"k": 2**10, "m": 2**20, "g": 2**30}
    text = value.strip().lower().removesuffix("ib").removesuffix("b")
    scale = units.get(text[-1:], 1)
    try:
        n = float(text[:-1] if text[-1:] in units else text) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected bytes such as 4000000000 or 3.5GiB, "
                                         f"got {value!r}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"a budget must be > 0 bytes, got {value}")
    return int(n)


def _load(model: str):
    from jaxhin.remat import load_trace

    try:
        return load_trace(model)
    except (ValueError, FileNotFoundError) as err:
        raise UsageError(str(err)) from None


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def _too_small(tr, config, budget: int, peak: int, what: str) -> UsageError:
    """The clear error of acceptance point 6: the budget, and the minimum found."""
    from jaxhin.remat import Infeasible, lowest_budget

    try:
        ratio, res = lowest_budget(tr, config, peak=peak)
        found = (f"the lowest feasible budget found is {ratio:.2f} of the peak "
                 f"({res.budget_bytes} bytes, {_gib(res.budget_bytes)})")
    except Infeasible as err:
        found = f"no budget up to the peak works ({err})"
    return UsageError(f"{what} {budget} bytes ({_gib(budget)}, {budget / peak:.2f} of the "
                      f"{_gib(peak)} peak) is below what {config.policy} can run "
                      f"{tr.name} in: {found}")


# -- simulate -----------------------------------------------------------------------------------


def _simulate_arguments(parser: argparse.ArgumentParser) -> None:
    from jaxhin.remat import MODELS, POLICIES

    parser.add_argument("--model", default="resnet50", help=_MODEL_HELP.format(names=", ".join(MODELS)))
    parser.add_argument("--policy", choices=POLICIES, default="coop")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--budget", type=_ratio, default=0.5,
                        help="memory budget as a fraction of the model's need with no "
                             "rematerialization (default 0.5)")
    budget.add_argument("--budget-bytes", type=_bytes, default=None,
                        help="memory budget in bytes (e.g. 8GiB)")
    for part, what in (("window", "Coop's sliding-window eviction"),
                       ("partition", "cheap tensor partitioning"),
                       ("recomputable-inplace", "recomputable in-place")):
        parser.add_argument(f"--no-{part}", action="store_true",
                            help=f"ablation: turn off {what}")


def _run_simulate(args: argparse.Namespace):
    from jaxhin.remat import peak_memory, policy_config, simulate

    tr = _load(args.model)
    changes = {}
    if args.no_window:
        changes["window"] = False
    if args.no_partition:
        changes["partition"] = False
    if args.no_recomputable_inplace:
        changes["recomputable_inplace"] = False
    config = policy_config(args.policy, **changes)
    peak = peak_memory(tr)
    budget = args.budget_bytes or int(peak * args.budget)
    print(f"{tr}\nneeds {_gib(peak)} with no rematerialization; budget {_gib(budget)} "
          f"({budget / peak:.2f}); policy {config}")
    res = simulate(tr, config, budget)
    if not res.feasible:
        raise _too_small(tr, config, budget, peak, "budget")
    print(f"feasible: compute overhead {res.overhead:.3f}, fragmentation {res.fragmentation:.3f}, "
          f"{res.evictions} evictions in {res.eviction_events} events, {res.pieces_scanned} "
          f"pieces scanned in {res.search_s:.2f} s, {res.evicted_used_share:.2f} of evicted "
          f"bytes used at once")
    config_out = {"model": args.model, "sim": config, "budget_bytes": budget,
                  "budget_ratio": budget / peak}
    return config_out, {**res.metrics(), "ops": len(tr.ops), "need_bytes": peak}


# -- study --------------------------------------------------------------------------------------


def _study_arguments(parser: argparse.ArgumentParser) -> None:
    from jaxhin.remat import MODELS

    parser.add_argument("--models", nargs="+", default=list(MODELS),
                        help="models to compare (default: the paper's eight)")
    parser.add_argument("--ratios", nargs="+", type=_ratio, default=[0.8, 0.6, 0.5])
    parser.add_argument("--plot", type=output_file, default=None, metavar="FILE.png",
                        help="draw overhead vs budget per model")


def _run_study(args: argparse.Namespace):
    from jaxhin.remat import StudyConfig, study

    for m in args.models:
        _check_model_name(m)
    config = StudyConfig(models=tuple(args.models), ratios=tuple(args.ratios))
    result = study(config, show_progress=not args.quiet)
    t = result["tallies"]
    print(f"Coop's lowest budget <= 0.5x DTR's on: {', '.join(t['half_of_dtr']) or 'none'}; "
          f"above DTR's on: {', '.join(t['above_dtr']) or 'none'}")
    for ratio, row in t["per_ratio"].items():
        print(f"ratio {ratio}: overhead below DTR and DTE on {len(row['overhead_below_both'])}"
              f"/{len(args.models)}, fragmentation lower on {len(row['fragmentation_lower'])}, "
              f"fewer pieces scanned than DTR on {len(row['scanned_below_dtr'])}")
    if args.plot:
        from jaxhin.remat import plot_study

        plot_study(result, args.plot)
    return {"study": config}, result


def _check_model_name(name: str) -> None:
    from jaxhin.remat import MODELS

    if name not in MODELS and ":" not in name:
        raise UsageError(f"unknown model {name!r}: expected one of {', '.join(MODELS)}, or "
                         f"package.module:factory or path/to/file.py:factory")


# -- plan ---------------------------------------------------------------------------------------


def _plan_arguments(parser: argparse.ArgumentParser) -> None:
    from jaxhin.remat import EXPORT_MODELS

    parser.add_argument("--model", choices=EXPORT_MODELS, default="transformer",
                        help="scanned model with checkpoint names to export a plan for")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--budget", type=_ratio, default=0.6,
                        help="budget as a fraction of the unrolled model's need (default 0.6)")
    budget.add_argument("--budget-bytes", type=_bytes, default=None, help="budget in bytes")
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)


def _run_plan(args: argparse.Namespace):
    from jaxhin.remat import (
        ExportConfig,
        compare_policies,
        dominates,
        export_step,
        peak_memory,
        plan_names,
        policy_config,
        simulate,
        trace,
    )

    try:
        config = ExportConfig(model=args.model, layers=args.layers, width=args.width,
                              seq=args.seq, batch=args.batch, hidden=4 * args.width)
    except ValueError as err:
        raise UsageError(str(err)) from None
    step, example = export_step(config, scan=False)
    tr = trace(step, *example, name=f"{args.model} (unrolled)")
    peak = peak_memory(tr)
    budget = args.budget_bytes or int(peak * args.budget)
    sim = policy_config("coop")
    res = simulate(tr, sim, budget)
    if not res.feasible:
        raise _too_small(tr, sim, budget, peak, "budget")
    names = plan_names(tr, res.evicted)
    print(f"{tr}: Coop at {_gib(budget)} ({budget / peak:.2f} of {_gib(peak)}), overhead "
          f"{res.overhead:.3f}; plan saves {list(names)}")
    rows = compare_policies(config, names)
    plan_row = rows[1]
    print(f"{'policy':36s} {'XLA temp memory':>16s} {'extra GFLOP':>12s}")
    for row in rows:
        label = "plan" if row is plan_row else row.policy
        print(f"{label:36s} {row.temp_bytes / 2**20:13.1f} MiB {row.extra_flops / 1e9:12.3f}")
    dominated = [r.policy for r in rows[2:] if dominates(plan_row, r)]
    print(f"the plan dominates: {', '.join(dominated) or 'no built-in policy'}")
    metrics = {"names": list(names), "simulated_overhead": res.overhead,
               "budget_bytes": budget, "need_bytes": peak,
               "policies": list(rows),
               "dominated": dominated}
    return {"export": config, "budget_bytes": budget}, metrics


COMMANDS = (
    Command("simulate", "replay a model's training step under a memory budget with DTR, DTE "
                        "or Coop eviction", _simulate_arguments, _run_simulate),
    Command("study", "the paper's comparison: eight models, three policies, budgets, lowest "
                     "feasible budgets, ablations", _study_arguments, _run_study),
    Command("plan", "export a Coop plan as a jax.checkpoint policy and compare it with JAX's "
                    "built-in policies (XLA memory analysis, jaxpr FLOPs)",
            _plan_arguments, _run_plan),
)
