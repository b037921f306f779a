"""Choose a model's hyper-parameters on HGB validation data only.

Every combination of the `--grid` values (or each `--variant`, a list of changes) is trained
on seeds `--seeds` under the HGB protocol (80/20 split of `label.dat` by seed, early stopping on
validation loss); rows are ranked by mean validation Micro-F1 (ties: lower validation loss).
Test labels play no part in the choice: the test scores that training computes are neither
printed nor written, except the winner's with `--winner-out`, which writes the winning row's
runs as `jaxhin hin train --out` would (its test scores included). The winner is what goes
into `jaxhin/hin/_recipes.py`, with this command beside it.

    python scripts/tune_hin.py --dataset DBLP --model hgt --grid layers=2,3 dropout=0.2,0.5 \
        --seeds 0 1 --out tune_hgt_dblp.json
    python scripts/tune_hin.py --dataset ACM --model hinormer --variant hidden=256 \
        --variant hidden=256 temperature=0.5 --seeds 0 1 2 3 4 --deadline-s 600 \
        --out tune.json --winner-out hinormer_ACM.json

`--out` is rewritten after every row, so a run stopped early keeps what it finished;
`--deadline-s` starts no row that the slowest row so far says would end past it.
"""

from __future__ import annotations

import argparse
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
                             f"the model's settings {sorted(fields)}")
        kind = type(fields[name])
        grid[name] = [(v.lower() in ("true", "1")) if kind is bool else kind(v)
                      for v in values.split(",")]
    return grid


def _parse_variant(items: list[str], fields: dict) -> dict:
    grid = _parse_grid(items, fields)
    if any(len(v) != 1 for v in grid.values()):
        raise SystemExit(f"tune_hin: --variant {' '.join(items)!r}: expected FIELD=value ...")
    return {k: v[0] for k, v in grid.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="DBLP, ACM, IMDB or an HGB folder")
    parser.add_argument("--model", required=True)
    parser.add_argument("--grid", nargs="+", default=[], help="FIELD=v1,v2 ...")
    parser.add_argument("--variant", nargs="+", action="append", default=[],
                        help="FIELD=value ... : one row (repeat the flag for more; the recipe "
                             "itself is a row only if given, e.g. as --variant seq_len=50)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--deadline-s", type=float, default=None,
                        help="start no row expected to end after this many seconds")
    from jaxhin.cli import output_file  # checked writable before the work

    parser.add_argument("--out", type=output_file, default=None)
    parser.add_argument("--winner-out", default=None,
                        help="write the winning row's runs, test scores included, here")
    args = parser.parse_args(argv)
    if args.grid and args.variant:
        raise SystemExit("tune_hin: give --grid or --variant, not both")

    from jaxhin.data import load_graph
    from jaxhin.hin import flat_settings, override, recipe, summarize_seeds, train_and_evaluate
    from jaxhin.train import make_results, write_results

    data = load_graph(args.dataset, data_dir=args.data_dir)
    base = recipe(args.model, data.name)
    defaults = {k: v for k, v in flat_settings(base).items() if k != "model"}
    if args.variant:
        choices = [_parse_variant(items, defaults) for items in args.variant]
    else:
        grid = _parse_grid(args.grid, defaults)
        choices = [dict(zip(grid, values, strict=True))
                   for values in itertools.product(*grid.values())]
    rows, runs, start, slowest = [], [], time.perf_counter(), 0.0
    for choice in choices:
        if (args.deadline_s is not None
                and time.perf_counter() - start + slowest > args.deadline_s):
            print(f"deadline: {choice} and later rows not run", flush=True)
            break
        row_start = time.perf_counter()
        config = override(base, **choice)
        results = [train_and_evaluate(data, config, s, show_progress=False) for s in args.seeds]
        row_s = time.perf_counter() - row_start
        slowest = max(slowest, row_s)
        row = {**choice,
               "val_micro_f1": statistics.mean(100 * r.val_micro_f1 for r in results),
               "val_macro_f1": statistics.mean(100 * r.val_macro_f1 for r in results),
               "val_loss": statistics.mean(r.best_val_loss for r in results),
               "val_micro_f1_per_seed": [100 * r.val_micro_f1 for r in results],
               "epochs_run": [r.epochs_run for r in results],
               "epoch_s": statistics.median(r.epoch_s for r in results), "wall_s": row_s}
        rows.append(row)
        runs.append((config, results))
        print(f"{choice}: val Micro-F1 {row['val_micro_f1']:.2f}  Macro-F1 "
              f"{row['val_macro_f1']:.2f}  loss {row['val_loss']:.4f}  ({row_s:.0f} s)",
              flush=True)
        best = max(rows, key=lambda r: (r["val_micro_f1"], -r["val_loss"]))
        if args.out:  # after every row: a run stopped early keeps what it finished
            write_results(args.out, make_results(
                system="hin", command="tune_hin", config=vars(args),
                metrics={"rows": rows, "best": best, "recipe": flat_settings(base)},
                wall_s=time.perf_counter() - start))
    if not rows:
        raise SystemExit("tune_hin: no row finished before the deadline")
    winner = rows.index(best)
    print(f"best on validation: {choices[winner]}")
    if args.winner_out:  # the only test scores this script reports: the chosen row's
        config, results = runs[winner]
        write_results(args.winner_out, make_results(
            system="hin", command="train",
            config={"dataset": data.name, "seeds": args.seeds, "train": flat_settings(config),
                    "chosen_by": {"command": "tune_hin", "rows": len(rows),
                                  "changes": choices[winner]}},
            metrics=summarize_seeds(data, results), wall_s=best["wall_s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
