"""LightLDA sweep speed of this checkout against an earlier commit, side by side in one run.

Each measurement is a fresh process that imports jaxhin from one source tree (this checkout,
or a temporary `git worktree` of `--against`), builds the default `LdaConfig` sampler for
each K on the whole corpus, and times `--sweeps` sweeps (the first 3 dropped: compilation
and warm-up); tokens/s is corpus tokens / median sweep time. The two trees alternate for
`--pairs` pairs, since this machine's speed drifts; per pair and in median:

    ratio = this checkout's tokens/s / the other commit's          (< 1: slower than before)

    python scripts/bench_lda_commits.py --against 743e970 --pairs 5 --out r.json

Needs the data root (JAXHIN_DATA) for KOS; `--corpus synthetic` runs with none.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(corpus_name: str, topics: list[int], sweeps: int) -> dict[int, float]:
    import jax

    from jaxhin.data import load_corpus
    from jaxhin.lda import LdaConfig, init_state, lightlda_sweep, to_tokens

    corpus, _ = load_corpus(corpus_name)
    tokens = to_tokens(corpus)  # the default layout, the same for every K
    out = {}
    for k in topics:
        cfg = LdaConfig(num_topics=k, alpha=0.1, beta=0.01)
        init_key, key = jax.random.split(jax.random.key(0))
        state = init_state(init_key, tokens, k)
        sweep = lightlda_sweep.lower(key, state, tokens, cfg).compile()
        times = []
        for it in range(sweeps):
            t = time.perf_counter()
            state = sweep(jax.random.fold_in(key, it), state, tokens)
            jax.block_until_ready(state.z)
            times.append(time.perf_counter() - t)
        out[k] = corpus.num_tokens / statistics.median(times[3:])
    return out


def run_in(tree: Path, args) -> dict[int, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_lda_commits.py"), "--measure",
           "--corpus", args.corpus, "--sweeps", str(args.sweeps),
           "--topics", *map(str, args.topics)]
    done = subprocess.run(cmd, env=env, cwd=tree, check=True, capture_output=True, text=True)
    return {int(k): v for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", help="the earlier commit (any git revision)")
    parser.add_argument("--topics", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--corpus", default="kos")
    parser.add_argument("--sweeps", type=int, default=15)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.corpus, args.topics, args.sweeps)))
        return
    if args.sweeps < 4 or not args.against:
        parser.error("needs --against REV and --sweeps >= 4")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        other = Path(tmp) / "other"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                        str(other), args.against], check=True)
        try:
            rates = {"this": [], "other": []}
            for p in range(args.pairs):
                rates["this"].append(run_in(ROOT, args))
                rates["other"].append(run_in(other, args))
                line = ", ".join(f"K={k}: {rates['this'][-1][k] / rates['other'][-1][k]:.2f}x"
                                 for k in args.topics)
                print(f"pair {p}: {line}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(other)], check=False)
    ratios = {k: [t[k] / o[k] for t, o in zip(rates["this"], rates["other"], strict=True)]
              for k in args.topics}
    for k, r in ratios.items():
        print(f"K={k}: this checkout at {statistics.median(r):.2f}x of {args.against}'s "
              f"tokens/s (median of {len(r)} pairs; range {min(r):.2f}-{max(r):.2f})")
    if args.out:
        from jaxhin.train import make_results, write_results

        write_results(args.out, make_results(
            system="lda", command="bench-commits", config=vars(args),
            metrics={"tokens_per_s": rates, "ratios": {str(k): v for k, v in ratios.items()}},
            wall_s=time.perf_counter() - began))


if __name__ == "__main__":
    main()
