"""Kill a checkpointed run with SIGKILL at random moments, rerun it, and compare with an
uninterrupted run: `jaxhin lda train` (in memory, and streamed in blocks with `--block-tokens`)
and a multi-seed `jaxhin hin train`.

For each command: one uninterrupted run (its wall time T), then one chain of `--kills` runs
into a fresh checkpoint folder, each killed at a moment drawn uniformly from [0.5 s, T] after
its start (imports, compilation, sampling or writing), then a last run that finishes. The
figures of that last run must equal the uninterrupted run's exactly.

    python scripts/kill_resume.py --kills 5 --out kill_resume.json
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "lda": ["lda", "train", "--iters", "120", "--eval-every", "10", "--checkpoint-every", "5",
            "--chunk", "1024"],
    "hin": ["hin", "train", "--model", "gcn", "--epochs", "60", "--seeds", "0", "1", "2", "3",
            "4"],
    "lda-blocks": ["lda", "train", "--iters", "30", "--eval-every", "5", "--chunk", "1024",
                   "--block-tokens", "6000"],
}
NEEDS_FOLDER = {"lda-blocks"}  # its uninterrupted run keeps its blocks in a folder too


def _where(ck: Path) -> list[str]:
    """What a killed run left: checkpoint steps, or a streamed chain's place in its blocks."""
    if not ck.is_dir():
        return []
    run = ck / "run.json"
    log = json.loads(run.read_text()).get("log", {}) if run.is_file() else {}
    if "blocks" in log:
        return [f"iteration {log['iter']}, next block {log['next']} of {log['blocks']}"]
    return sorted(p.name for p in ck.glob("*") if p.name[0].isdigit()
                  or p.name.startswith("seed-"))


def _figures(system: str, path: Path):
    m = json.loads(path.read_text())["metrics"]
    if system.startswith("lda"):
        return {"trace": [t["loglik_per_token"] for t in m["loglik_per_token"]],
                "perplexity": m["heldout_perplexity"], "top_words": m["top_words"]}
    return {"per_seed": [(r["seed"], r["micro_f1"], r["macro_f1"], r["best_epoch"])
                         for r in m["per_seed"]],
            "micro_f1_mean": m["micro_f1_mean"], "macro_f1_mean": m["macro_f1_mean"]}


def _run(argv, timeout=None):
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "jaxhin", *argv, "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return None, time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err[-2000:]}")
    return proc.returncode, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    parser.add_argument("--only", choices=sorted(COMMANDS), nargs="*", default=None)
    from jaxhin.cli import output_file  # checked writable before the work

    parser.add_argument("--out", type=output_file, default=None)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for system in args.only or sorted(COMMANDS):
            command = COMMANDS[system]
            folder = (["--checkpoint-dir", str(tmp / f"{system}-straight-ck")]
                      if system in NEEDS_FOLDER else [])
            _, wall = _run([*command, *folder, "--out", str(tmp / f"{system}-straight.json")])
            ck = tmp / f"{system}-ck"
            kills = []
            for _ in range(args.kills):
                at = rng.uniform(0.5, wall)
                done, _ = _run([*command, "--checkpoint-dir", str(ck)], timeout=at)
                saved = _where(ck)
                kills.append({"at_s": round(at, 2), "killed": done is None, "saved": saved})
                print(f"{system}: killed at {at:.1f} s of {wall:.1f}; folder holds {saved}",
                      flush=True)
            _run([*command, "--checkpoint-dir", str(ck), "--out", str(tmp / f"{system}.json")])
            same = _figures(system, tmp / f"{system}.json") == _figures(
                system, tmp / f"{system}-straight.json")
            print(f"{system}: after {args.kills} kills the finished run is "
                  f"{'IDENTICAL to' if same else 'DIFFERENT from'} the uninterrupted one",
                  flush=True)
            report[system] = {"command": command, "uninterrupted_s": wall, "kills": kills,
                              "identical": same}
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    return 0 if all(r["identical"] for r in report.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
