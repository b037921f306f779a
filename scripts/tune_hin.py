"""Choose a model's hyper-parameters on HGB validation data only.

Every combination of the `--grid` values is trained on seeds `--seeds` under the HGB protocol
(80/20 split of `label.dat` by seed, early stopping on validation loss); combinations are ranked
by mean validation Micro-F1 (ties: lower validation loss). Test labels play no part: the test
scores that training computes are neither printed nor written. The winner is what goes into
`jaxhin/hin/_recipes.py`, with this command beside it.

    python scripts/tune_hin.py --dataset DBLP --model hgt --grid layers=2,3 dropout=0.2,0.5 \
        --seeds 0 1 --out tune_hgt_dblp.json
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import statistics
import sys
import time


def _parse_grid(items: list[str], fields: dict) -> dict[str, list]:
    grid = {}
    for item in items:
        name, _, values = item.partition("=")
        if name not in fields or not values:
            raise SystemExit(f"tune_hin: --grid {item!r}: expected FIELD=v1,v2 with FIELD one of "
                             f"{sorted(fields)}")
        kind = type(fields[name])
        grid[name] = [(v.lower() in ("true", "1")) if kind is bool else kind(v)
                      for v in values.split(",")]
    return grid


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="DBLP, ACM, IMDB or an HGB folder")
    parser.add_argument("--model", required=True)
    parser.add_argument("--grid", nargs="+", default=[], help="FIELD=v1,v2 ...")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)

    from jaxhin.hin import TrainConfig, recipe, train_and_evaluate
    from jaxhin.hin._cli import _load
    from jaxhin.train import make_results, write_results

    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    grid = _parse_grid(args.grid, defaults)
    data = _load(argparse.Namespace(dataset=args.dataset, data_dir=args.data_dir))
    base = recipe(args.model, data.name)
    rows, start = [], time.perf_counter()
    for values in itertools.product(*grid.values()):
        choice = dict(zip(grid, values, strict=True))
        config = TrainConfig(model=args.model, **{**base, **choice})
        results = [train_and_evaluate(data, config, s, show_progress=False) for s in args.seeds]
        row = {**choice,
               "val_micro_f1": statistics.mean(100 * r.val_micro_f1 for r in results),
               "val_macro_f1": statistics.mean(100 * r.val_macro_f1 for r in results),
               "val_loss": statistics.mean(r.best_val_loss for r in results),
               "epochs_run": [r.epochs_run for r in results]}
        rows.append(row)
        print(f"{choice}: val Micro-F1 {row['val_micro_f1']:.2f}  Macro-F1 "
              f"{row['val_macro_f1']:.2f}  loss {row['val_loss']:.4f}", flush=True)
    best = max(rows, key=lambda r: (r["val_micro_f1"], -r["val_loss"]))
    print(f"best on validation: {({k: best[k] for k in grid})}")
    if args.out:
        write_results(args.out, make_results(
            system="hin", command="tune_hin", config=vars(args),
            metrics={"rows": rows, "best": best, "recipe": base},
            wall_s=time.perf_counter() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
