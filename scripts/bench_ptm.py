"""jaxhin's pre-training step vs Hugging Face `transformers` GPT-2 (PyTorch, CPU), one run.

The same model for both: GPT-2's layout at nanoGPT's CPU size by default (4 layers, 4 heads,
width 128, context 64, vocabulary 70, no dropout), built from a config with no weights; the same
work per step: a batch of `--batch` random windows of tiny Shakespeare (or the built-in
synthetic text), forward, backward, gradient clipping at 1.0 and an AdamW step. Each library
runs `--steps` timed steps after `--warmup` untimed ones (jaxhin's compilation happens there),
`--repeats` times, alternating; medians of training tokens/s are compared:

    ratio = jaxhin tokens/s / transformers tokens/s        (>= 1: jaxhin is at least as fast)

    python scripts/bench_ptm.py --out bench_ptm.json
    python scripts/bench_ptm.py --layers 6 --width 384 --heads 6 --seq 256 --batch 16

Needs torch and transformers (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def run_transformers(ids, args, seed):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=int(ids.max()) + 1, n_positions=args.seq, n_embd=args.width,
                        n_layer=args.layers, n_head=args.heads, resid_pdrop=0.0,
                        embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(config)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    data = torch.from_numpy(ids.astype(np.int64))
    rng = np.random.default_rng(seed)

    def step():
        starts = rng.integers(0, len(data) - args.seq - 1, args.batch)
        x = torch.stack([data[s:s + args.seq] for s in starts])
        out = model(input_ids=x, labels=x)   # GPT-2 shifts labels inside
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return out.loss.item()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    return args.steps * args.batch * args.seq / (time.perf_counter() - start)


def run_jaxhin(ids, args, seed):
    import jax

    from jaxhin.ptm import PretrainConfig, TransformerConfig, pretrain

    model = TransformerConfig(vocab_size=int(ids.max()) + 1, width=args.width,
                              layers=args.layers, heads=args.heads, max_len=args.seq,
                              bias=True)
    total = args.warmup + args.steps
    cfg = PretrainConfig(steps=total, batch=args.batch, seq=args.seq, warmup=0,
                         eval_every=total, eval_batches=1, checkpoint_every=total)
    # pretrain times from its second step (the first compiles); warm-up steps are inside.
    result = pretrain(jax.random.key(seed), ids, model, cfg, show_progress=False)
    return result.tokens_per_s


def main() -> None:
    from jaxhin.cli import output_file

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="shakespeare")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=output_file, default=None)
    args = parser.parse_args()
    began = time.perf_counter()

    import torch

    from jaxhin.data import load_text
    from jaxhin.ptm import train_tokenizer

    text = load_text(args.corpus)
    ids = train_tokenizer("char", text).encode(text)
    rates = {"jaxhin": [], "transformers": []}
    for r in range(args.repeats):
        rates["transformers"].append(run_transformers(ids, args, r))
        rates["jaxhin"].append(run_jaxhin(ids, args, r))
        print(f"repeat {r}: jaxhin {rates['jaxhin'][-1]:,.0f} tokens/s, transformers "
              f"{rates['transformers'][-1]:,.0f} tokens/s", flush=True)
    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = med["jaxhin"] / med["transformers"]
    print(f"median training tokens/s: jaxhin {med['jaxhin']:,.0f}, transformers "
          f"{med['transformers']:,.0f} (torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads); ratio {ratio:.2f}x")
    if args.out:
        from jaxhin.train import make_results, write_results

        write_results(args.out, make_results(
            system="ptm", command="bench", config=vars(args) | {"out": str(args.out)},
            metrics={"tokens_per_s": rates, "median": med, "ratio": ratio},
            wall_s=time.perf_counter() - began))


if __name__ == "__main__":
    main()
