"""`jaxhin ptm pretrain | sample | finetune | probe`: pre-train a Transformer (CLM, MLM or
ELECTRA's replaced-token detection),
sample from it, fine-tune it (or the shipped MiniLM, or a scratch copy) for sentence
classification, probe its layers for word tags."""

from __future__ import annotations

import argparse
import dataclasses
import json

from jaxhin.cli.main import Command, UsageError, mesh_arg, mesh_for, output_dir


def _pretrain_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", default="synthetic",
                        help="shakespeare (tiny Shakespeare from the data root), an NLTK "
                             "corpus (movie_reviews, brown, state_union, inaugural; joined by "
                             "commas to concatenate), synthetic (a Markov-chain text with a "
                             "known entropy rate, built in), or a UTF-8 text file")
    parser.add_argument("--objective", choices=("clm", "mlm", "rtd"), default="clm",
                        help="causal LM (GPT), masked LM (BERT) or replaced-token detection "
                             "(ELECTRA: a small MLM generator proposes replacements, the model "
                             "learns to spot them; fine-tune or probe the model it leaves)")
    parser.add_argument("--generator-layers", type=int, default=None,
                        help="with --objective rtd: the generator's layers (same width; "
                             "default 1)")
    parser.add_argument("--rtd-weight", type=float, default=None,
                        help="with --objective rtd: weight of the detection loss (ELECTRA: 50)")
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
    parser.add_argument("--remat", choices=("none", "full", "dots", "dots_no_batch", "plan"),
                        default="none",
                        help="jax.checkpoint policy of each block; plan: the intermediates "
                             "jaxhin.remat's Coop simulator keeps at --remat-budget")
    parser.add_argument("--remat-budget", type=float, default=0.6,
                        help="with --remat plan: memory budget as a fraction of what one "
                             "training step needs without rematerialization")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32",
                        help="compute dtype (parameters stay float32)")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--checkpoint-every", type=int, default=500)
    parser.add_argument("--checkpoint-dir", type=output_dir, default=None,
                        help="save the model (parameters, tokenizer, config) here every "
                             "--checkpoint-every steps; the same command resumes from it")
    parser.add_argument("--mesh", type=mesh_arg, default=None,
                        help="data x tensor parallel over a mesh, e.g. data=2,model=4: "
                             "Megatron-LM's placements from jaxhin.sbp, batches split over "
                             "data (default: one device)")
    parser.add_argument("--placements", choices=("megatron", "planner"), default="megatron",
                        help="with --mesh: Megatron-LM's parameter placements, or those "
                             "jaxhin.sbp's planner chooses for the model's sizes")
    parser.add_argument("--seed", type=int, default=0)


def _pretrain_devices(args: argparse.Namespace) -> int:
    import math

    return math.prod(args.mesh.values()) if args.mesh else 1


def _configs(args, vocab_size: int):
    import dataclasses

    from jaxhin.ptm import PretrainConfig, TransformerConfig, remat_plan

    steps = args.steps or (300 if args.corpus == "synthetic" else 2000)
    # unset unless given, so that PretrainConfig holds the defaults
    rtd = {k: v for k, v in (("generator_layers", args.generator_layers),
                             ("rtd_weight", args.rtd_weight)) if v is not None}
    if rtd and args.objective != "rtd":
        raise UsageError(f"--generator-layers and --rtd-weight need --objective rtd, got "
                         f"--objective {args.objective}")
    try:
        model = TransformerConfig(vocab_size=vocab_size, width=args.width, layers=args.layers,
                                  heads=args.heads, max_len=args.seq,
                                  causal=args.objective == "clm", positions=args.positions,
                                  dropout=args.dropout, dtype=args.dtype,
                                  remat="none" if args.remat == "plan" else args.remat)
        if args.remat == "plan":
            names, info = remat_plan(model, batch=args.batch, seq=args.seq,
                                     budget=args.remat_budget)
            model = dataclasses.replace(model, remat="names", remat_names=names)
            print(f"remat plan at {args.remat_budget} of {info['need_bytes'] / 2**20:.1f} MiB "
                  f"(Coop, simulated overhead {info['overhead']:.3f}): saves "
                  f"{', '.join(names) or 'nothing'}")
        train = PretrainConfig(objective=args.objective, steps=steps, batch=args.batch,
                               seq=args.seq, accumulate=args.accumulate, learning_rate=args.lr,
                               min_lr=args.lr / 10, warmup=min(100, steps // 10),
                               eval_every=min(args.eval_every, steps),
                               checkpoint_every=args.checkpoint_every,
                               **rtd)
    except ValueError as err:
        raise UsageError(str(err)) from None
    return model, train


def _run_pretrain(args: argparse.Namespace):
    import time

    import jax

    from jaxhin.data import load_text, synthetic_text
    from jaxhin.ptm import load_tokenizer, planner_sbp, pretrain, train_tokenizer

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
    mesh = placements = None
    if args.placements != "megatron" and args.mesh is None:
        raise UsageError(f"--placements {args.placements}: needs --mesh (one device places "
                         f"nothing)")
    if args.mesh is not None:
        if set(args.mesh) != {"data", "model"}:
            raise UsageError(f"--mesh {args.mesh}: expected the axes data and model, e.g. "
                             f"data=2,model=4")
        mesh = mesh_for(args.mesh)
        if args.placements == "planner":
            placements, plan = planner_sbp(model_cfg, mesh, train_cfg.batch, train_cfg.seq)
            if not args.quiet:
                print(f"the planner's plan of a one-block GPT at these sizes:\n"
                      f"{plan.describe()}")
    start = time.perf_counter()
    try:
        result = pretrain(jax.random.key(args.seed), ids, model_cfg, train_cfg, mesh=mesh,
                          placements=placements,
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
    metrics |= {k: v for k, v in last.items() if k not in ("step", "train_loss", "val_loss")}
    if args.corpus == "synthetic":
        metrics["entropy_rate"] = synthetic.entropy_rate
    print(f"val loss {last['val_loss']:.4f} after {train_cfg.steps} steps, "
          f"{result.tokens_per_s:,.0f} tokens/s"
          + (f" (the text's entropy rate: {metrics['entropy_rate']:.4f} nats per character)"
             if "entropy_rate" in metrics else ""))
    config = {"corpus": args.corpus, "tokenizer": args.tokenizer, "seed": args.seed,
              "mesh": args.mesh, "placements": args.placements if args.mesh else None,
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
    import jax

    from jaxhin.ptm import generate, load_jaxhin_checkpoint

    model = load_jaxhin_checkpoint(args.ckpt)
    if not model.config.causal:
        raise UsageError(f"{args.ckpt}: a bidirectional (MLM or RTD) model cannot generate "
                         f"text; pre-train with --objective clm")
    if args.tokens < 1:
        raise UsageError(f"--tokens must be >= 1, got {args.tokens}")
    try:
        out = generate(jax.random.key(args.seed), model.params, model.config,
                       model.tokenizer.encode(args.prompt), args.tokens,
                       temperature=args.temperature, top_k=args.top_k)
    except ValueError as err:
        raise UsageError(str(err)) from None
    text = model.tokenizer.decode(out)
    print(args.prompt + text)
    return {"ckpt": model.source, "prompt": args.prompt, "temperature": args.temperature,
            "seed": args.seed}, {"text": text}


def _source(args: argparse.Namespace):
    """The checkpoint --init names (or, for --init scratch, the one --arch names, whose config
    and tokenizer are then used with fresh weights)."""
    from jaxhin.ptm import load_minilm, load_pretrained

    name = args.arch if args.init == "scratch" else args.init
    return load_minilm() if name == "minilm" else load_pretrained(name)


def _finetune_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task-file", default="synthetic",
                        help="sst2, sst1, cr, mr, mpqa (from the data root's "
                             "text/sentence-classification), synthetic (built in: a known "
                             "rule over cue words), or a file of `<label> <sentence>` lines")
    parser.add_argument("--dev-file", default=None, help="dev split for --task-file (default: "
                        "the named task's, else 10%% of the lines held out by seed)")
    parser.add_argument("--test-file", default=None, help="test split, as --dev-file")
    parser.add_argument("--init", default="minilm",
                        help="minilm (the shipped all-MiniLM-L6-v2), scratch (the --arch "
                             "architecture, randomly initialised), or a checkpoint folder "
                             "(`ptm pretrain --checkpoint-dir`, or BERT safetensors + "
                             "tokenizer.json)")
    parser.add_argument("--arch", default="minilm",
                        help="architecture and tokenizer for --init scratch: minilm, or a "
                             "checkpoint folder")
    parser.add_argument("--mode", choices=("full", "probe"), default="full",
                        help="full fine-tune, or a linear probe on the frozen backbone")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="initialisation, batch order and dropout (and the split of a "
                             "task without dev/test files)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=None,
                        help="peak learning rate (default 5e-5 full, 1e-2 probe)")
    parser.add_argument("--max-len", type=int, default=64, help="tokens per sentence")


def _run_finetune(args: argparse.Namespace):
    import jax
    import numpy as np

    from jaxhin.data import load_task
    from jaxhin.ptm import FinetuneConfig, finetune

    source = _source(args)
    try:
        cfg = FinetuneConfig(mode=args.mode, epochs=args.epochs, batch=args.batch,
                             learning_rate=args.lr or (5e-5 if args.mode == "full" else 1e-2),
                             max_len=args.max_len, pooling=source.pooling)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if args.max_len > source.config.max_len:
        raise UsageError(f"--max-len {args.max_len} is longer than the backbone's "
                         f"{source.config.max_len} positions")
    runs = []
    for seed in args.seeds:
        task = load_task(args.task_file, dev_file=args.dev_file, test_file=args.test_file,
                         seed=seed)
        if not runs:
            print(f"{task}; init {args.init} ({source.source or 'built in'}), {cfg.mode}")
        r = finetune(jax.random.key(seed), task, source.config, source.tokenizer, cfg,
                     params=None if args.init == "scratch" else source.params,
                     show_progress=not args.quiet,
                     log=lambda line, s=seed: print(f"seed {s}: {line}", flush=True))
        runs.append({"seed": seed, "test_acc": r.test_acc, "dev_acc": r.best_dev_acc,
                     "best": r.best, "dev_curve": r.dev_acc, "train_s": r.train_s})
        print(f"seed {seed}: dev {r.best_dev_acc:.4f} (best at {r.best}), "
              f"test {r.test_acc:.4f}", flush=True)
    acc = np.asarray([r["test_acc"] for r in runs])
    metrics = {"test_acc_mean": float(acc.mean()), "test_acc_std": float(acc.std()),
               "dev_acc_mean": float(np.mean([r["dev_acc"] for r in runs])),
               "per_seed": runs, "task": repr(task)}
    print(f"{task.name} {args.init} ({cfg.mode}): test accuracy {acc.mean():.4f} "
          f"+- {acc.std():.4f} over seeds {args.seeds}")
    config = {"task_file": args.task_file, "dev_file": args.dev_file,
              "test_file": args.test_file, "init": args.init, "source": source.source,
              "arch": args.arch if args.init == "scratch" else None, "seeds": args.seeds,
              "backbone": source.config, "finetune": cfg}
    return config, metrics


def _probe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--init", default="minilm",
                        help="minilm (the shipped all-MiniLM-L6-v2), scratch (the --arch "
                             "architecture, randomly initialised: the probe's baseline), or a "
                             "checkpoint folder")
    parser.add_argument("--arch", default="minilm",
                        help="architecture and tokenizer for --init scratch")
    parser.add_argument("--tagged", choices=("brown", "synthetic"), default="synthetic",
                        help="brown (the tagged Brown corpus from the data root's NLTK "
                             "corpora, part of speech) or synthetic (built in: cue-word tags)")
    parser.add_argument("--sentences", type=int, nargs=3, default=[3000, 500, 500],
                        metavar=("TRAIN", "DEV", "TEST"))
    parser.add_argument("--steps", type=int, default=300, help="probe optimisation steps")
    parser.add_argument("--seed", type=int, default=0, help="initialisation for scratch")


def _run_probe(args: argparse.Namespace):
    import jax

    from jaxhin.data import brown_tagged, synthetic_tagged
    from jaxhin.ptm import Transformer, pos_probe

    source = _source(args)
    params = source.params
    if args.init == "scratch":
        import jax.numpy as jnp

        params = {"params": Transformer(source.config).init(
            jax.random.key(args.seed), jnp.zeros((1, 2), jnp.int32))["params"]}
    tagged = brown_tagged() if args.tagged == "brown" else synthetic_tagged(args.seed)
    if args.steps < 10:
        raise UsageError(f"--steps must be >= 10, got {args.steps}")
    try:
        curve = pos_probe(source.config, params, source.tokenizer, tagged,
                          max_len=min(128, source.config.max_len),
                          splits=tuple(args.sentences), steps=args.steps)
    except ValueError as err:
        raise UsageError(str(err)) from None
    for layer, (d, t) in enumerate(zip(curve.dev_acc, curve.test_acc, strict=True)):
        print(f"layer {layer}: dev {d:.4f}, test {t:.4f}")
    print(f"most frequent training tag of each word: test {curve.majority_test_acc:.4f}")
    metrics = {"dev_acc": curve.dev_acc, "test_acc": curve.test_acc,
               "majority_test_acc": curve.majority_test_acc, "tags": curve.tags,
               "words": curve.words,
               "best_layer_by_dev": int(max(range(len(curve.dev_acc)),
                                            key=curve.dev_acc.__getitem__))}
    config = {"init": args.init, "arch": args.arch if args.init == "scratch" else None,
              "source": source.source, "tagged": args.tagged, "sentences": args.sentences,
              "steps": args.steps, "seed": args.seed, "backbone": source.config}
    return config, metrics


COMMANDS = (
    Command("pretrain", "pre-train a Transformer with CLM or MLM (nanoGPT's CPU recipe by "
                        "default)", _pretrain_arguments, _run_pretrain,
            devices=_pretrain_devices),
    Command("sample", "generate text from a CLM checkpoint", _sample_arguments, _run_sample),
    Command("finetune", "fine-tune (or linear-probe) a pre-trained or scratch Transformer "
                        "for sentence classification", _finetune_arguments, _run_finetune),
    Command("probe", "layer-wise linear probes of word tags (part of speech on Brown)",
            _probe_arguments, _run_probe),
)
