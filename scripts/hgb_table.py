"""The reproduced HGB table: collect `jaxhin hin train --out` results and compare each row with
the published one.

    for m in gcn gat rgcn simplehgn hgt hinormer; do for d in DBLP ACM IMDB; do
      jaxhin hin train --dataset $d --model $m --out results/hin/hgb/${m}_${d}.json; done; done
    python scripts/hgb_table.py results/hin/hgb --markdown docs/hgb_results.md --out table.json

Each row names the commit it was measured on (`env.source` of its record; "-" for records
written before results carried it, "+" after the hash when the checkout had uncommitted changes).
A row passes when its mean Micro-F1 over seeds 0-4 is at most the tolerance (1.0 point for
Simple-HGN and HINormer, 1.5 for the others) below the published Micro-F1, or above it. The
command printed for each row reproduces it: the recipe's settings plus any flag that differed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path


def command_of(result: dict) -> str:
    """The `jaxhin hin train` command that reproduces a result (flags only where it left the
    recorded recipe)."""
    from jaxhin.hin import flat_settings, recipe

    config, train = result["config"], result["config"]["train"]
    model, dataset = train["model"], config["dataset"]
    expected = flat_settings(recipe(model, dataset))
    # records hold every setting by its flat name (older ones also settings the model lacks)
    flags = [f"--{k.replace('_', '-')} {v}" for k, v in train.items()
             if k in expected and expected[k] != v]
    seeds = "" if config["seeds"] == [0, 1, 2, 3, 4] else " --seeds " + " ".join(
        map(str, config["seeds"]))
    return " ".join([f"jaxhin hin train --dataset {dataset} --model {model}{seeds}", *flags])


def commit_of(result: dict) -> str:
    """The short commit a result was measured on, "+" if its checkout was dirty, else "-"."""
    source = result.get("env", {}).get("source")
    return f"{source['commit'][:7]}{'+' if source['dirty'] else ''}" if source else "-"


def rows_of(folder: Path) -> list[dict]:
    from jaxhin.hin import DEFAULT_TOLERANCE, PUBLISHED, TOLERANCE

    rows = []
    for path in sorted(folder.glob("*.json")):
        result = json.loads(path.read_text())
        if result.get("system") != "hin" or result.get("command") != "train":
            continue
        m, model, dataset = result["metrics"], result["config"]["train"]["model"], \
            result["config"]["dataset"]
        published = PUBLISHED.get((model, dataset))
        row = {"model": model, "dataset": dataset, "file": path.name,
               "macro_f1": m["macro_f1_mean"], "macro_f1_std": m["macro_f1_std"],
               "micro_f1": m["micro_f1_mean"], "micro_f1_std": m["micro_f1_std"],
               "seeds": result["config"]["seeds"], "wall_s": result["wall_s"],
               "epoch_s": m["epoch_s"], "command": command_of(result),
               "commit": commit_of(result)}
        if published:
            tol = TOLERANCE.get(model, DEFAULT_TOLERANCE)
            row.update(published_macro=published[0], published_micro=published[1],
                       delta_micro=m["micro_f1_mean"] - published[1], tolerance=tol,
                       passes=m["micro_f1_mean"] >= published[1] - tol
                       and result["config"]["seeds"] == [0, 1, 2, 3, 4])
        rows.append(row)
    order = ["simplehgn", "hinormer", "hgt", "gat", "gcn", "rgcn"]
    rows.sort(key=lambda r: (order.index(r["model"]) if r["model"] in order else 99,
                             ["DBLP", "ACM", "IMDB"].index(r["dataset"])
                             if r["dataset"] in ("DBLP", "ACM", "IMDB") else 9))
    return rows


def findings(rows: list[dict], parity: Path) -> list[str]:
    """The miss that stands as a measured result (HINormer on ACM), with its evidence from the
    parity records in `parity` (results/hin/parity) where they are."""
    acm = next((r for r in rows if (r["model"], r["dataset"]) == ("hinormer", "ACM")), None)
    if acm is None or acm.get("passes", True):
        return []
    text = (f"**HINormer on ACM misses the published row, and the miss stands as a measured "
            f"result.** jaxhin's HINormer scores {acm['micro_f1']:.2f} ± "
            f"{acm['micro_f1_std']:.2f} test Micro-F1 against the published "
            f"{acm['published_micro']:.2f}.")
    lockstep, torch_row = parity / "hinormer_ACM_lockstep.json", parity / "hinormer_ACM_3layers.json"
    if lockstep.is_file():
        steps = json.loads(lockstep.read_text())["metrics"]["lockstep"][0]
        text += (f" The port trains step for step with an independent PyTorch transcription "
                 f"(largest loss difference {steps['loss_max_abs_diff']:.1e} over "
                 f"{len(steps['steps'])} Adam steps: `python scripts/hinormer_torch_parity.py "
                 f"--dataset ACM --lockstep 10`)")
    if torch_row.is_file():
        micro = [s["micro_f1"] for s in json.loads(torch_row.read_text())["metrics"]["per_seed"]]
        text += (f", and that transcription, trained with the same recipe on seeds 0-4, scores "
                 f"{statistics.mean(micro):.2f} ± {statistics.pstdev(micro):.2f} (`python "
                 f"scripts/hinormer_torch_parity.py --dataset ACM --compare "
                 f"results/hin/hgb/hinormer_ACM.json`)")
    text += (". HINormer's maintainers say the published scores were picked from "
             "hyper-parameter tuning logs with unfixed seeds "
             "(https://github.com/Ffffffffire/HINormer/issues/4); here hyper-parameters are "
             "chosen on validation and every seed is reported. No more tuning is planned.")
    return ["", text]


def markdown(rows: list[dict], parity: Path | None = None) -> str:
    from jaxhin.hin import PUBLISHED

    done = {(r["model"], r["dataset"]) for r in rows}
    missing = [f"{m} on {d}" for m, d in PUBLISHED if (m, d) not in done]
    passed = sum(bool(r.get("passes")) for r in rows)
    slow = [r for r in rows if r["wall_s"] > 15 * 60]
    lines = ["# HGB node classification reproduced by jaxhin",
             "",
             "Mean ± population std over seeds 0-4 on HGB's test labels (`label.dat.test`), "
             "hyper-parameters from `jaxhin/hin/_recipes.py`; written by `scripts/hgb_table.py` "
             "from `results/hin/hgb/*.json`. Changed hyper-parameters were chosen on validation "
             "data only (`results/hin/README.md`; HINormer's partly on one H200); every "
             "row here ran on 2 CPU cores. HINormer's port trains in lockstep with a PyTorch "
             "transcription on the same inputs (`results/hin/parity/`). Wall times are the day's: the "
             "shared 2-core machine has run the same training step up to 2.5x slower on one day "
             "than on another, so a row's time depends on when it ran.",
             "",
             f"{passed} of {len(PUBLISHED)} published rows reproduced within tolerance"
             + (f"; not measured: {', '.join(missing)}." if missing else "; every row measured.")
             + (" Over the 15-minute budget for 5 seeds on 2 CPU cores: "
                + ", ".join(f"{r['model']} on {r['dataset']} ({r['wall_s'] / 60:.1f} min)"
                            for r in slow) + "." if slow else ""),
             *(findings(rows, parity) if parity is not None else []),
             "",
             "| model | dataset | Macro-F1 | Micro-F1 | published Macro / Micro | "
             "Δ Micro | within tolerance | 5 seeds, wall | measured on | command |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        pub = (f"{r['published_macro']:.2f} / {r['published_micro']:.2f}"
               if "published_micro" in r else "-")
        delta = f"{r['delta_micro']:+.2f}" if "delta_micro" in r else "-"
        ok = ("yes" if r["passes"] else f"**no** (-{r['tolerance']})") if "passes" in r else "-"
        lines.append(f"| {r['model']} | {r['dataset']} | {r['macro_f1']:.2f} ± "
                     f"{r['macro_f1_std']:.2f} | {r['micro_f1']:.2f} ± {r['micro_f1_std']:.2f} "
                     f"| {pub} | {delta} | {ok} | {r['wall_s'] / 60:.1f} min | "
                     f"{r['commit']} | `{r['command']}` |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="folder of `jaxhin hin train --out` JSON files")
    parser.add_argument("--markdown", default=None, help="write the table here")
    from jaxhin.cli import output_file  # checked writable before the work

    parser.add_argument("--out", type=output_file, default=None)
    args = parser.parse_args(argv)
    folder = Path(args.results)
    if not folder.is_dir():
        print(f"hgb_table: {folder} is not a folder of result files", file=sys.stderr)
        return 2
    rows = rows_of(folder)
    table = markdown(rows, folder.parent / "parity")
    print(table)
    from jaxhin.data import atomic_write
    from jaxhin.train import make_results, write_results

    if args.markdown:
        with atomic_write(args.markdown) as f:
            f.write(table)
    if args.out:
        write_results(args.out, make_results(system="hin", command="hgb_table",
                                             config=vars(args), metrics={"rows": rows},
                                             wall_s=0.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
