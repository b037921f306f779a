"""Train the SBP-placed GPT (data x tensor) for a few steps, on one or several processes.

One process, 8 CPU devices:
  XLA_FLAGS=--xla_force_host_platform_device_count=8 python scripts/sbp_multihost.py --out one.json
Two processes x 4 CPU devices on this machine (run both; process 0 writes --out):
  python scripts/sbp_multihost.py --processes 2 --process-id 0 --local-devices 4 --out two.json &
  python scripts/sbp_multihost.py --processes 2 --process-id 1 --local-devices 4
On a real cluster pass --coordinator HOST:PORT (or nothing where jax.distributed can infer it).
"""

from __future__ import annotations

import argparse
import sys
import time

from jaxhin.train import add_multihost_arguments, start_multihost, stop_multihost


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mesh", default="data=2,model=4")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    from jaxhin.cli import output_file  # checked writable before the work

    parser.add_argument("--out", type=output_file, default=None)
    add_multihost_arguments(parser, port=12355)
    args = parser.parse_args(argv)
    start_multihost(args)
    import jax

    from jaxhin.ptm import TINY, train_spmd
    from jaxhin.sbp import make_mesh, parse_mesh
    from jaxhin.train import make_results, write_results

    start = time.perf_counter()
    losses = train_spmd(jax.random.key(args.seed), make_mesh(parse_mesh(args.mesh)), TINY,
                        steps=args.steps)
    print("losses:", " ".join(f"{x:.7f}" for x in losses))
    if args.out:
        results = make_results(system="sbp", command="multihost",
                               config={"mesh": args.mesh, "steps": args.steps,
                                       "seed": args.seed, "processes": args.processes,
                                       "model_config": TINY},
                               metrics={"losses": losses}, wall_s=time.perf_counter() - start)
        write_results(args.out, results)
    stop_multihost(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
