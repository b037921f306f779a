"""Distributed LightLDA on one or several processes: documents over every device, vocabulary
slices over `model`, bounded staleness. Prints the log-likelihood trajectory.

One process, 8 CPU devices:
  XLA_FLAGS=--xla_force_host_platform_device_count=8 python scripts/lda_multihost.py --out one.json
Two processes x 4 CPU devices on this machine (run both; process 0 writes --out):
  python scripts/lda_multihost.py --processes 2 --process-id 0 --local-devices 4 --out two.json &
  python scripts/lda_multihost.py --processes 2 --process-id 1 --local-devices 4
On a real cluster pass --coordinator HOST:PORT (or nothing where jax.distributed can infer it).
"""

from __future__ import annotations

import argparse
import sys
import time

from jaxhin.train import add_multihost_arguments, start_multihost, stop_multihost


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mesh", default="data=4,model=2")
    parser.add_argument("--corpus", default="synthetic", help="synthetic or kos")
    parser.add_argument("--topics", type=int, default=10)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=512)
    parser.add_argument("--staleness", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    from jaxhin.cli import output_file  # checked writable before the work

    parser.add_argument("--out", type=output_file, default=None)
    add_multihost_arguments(parser, port=12356)
    args = parser.parse_args(argv)
    start_multihost(args)
    import jax

    from jaxhin.data import load_kos, synthetic_corpus
    from jaxhin.lda import (
        LdaConfig,
        device_tokens,
        dist_log_joint_per_token,
        init_dist,
        make_dist_sweep,
        plan_layout,
    )
    from jaxhin.sbp import make_mesh, parse_mesh
    from jaxhin.train import make_results, write_results

    axes = parse_mesh(args.mesh)
    if set(axes) != {"data", "model"}:
        print(f"--mesh {args.mesh}: expected data=N,model=M", file=sys.stderr)
        return 2
    if args.corpus == "kos":
        corpus = load_kos()
    else:
        corpus, _ = synthetic_corpus(jax.random.key(args.seed), num_docs=400, vocab_size=500)
    cfg = LdaConfig(num_topics=args.topics, chunk=args.chunk)
    mesh = make_mesh(axes)
    layout = plan_layout(corpus, axes["data"], axes["model"], cfg, staleness=args.staleness)
    init_key, key = jax.random.split(jax.random.key(args.seed + 1))
    state = init_dist(init_key, layout, mesh, args.topics)
    arrays = device_tokens(layout, mesh)
    sweep = make_dist_sweep(layout, mesh, cfg, args.staleness)
    trace = [dist_log_joint_per_token(state, layout, cfg)]
    start = time.perf_counter()
    for it in range(args.iters):
        state = sweep(jax.random.fold_in(key, it), state, arrays)
        trace.append(dist_log_joint_per_token(state, layout, cfg))
    wall = time.perf_counter() - start
    print("loglik:", " ".join(f"{x:.7f}" for x in trace))
    if args.out:
        write_results(args.out, make_results(
            system="lda", command="multihost", config=vars(args),
            metrics={"loglik_per_token": trace, "tokens": corpus.num_tokens}, wall_s=wall))
    stop_multihost(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
