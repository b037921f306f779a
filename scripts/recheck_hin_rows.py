"""Rerun one seed of recorded `jaxhin hin train` rows and compare its test F1 with the record.

Each record's configuration is rebuilt from the flat settings it holds
(`jaxhin.hin.from_settings`), so a row reproduces whatever the recipes say today; the rows run
cheapest first (by the record's wall time per seed), and `--out` is rewritten after every row.

    python scripts/recheck_hin_rows.py results/hin/hgb results/hin/aghint --seed 0 --out r.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=None, metavar="FILE_STEM",
                        help="only these records (e.g. gcn_ACM aghint-agm_DBLP)")
    parser.add_argument("--budget-s", type=float, default=None,
                        help="start no row whose recorded time per seed would end past this")
    from jaxhin.cli import output_file  # checked writable before the work

    parser.add_argument("--out", type=output_file, default=None)
    args = parser.parse_args(argv)

    from jaxhin.data import load_graph
    from jaxhin.hin import flat_settings, from_settings, train_and_evaluate
    from jaxhin.train import make_results, write_results

    records = []
    for folder in args.folders:
        for path in sorted(folder.glob("*.json")):
            record = json.loads(path.read_text())
            if (record.get("system"), record.get("command")) != ("hin", "train"):
                continue
            if args.only is not None and path.stem not in args.only:
                continue
            seeds = record["config"]["seeds"]
            if args.seed not in seeds:
                continue
            records.append((record["wall_s"] / len(seeds), path, record, seeds.index(args.seed)))
    records.sort(key=lambda r: r[0])
    rows, start, graphs = [], time.perf_counter(), {}
    for per_seed_s, path, record, index in records:
        if args.budget_s is not None and time.perf_counter() - start + per_seed_s > args.budget_s:
            print(f"budget: {path.stem} and later rows not run", flush=True)
            break
        dataset = record["config"]["dataset"]
        config = from_settings(record["config"]["train"], strict=False)
        data = graphs.setdefault(dataset, load_graph(dataset))
        tick = time.perf_counter()
        result = train_and_evaluate(data, config, args.seed, show_progress=False)
        recorded = record["metrics"]["per_seed"][index]
        row = {"record": str(path), "dataset": dataset, "train": flat_settings(config),
               "micro_f1": 100 * result.micro_f1, "macro_f1": 100 * result.macro_f1,
               "recorded_micro_f1": 100 * recorded["micro_f1"],
               "recorded_macro_f1": 100 * recorded["macro_f1"],
               "best_epoch": result.best_epoch, "recorded_best_epoch": recorded["best_epoch"],
               "same": (result.micro_f1, result.macro_f1, result.best_epoch)
               == (recorded["micro_f1"], recorded["macro_f1"], recorded["best_epoch"]),
               "wall_s": time.perf_counter() - tick}
        rows.append(row)
        print(f"{path.stem}: Micro-F1 {row['micro_f1']:.4f} (recorded "
              f"{row['recorded_micro_f1']:.4f}), Macro-F1 {row['macro_f1']:.4f} (recorded "
              f"{row['recorded_macro_f1']:.4f}), best epoch {result.best_epoch} (recorded "
              f"{recorded['best_epoch']}): {'same' if row['same'] else 'DIFFERENT'} "
              f"({row['wall_s']:.0f} s)", flush=True)
        if args.out:
            write_results(args.out, make_results(
                system="hin", command="recheck_hin_rows", config=vars(args) | {
                    "folders": [str(f) for f in args.folders]},
                metrics={"rows": rows, "same": sum(r["same"] for r in rows)},
                wall_s=time.perf_counter() - start))
    print(f"{sum(r['same'] for r in rows)} of {len(rows)} rows give the recorded seed-"
          f"{args.seed} scores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
