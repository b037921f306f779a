"""Pre-training the ptm backbone under data x tensor parallelism on one or several processes:
Megatron's placements from jaxhin.sbp, batches split over "data". Prints the loss curve, which
must not depend on how the same global mesh is spread over processes.

One process, 8 CPU devices:
  XLA_FLAGS=--xla_force_host_platform_device_count=8 python scripts/ptm_multihost.py --out one.json
Two processes x 4 CPU devices on this machine (run both; process 0 writes --out):
  python scripts/ptm_multihost.py --processes 2 --process-id 0 --local-devices 4 --out two.json &
  python scripts/ptm_multihost.py --processes 2 --process-id 1 --local-devices 4
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
    parser.add_argument("--corpus", default="synthetic", help="synthetic, shakespeare or a file")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=32)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    from jaxhin.cli import output_file  # checked writable before the work

    parser.add_argument("--out", type=output_file, default=None)
    add_multihost_arguments(parser, port=12357)
    args = parser.parse_args(argv)
    start_multihost(args)
    import jax

    from jaxhin.data import load_text
    from jaxhin.ptm import PretrainConfig, TransformerConfig, pretrain, train_tokenizer
    from jaxhin.sbp import make_mesh, parse_mesh
    from jaxhin.train import make_results, write_results

    axes = parse_mesh(args.mesh)
    if set(axes) != {"data", "model"}:
        print(f"--mesh {args.mesh}: expected data=N,model=M", file=sys.stderr)
        return 2
    text = load_text(args.corpus, seed=args.seed)
    tok = train_tokenizer("char", text)
    model = TransformerConfig(vocab_size=tok.vocab_size, width=args.width, layers=args.layers,
                              heads=args.heads, max_len=args.seq)
    cfg = PretrainConfig(steps=args.steps, batch=args.batch, seq=args.seq,
                         warmup=min(10, args.steps // 2), eval_every=args.steps,
                         eval_batches=4)
    start = time.perf_counter()
    result = pretrain(jax.random.key(args.seed), tok.encode(text), model, cfg,
                      show_progress=False, mesh=make_mesh(axes))
    wall = time.perf_counter() - start
    print("losses:", " ".join(f"{x:.7f}" for x in result.losses))
    if args.out and jax.process_index() == 0:
        write_results(args.out, make_results(
            system="ptm", command="multihost", config=vars(args),
            metrics={"losses": result.losses, "val_loss": result.evals[-1]["val_loss"]},
            wall_s=wall))
    stop_multihost(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
