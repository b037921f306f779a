"""HINormer training-step time: this checkout's Transformer layer against a git revision's, in
one process.

Both sides build the same model from the dataset's recipe (`jaxhin.hin.recipe`, as `jaxhin hin
train` runs it); only the Transformer layer class differs (`HINormer.transformer`, set in a
subclass per side), the baseline's read from `git show REV:jaxhin/hin/_hinormer.py`. Steps
alternate between the two sides, so machine drift hits both alike. The script prints each
side's median step time, the ratio checkout / baseline (< 1: the checkout is faster) and both
sides' training losses: they start from the same parameters and draw the same dropout masks,
so the losses agree unless the change altered what the layer computes.

    python scripts/bench_hinormer.py --dataset DBLP --baseline 2141406 --out bench_hinormer.json
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER_FILE = "jaxhin/hin/_hinormer.py"


def baseline_layer(revision: str):
    """`HeteroTransformerLayer` as `revision` defines it (a module loaded from `git show`)."""
    try:
        source = subprocess.run(["git", "show", f"{revision}:{LAYER_FILE}"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", "") or err
        raise SystemExit(f"--baseline {revision!r}: cannot read {LAYER_FILE} at that revision "
                         f"in {ROOT}: {str(detail).strip()}") from err
    name = "_bench_hinormer_baseline"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "baseline_hinormer.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # Flax's dataclass transform looks the module up
        spec.loader.exec_module(module)
    return module.HeteroTransformerLayer


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="DBLP",
                        help="synthetic, DBLP, ACM, IMDB or an HGB-format folder")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding the dataset folders (default <data root>/hgb)")
    parser.add_argument("--baseline", default="HEAD", help="git revision to compare with")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per side")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="changes to the recorded recipe")
    from jaxhin.cli import output_file  # checked writable before the work

    parser.add_argument("--out", type=output_file, default=None)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")

    import jax

    from jaxhin.data import load_graph
    from jaxhin.hin import HINormer, flat_settings, override, recipe, setup_seed
    from jaxhin.train import make_results, write_results

    sys.path.insert(0, str(Path(__file__).parent))
    from tune_hin import _parse_variant

    data = load_graph(args.dataset, data_dir=args.data_dir)
    base = recipe("hinormer", data.name)
    defaults = {k: v for k, v in flat_settings(base).items() if k != "model"}
    config = override(base, **_parse_variant(args.set, defaults))
    start = time.perf_counter()
    sides = {}
    layers = {"checkout": HINormer.transformer, "baseline": baseline_layer(args.baseline)}
    for name, layer in layers.items():
        # a class per side: equal configs give equal models, which would share one compiled
        # step in jaxhin.hin._train's jit caches; models of different classes never do
        module = type(f"HINormer_{name}", (HINormer,), {"transformer": layer})
        run = setup_seed(data, config, args.seed, module=module)
        sides[name] = {"step": run.step, "state": (run.params, run.opt_state),
                       "inputs": (run.graph, run.features, run.context), "times": [],
                       "losses": []}
    for epoch in range(args.steps + 1):  # the first step of each side compiles it
        for side in sides.values():
            tick = time.perf_counter()
            params, opt_state, loss = side["step"](*side["state"], *side["inputs"], epoch,
                                                   config.learning_rate)
            jax.block_until_ready(params)
            side["state"] = (params, opt_state)
            side["losses"].append(float(loss))
            if epoch:
                side["times"].append(time.perf_counter() - tick)
    metrics = {f"{name}_step_s": statistics.median(side["times"]) for name, side in sides.items()}
    metrics["ratio"] = metrics["checkout_step_s"] / metrics["baseline_step_s"]
    metrics["losses"] = {name: side["losses"] for name, side in sides.items()}
    metrics["max_loss_diff"] = max(abs(a - b) for a, b in zip(
        *metrics["losses"].values(), strict=True))
    metrics["step_s"] = {name: side["times"] for name, side in sides.items()}
    print(f"{data.name} HINormer step: checkout {metrics['checkout_step_s'] * 1e3:.0f} ms, "
          f"baseline ({args.baseline}) {metrics['baseline_step_s'] * 1e3:.0f} ms, "
          f"checkout/baseline x{metrics['ratio']:.3f}; largest loss difference "
          f"{metrics['max_loss_diff']:.2e} over {args.steps + 1} steps")
    if args.out:
        write_results(args.out, make_results(system="hin", command="bench_hinormer",
                                             config={**vars(args),
                                                     "train": flat_settings(config)},
                                             metrics=metrics,
                                             wall_s=time.perf_counter() - start))
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
