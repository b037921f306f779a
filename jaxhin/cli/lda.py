"""`jaxhin lda train`: fit LDA with LightLDA (or exact Gibbs) and evaluate it."""

from __future__ import annotations

import argparse

from jaxhin.cli.main import Command, UsageError, output_dir, output_file


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", default="synthetic",
                        help="synthetic (built in), kos, reuters, 20news, a UCI docword file "
                             "(vocab.*.txt beside it), or an LDA-C file with --vocab")
    parser.add_argument("--vocab", default=None, help="vocabulary file for an LDA-C --corpus")
    parser.add_argument("--topics", type=int, default=None,
                        help="K (default: the planted K on synthetic, else 100)")
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--sampler", choices=("lightlda", "gibbs"), default="lightlda")
    parser.add_argument("--mh-steps", type=int, default=2,
                        help="MH cycles per token per iteration, each a word then a doc "
                             "proposal (LightLDA's -mh_steps)")
    parser.add_argument("--chunk", type=int, default=4096,
                        help="tokens sampled in parallel between count updates")
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--beta", type=float, default=0.01)
    parser.add_argument("--optimize-alpha", type=int, nargs="?", const=10, default=0,
                        metavar="N",
                        help="re-estimate an asymmetric alpha (one per topic, Minka's fixed "
                             "point) every N iterations (10 if N is left out; tomotopy's "
                             "default); --alpha is its start. Saved in --out and checkpoints")
    parser.add_argument("--sparse-below", type=int, default=32,
                        help="words with fewer tokens keep no dense word-topic row (at large "
                             "K the threshold rises to K/512: jaxhin.lda.dense_threshold)")
    parser.add_argument("--doc-rows", choices=("auto", "dense", "sparse"), default="auto",
                        help="document-topic counts: dense (D, K) rows, or read off each "
                             "document's tokens (O(N) memory whatever K is); auto: dense while "
                             "they take at most 256 MiB")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--heldout", type=float, default=0.1,
                        help="share of documents held out for perplexity (0: none)")
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--checkpoint-dir", type=output_dir, default=None,
                        help="save the chain here; resume from it if it holds a step")
    parser.add_argument("--checkpoint-every", type=int, default=0)
    parser.add_argument("--block-tokens", type=int, default=0, metavar="B",
                        help="stream the corpus from --checkpoint-dir in blocks of whole "
                             "documents of at most B tokens, one block in memory at a time "
                             "(LightLDA's data blocks; resumes after a kill from the last "
                             "block written; each block is saved, so --checkpoint-every "
                             "does not apply). 0: the whole corpus in memory")
    parser.add_argument("--top-words", type=int, default=10)
    parser.add_argument("--plot", type=output_file, metavar="FILE.png", default=None,
                        help="draw log-likelihood per token against wall time")


def _check(args) -> None:
    for flag in ("iters", "mh_steps", "chunk", "eval_every"):
        if getattr(args, flag) < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    if args.optimize_alpha < 0:
        raise UsageError(f"--optimize-alpha must be >= 0 iterations, got {args.optimize_alpha}")
    if args.topics is not None and args.topics < 2:
        raise UsageError(f"--topics must be >= 2, got {args.topics}")
    if not (args.alpha > 0 and args.beta > 0):
        raise UsageError(f"--alpha and --beta must be > 0, got {args.alpha}, {args.beta}")
    if not 0 <= args.heldout < 1:
        raise UsageError(f"--heldout must be in [0, 1), got {args.heldout}")
    if args.block_tokens < 0:
        raise UsageError(f"--block-tokens must be >= 0, got {args.block_tokens}")
    if args.block_tokens:
        if args.checkpoint_dir is None:
            raise UsageError("--block-tokens needs --checkpoint-dir: the blocks and their topics "
                             "are kept there")
        if args.sampler != "lightlda" or args.optimize_alpha:
            raise UsageError("--block-tokens runs LightLDA with a fixed alpha: drop --sampler "
                             "gibbs and --optimize-alpha")


def _run(args: argparse.Namespace):
    import jax
    import numpy as np

    from jaxhin.data import CorpusError, DatasetNameError, heldout_split, load_corpus
    from jaxhin.lda import (
        LdaConfig,
        best_match_cosine,
        coherence,
        fit,
        fit_blocks,
        memory_report,
        perplexity,
        plot_trace,
        top_words,
        topic_counts,
    )
    from jaxhin.train import peak_rss_bytes, release_freed_memory

    _check(args)
    try:
        corpus, truth = load_corpus(args.corpus, vocab=args.vocab, seed=args.seed)
    except (CorpusError, DatasetNameError) as err:
        raise UsageError(str(err)) from None
    k = args.topics or (truth.topic_word.shape[0] if truth is not None else 100)
    cfg = LdaConfig(num_topics=k, alpha=args.alpha, beta=args.beta, mh_steps=args.mh_steps,
                    chunk=args.chunk, optimize_alpha=args.optimize_alpha)
    key = jax.random.key(args.seed)
    train, heldout = corpus, None
    if args.heldout > 0:
        train, heldout = heldout_split(corpus, jax.random.fold_in(key, 7), args.heldout)
    print(f"{corpus}; training on {train.num_docs} documents ({train.num_tokens} tokens), "
          f"K={k}, {args.sampler}")
    if args.block_tokens:
        result = fit_blocks(jax.random.fold_in(key, 1), train, cfg, args.iters,
                            folder=args.checkpoint_dir, block_tokens=args.block_tokens,
                            sparse_below=args.sparse_below, eval_every=args.eval_every,
                            show_progress=not args.quiet)
        learned, memory = None, result.memory
        phi = result.topic_counts(cfg.beta)
    else:
        result = fit(jax.random.fold_in(key, 1), train, cfg, args.iters, sampler=args.sampler,
                     sparse_below=args.sparse_below, doc_rows=args.doc_rows,
                     eval_every=args.eval_every, checkpoint_dir=args.checkpoint_dir,
                     checkpoint_every=args.checkpoint_every, show_progress=not args.quiet)
        learned, memory = result.state.alpha, memory_report(result.tokens, k)
        release_freed_memory()  # the sweep's compile: evaluation should not stack on its pages
        phi = topic_counts(result.state, result.tokens, cfg)  # sparse: no K x V array
    metrics = {
        "tokens_per_s": result.tokens_per_s,
        "loglik_per_token": result.trace,
        "final_loglik_per_token": result.trace[-1]["loglik_per_token"] if result.trace else None,
        "sample_s": result.sample_s,
        # Streamed: each block compiles on first use, inside sample_s.
        "compile_s": getattr(result, "compile_s", None),
        "resumed_from": result.start_iter,
        "memory": memory,
        "coherence": coherence(phi, train, args.top_words),
    }
    if args.block_tokens:
        metrics["streamed"] = {"blocks": result.blocks, "block_tokens": args.block_tokens,
                               "largest_block_tokens": result.largest}
    alpha = args.alpha if learned is None else np.asarray(learned)
    if learned is not None:  # the learned prior: the model's, saved with it
        metrics["alpha"] = {"sum": float(alpha.sum()), "min": float(alpha.min()),
                            "max": float(alpha.max()),
                            "values": alpha.tolist() if k <= 10_000 else None}
    if heldout is not None:  # folded in with the model's own alpha
        metrics["heldout_perplexity"] = perplexity(phi, heldout, alpha)
    if truth is not None:
        metrics["topic_recovery_cosine"] = best_match_cosine(phi.dense(), truth.topic_word)
    words = top_words(phi, corpus.vocab, args.top_words)
    metrics["top_words"] = words[:100]
    for i, row in enumerate(words[:20]):
        print(f"topic {i:3d}: {' '.join(row)}")
    if len(words) > 20:
        print(f"... {len(words) - 20} more topics (first 100 in --out)")
    ppl = metrics.get("heldout_perplexity")
    print(f"{args.sampler} K={k}: {result.tokens_per_s / 1e6:.2f}M tokens/s, log p(w,z)/token "
          f"{metrics['final_loglik_per_token']:.4f}"
          + (f", held-out perplexity {ppl:.1f}" if ppl is not None else "")
          + f", UMass {metrics['coherence']['umass']:.3f}, NPMI "
            f"{metrics['coherence']['npmi']:.3f}")
    metrics["memory"]["peak_rss_bytes"] = peak_rss_bytes()  # whole process, evaluation included
    if args.plot:
        plot_trace({f"{args.sampler} K={k}": result.trace}, args.plot)
    config = {"corpus": corpus.name, "documents": corpus.num_docs, "tokens": corpus.num_tokens,
              "vocab": corpus.vocab_size, "lda": cfg, "sampler": args.sampler,
              "iters": args.iters, "seed": args.seed, "heldout": args.heldout,
              "sparse_below": args.sparse_below, "doc_rows": args.doc_rows,
              "block_tokens": args.block_tokens, "optimize_alpha": args.optimize_alpha}
    return config, metrics


def _count(text: str) -> int:
    """argparse type of a count that may be written 1e8: a whole number >= 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a count such as 1000 or 1e8, got {text!r}"
                                         ) from None
    if not (value >= 1 and value == int(value)):
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(value)


def _corpus_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=output_dir, required=True, metavar="DIR",
                        help="folder to write docword.<name>.txt.gz and vocab.<name>.txt to "
                             "(--out is the results JSON, as for every command)")
    parser.add_argument("--tokens", type=_count, default=10**6, help="N, e.g. 1e8")
    parser.add_argument("--vocab", type=_count, default=10**4, help="V, e.g. 1e6")
    parser.add_argument("--topics", type=_count, default=100, help="the planted K")
    parser.add_argument("--doc-length", type=_count, default=200, help="mean document length")
    parser.add_argument("--alpha", type=float, default=0.1,
                        help="the planted documents' Dirichlet prior")
    parser.add_argument("--zipf", type=float, default=1.05, help="the vocabulary's Zipf exponent")
    parser.add_argument("--block-tokens", type=_count, default=2**21,
                        help="tokens drawn and written at a time (bounds the memory)")
    parser.add_argument("--name", default="scale", help="the files' <name>")
    parser.add_argument("--seed", type=int, default=0)


def _make_corpus(args: argparse.Namespace):
    import time

    import jax
    import numpy as np

    from jaxhin.data import write_scale_corpus
    from jaxhin.train import peak_rss_bytes, progress

    if not (args.alpha > 0 and args.zipf > 0):
        raise UsageError(f"--alpha and --zipf must be > 0, got {args.alpha}, {args.zipf}")
    if not args.name or "/" in args.name or args.name.startswith("."):
        raise UsageError(f"--name must be a plain file-name part, got {args.name!r}")
    start = time.perf_counter()
    with progress(total=args.tokens, desc="make-corpus", unit="tok", unit_scale=True,
                  enabled=not args.quiet) as bar:
        made = write_scale_corpus(
            jax.random.key(args.seed), args.dir, num_tokens=args.tokens, vocab_size=args.vocab,
            num_topics=args.topics, doc_length=args.doc_length, alpha=args.alpha,
            zipf=args.zipf, block_tokens=args.block_tokens, name=args.name,
            on_block=lambda done: bar.update(done - bar.n))
    seconds = time.perf_counter() - start
    present = len(np.unique(made.topic_words))
    print(f"wrote {made.docword} ({made.num_docs} documents, {made.num_tokens} tokens, "
          f"{made.nnz} entries, {made.docword.stat().st_size / 2**20:.1f} MiB) and {made.vocab} "
          f"in {seconds:.1f} s; train with: jaxhin lda train --corpus {made.docword}")
    config = {k: getattr(args, k) for k in ("tokens", "vocab", "topics", "doc_length", "alpha",
                                            "zipf", "block_tokens", "name", "seed")}
    config["dir"] = str(args.dir)
    metrics = {"docword": str(made.docword), "vocab_file": str(made.vocab),
               "documents": made.num_docs, "tokens": made.num_tokens, "nnz": made.nnz,
               "docword_bytes": made.docword.stat().st_size, "words_in_topics": present,
               "seconds": seconds, "tokens_per_s": made.num_tokens / seconds,
               "peak_rss_bytes": peak_rss_bytes()}
    return config, metrics


COMMANDS = (Command("train", "fit LDA with LightLDA or exact Gibbs; perplexity, coherence, topics",
                    _arguments, _run),
            Command("make-corpus", "draw a large LDA corpus (Zipf vocabulary, planted topics) "
                                   "to disk in UCI format, block by block",
                    _corpus_arguments, _make_corpus))
