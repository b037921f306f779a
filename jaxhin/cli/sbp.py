"""`jaxhin sbp plan` and `jaxhin sbp pipeline`.

Both need a mesh of several devices; on a CPU-only machine `jaxhin.cli.main` gives the process
that many host devices before JAX starts (each command's `devices`), so no `XLA_FLAGS` by hand.
The GPT they place and run is `jaxhin.ptm`'s functional GPT.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from jaxhin.cli.main import Command, UsageError, mesh_arg, mesh_for, mesh_size, output_file


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _model_options(parser: argparse.ArgumentParser, defaults) -> None:
    for field in dataclasses.fields(defaults):
        parser.add_argument(f"--{field.name}", type=_positive, default=getattr(defaults, field.name),
                            help=f"model {field.name} (default {getattr(defaults, field.name)})")


def _plan_arguments(parser: argparse.ArgumentParser) -> None:
    from jaxhin.ptm import ModelConfig

    parser.add_argument("--model", choices=("mlp", "gpt-block", "embedding-mlp", "gpt"),
                        default="gpt-block", help="benchmark graph (default gpt-block)")
    parser.add_argument("--mesh", type=mesh_arg, default={"data": 2, "model": 4},
                        help="mesh axes, e.g. data=2,model=4 (default)")
    parser.add_argument("--exhaustive", action="store_true",
                        help="also compute the exact optimum by exhaustive search and compare")
    parser.add_argument("--param-memory-cost", type=float, default=0.0,
                        help="seconds per parameter byte held per device (default 0)")
    _model_options(parser, ModelConfig())


def _run_plan(args: argparse.Namespace):
    from jaxhin.ptm import ModelConfig, benchmark
    from jaxhin.sbp import (
        B,
        CostModel,
        S,
        exhaustive_plan,
        greedy_plan,
        plan,
        plan_hlo_bytes,
        trace_graph,
        xla_auto_bytes,
    )

    cfg = ModelConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(ModelConfig)})
    mesh = mesh_for(args.mesh)
    cost = CostModel(param_memory_cost=args.param_memory_cost)
    fn, shapes, data_inputs = benchmark(args.model, cfg)
    batch_axis = "data" if "data" in mesh.axis_names else mesh.axis_names[0]
    fixed = {n: tuple(S(0) if a == batch_axis else B for a in mesh.axis_names)
             for n in data_inputs}
    graph = trace_graph(fn, *shapes)
    start = time.perf_counter()
    try:
        best = plan(graph, mesh, fixed=fixed, cost=cost)
    except ValueError as err:
        raise UsageError(str(err)) from None
    plan_s = time.perf_counter() - start
    greedy = greedy_plan(graph, mesh, fixed=fixed, cost=cost)
    print(best.describe())
    metrics = {
        "planned_bytes": float(best.boxing_bytes),
        "hlo_bytes": float(plan_hlo_bytes(best)),
        "xla_auto_bytes": float(xla_auto_bytes(fn, best, *shapes)),
        "greedy_bytes": float(greedy.boxing_bytes),
        "cost_s": best.cost,
        "greedy_cost_s": greedy.cost,
        "plan_s": plan_s,
        "ops": len(graph.nodes),
        "placements": {name: str(sbp) for name, sbp in zip(graph.input_names(), best.input_sbp,
                                                          strict=True)},
    }
    if args.exhaustive:
        start = time.perf_counter()
        exact = exhaustive_plan(graph, mesh, fixed=fixed, cost=cost)
        metrics.update(exhaustive_cost_s=exact.cost, exhaustive_s=time.perf_counter() - start)
    print(f"planned {metrics['planned_bytes']:.0f} B, compiled HLO {metrics['hlo_bytes']:.0f} B, "
          f"XLA propagation {metrics['xla_auto_bytes']:.0f} B, greedy "
          f"{metrics['greedy_bytes']:.0f} B; planned in {plan_s:.2f} s")
    config = {"model": args.model, "mesh": args.mesh, "fixed": {k: str(v) for k, v in
                                                                 fixed.items()},
              "model_config": cfg, "cost_model": cost, "exhaustive": args.exhaustive}
    return config, metrics


def _pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stages", type=_positive, default=4, help="pipeline stages S")
    parser.add_argument("--microbatches", type=_positive, default=8, help="microbatches M")
    parser.add_argument("--schedule", choices=("gpipe", "1f1b"), default="1f1b")
    parser.add_argument("--backward-ticks", type=_positive, default=1,
                        help="duration of a backward task relative to a forward one")
    parser.add_argument("--batch", type=_positive, default=32, help="GPT batch (sequences)")
    parser.add_argument("--layers", type=_positive, default=None,
                        help="GPT layers (default max(4, stages))")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=output_file, metavar="FILE.png",
                        help="draw the timeline to this file")


def _run_pipeline(args: argparse.Namespace):
    import jax

    from jaxhin.ptm import TINY, pipeline_step_check

    layers = args.layers or max(4, args.stages)
    if args.stages > layers:
        raise UsageError(f"--stages {args.stages} exceeds --layers {layers}")
    if args.batch % args.microbatches:
        raise UsageError(f"--batch {args.batch} is not divisible by --microbatches "
                         f"{args.microbatches}")
    cfg = dataclasses.replace(TINY, batch=args.batch, layers=layers)
    result = pipeline_step_check(jax.random.key(args.seed), cfg, stages=args.stages,
                                 microbatches=args.microbatches, schedule=args.schedule,
                                 backward_ticks=args.backward_ticks)
    tl = result.timeline
    print(f"S={args.stages} M={args.microbatches} {args.schedule}: bubble "
          f"{tl.bubble_fraction:.4f} (theory {tl.theory_bubble:.4f}), peak stash per stage "
          f"{list(tl.peak_stash)}, loss {result.loss:.6f} vs one device "
          f"{result.reference_loss:.6f}, max grad error {result.max_grad_err:.2e}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from jaxhin.data import atomic_write
        from jaxhin.sbp import plot_timeline

        ax = plot_timeline(tl)
        with atomic_write(args.plot, "wb") as f:
            ax.figure.savefig(f, format="png", dpi=120, bbox_inches="tight")
    metrics = {
        "bubble_fraction": tl.bubble_fraction,
        "theory_bubble": tl.theory_bubble,
        "max_grad_err": result.max_grad_err,
        "loss": result.loss,
        "reference_loss": result.reference_loss,
        "peak_stash": list(tl.peak_stash),
        "makespan_ticks": tl.makespan,
        "timeline": [dataclasses.astuple(t) for t in tl.tasks],
    }
    config = {"stages": args.stages, "microbatches": args.microbatches,
              "schedule": args.schedule, "backward_ticks": args.backward_ticks,
              "model_config": cfg, "seed": args.seed}
    return config, metrics


COMMANDS = (
    Command("plan", "plan SBP placements of a benchmark graph and check them against HLO",
            _plan_arguments, _run_plan, devices=mesh_size),
    Command("pipeline", "run a pipelined GPT step on the actor runtime; report the bubble",
            _pipeline_arguments, _run_pipeline, devices=lambda args: 2 * args.stages),
)
