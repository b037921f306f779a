"""`jaxhin ptm pretrain | sample`: pre-train a Transformer (CLM or MLM) and sample from it."""

from __future__ import annotations

import argparse
import dataclasses
import json

from jaxhin.cli.main import Command, UsageError, output_dir


def _pretrain_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", default="synthetic",
                        help="shakespeare (tiny Shakespeare from the data root), synthetic (a "
                             "Markov-chain text with a known entropy rate, built in), or a "
                             "UTF-8 text file")
    parser.add_argument("--objective", choices=("clm", "mlm"), default="clm")
    parser.add_argument("--tokenizer", choices=("char", "word", "bpe"), default="char")
    parser.add_argument("--vocab-size", type=int, default=None,
                        help="word / BPE vocabulary size (default 20000 / 8000)")
    parser.add_argument("--steps", type=int, default=None,
                        help="optimizer steps (default 2000, nanoGPT's CPU recipe; 300 on the "
                             "synthetic text)")
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--seq", type=int, default=64, help="context length")
    parser.add_argument("--accumulate", type=int, default=1, help="micro-batches per step")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--positions", choices=("learned", "rotary"), default="learned")
    parser.add_argument("--remat", choices=("none", "full", "dots", "dots_no_batch"),
                        default="none", help="jax.checkpoint policy of each block")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32",
                        help="compute dtype (parameters stay float32)")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--checkpoint-every", type=int, default=500)
    parser.add_argument("--checkpoint-dir", type=output_dir, default=None,
                        help="save the model (parameters, tokenizer, config) here every "
                             "--checkpoint-every steps; the same command resumes from it")
    parser.add_argument("--seed", type=int, default=0)


def _configs(args, vocab_size: int):
    from jaxhin.ptm import PretrainConfig, TransformerConfig

    steps = args.steps or (300 if args.corpus == "synthetic" else 2000)
    try:
        model = TransformerConfig(vocab_size=vocab_size, width=args.width, layers=args.layers,
                                  heads=args.heads, max_len=args.seq,
                                  causal=args.objective == "clm", positions=args.positions,
                                  dropout=args.dropout, dtype=args.dtype, remat=args.remat)
        train = PretrainConfig(objective=args.objective, steps=steps, batch=args.batch,
                               seq=args.seq, accumulate=args.accumulate, learning_rate=args.lr,
                               min_lr=args.lr / 10, warmup=min(100, steps // 10),
                               eval_every=min(args.eval_every, steps),
                               checkpoint_every=args.checkpoint_every)
    except ValueError as err:
        raise UsageError(str(err)) from None
    return model, train


def _run_pretrain(args: argparse.Namespace):
    import time

    import jax

    from jaxhin.data import load_text, synthetic_text
    from jaxhin.ptm import load_tokenizer, pretrain, train_tokenizer

    synthetic = synthetic_text(args.seed) if args.corpus == "synthetic" else None
    text = synthetic.text if synthetic else load_text(args.corpus, seed=args.seed)
    tok_path = args.checkpoint_dir / "tokenizer.json" if args.checkpoint_dir else None
    if tok_path is not None and tok_path.is_file():
        tokenizer = load_tokenizer(tok_path)      # resuming: the run's own vocabulary
    else:
        tokenizer = train_tokenizer(args.tokenizer, text, args.vocab_size)
    ids = tokenizer.encode(text)
    model_cfg, train_cfg = _configs(args, tokenizer.vocab_size)
    if args.checkpoint_dir is not None:
        tokenizer.save(tok_path)
        from jaxhin.data import atomic_write

        with atomic_write(args.checkpoint_dir / "model.json") as f:
            json.dump(dataclasses.asdict(model_cfg), f, indent=1)
    print(f"{args.corpus}: {len(text):,} characters, {len(ids):,} tokens ({tokenizer}); "
          f"{model_cfg.layers} layers x {model_cfg.width}, {train_cfg.objective}, "
          f"{train_cfg.steps} steps")
    start = time.perf_counter()
    try:
        result = pretrain(jax.random.key(args.seed), ids, model_cfg, train_cfg,
                          mask_id=tokenizer.mask_id, checkpoint_dir=args.checkpoint_dir,
                          identity={"corpus": args.corpus, "tokenizer": args.tokenizer,
                                    "seed": args.seed},
                          log=lambda line: print(f"[{time.perf_counter() - start:6.0f} s] "
                                                 f"{line}", flush=True),
                          show_progress=not args.quiet)
    except ValueError as err:
        raise UsageError(str(err)) from None
    last = result.evals[-1]
    metrics = {"val_loss": last["val_loss"], "train_loss": last["train_loss"],
               "tokens_per_s": result.tokens_per_s, "steps": train_cfg.steps,
               "train_s": result.train_s, "resumed_from": result.resumed_from,
               "evals": result.evals, "losses": result.losses,
               "params": sum(x.size for x in jax.tree.leaves(result.params))}
    if args.corpus == "synthetic":
        metrics["entropy_rate"] = synthetic.entropy_rate
    print(f"val loss {last['val_loss']:.4f} after {train_cfg.steps} steps, "
          f"{result.tokens_per_s:,.0f} tokens/s"
          + (f" (the text's entropy rate: {metrics['entropy_rate']:.4f} nats per character)"
             if "entropy_rate" in metrics else ""))
    config = {"corpus": args.corpus, "tokenizer": args.tokenizer, "seed": args.seed,
              "model": model_cfg, "pretrain": train_cfg}
    return config, metrics


def _sample_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ckpt", required=True, help="a --checkpoint-dir of ptm pretrain")
    parser.add_argument("--prompt", default="\n")
    parser.add_argument("--tokens", type=int, default=200, help="tokens to generate")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)


def _run_sample(args: argparse.Namespace):
    from pathlib import Path

    import jax
    import jax.numpy as jnp

    from jaxhin.ptm import TransformerConfig, generate, load_tokenizer
    from jaxhin.train import latest_step, restore_checkpoint

    folder = Path(args.ckpt)
    model_file = folder / "model.json"
    if not model_file.is_file():
        raise UsageError(f"{folder}: no model.json; expected a --checkpoint-dir of "
                         f"`jaxhin ptm pretrain`")
    model_cfg = TransformerConfig(**json.loads(model_file.read_text()))
    if not model_cfg.causal:
        raise UsageError(f"{folder}: an MLM (bidirectional) model cannot generate text; "
                         f"pre-train with --objective clm")
    tokenizer = load_tokenizer(folder / "tokenizer.json")
    step = latest_step(folder)
    if step is None:
        raise UsageError(f"{folder}: no checkpoint step saved yet")
    params = jax.tree.map(jnp.asarray, restore_checkpoint(folder, step)["params"])
    if args.tokens < 1:
        raise UsageError(f"--tokens must be >= 1, got {args.tokens}")
    try:
        out = generate(jax.random.key(args.seed), params, model_cfg,
                       tokenizer.encode(args.prompt), args.tokens,
                       temperature=args.temperature, top_k=args.top_k)
    except ValueError as err:
        raise UsageError(str(err)) from None
    text = tokenizer.decode(out)
    print(args.prompt + text)
    return {"ckpt": str(folder), "step": step, "prompt": args.prompt,
            "temperature": args.temperature, "seed": args.seed}, {"text": text}


COMMANDS = (
    Command("pretrain", "pre-train a Transformer with CLM or MLM (nanoGPT's CPU recipe by "
                        "default)", _pretrain_arguments, _run_pretrain),
    Command("sample", "generate text from a CLM checkpoint", _sample_arguments, _run_sample),
)
