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
    parser.add_argument("--top-words", type=int, default=10)
    parser.add_argument("--plot", type=output_file, metavar="FILE.png", default=None,
                        help="draw log-likelihood per token against wall time")


def _check(args) -> None:
    for flag in ("iters", "mh_steps", "chunk", "eval_every"):
        if getattr(args, flag) < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    if args.topics is not None and args.topics < 2:
        raise UsageError(f"--topics must be >= 2, got {args.topics}")
    if not (args.alpha > 0 and args.beta > 0):
        raise UsageError(f"--alpha and --beta must be > 0, got {args.alpha}, {args.beta}")
    if not 0 <= args.heldout < 1:
        raise UsageError(f"--heldout must be in [0, 1), got {args.heldout}")


def _run(args: argparse.Namespace):
    import jax

    from jaxhin.data import CorpusError, DatasetNameError, heldout_split, load_corpus
    from jaxhin.lda import (
        LdaConfig,
        best_match_cosine,
        coherence,
        fit,
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
                    chunk=args.chunk)
    key = jax.random.key(args.seed)
    train, heldout = corpus, None
    if args.heldout > 0:
        train, heldout = heldout_split(corpus, jax.random.fold_in(key, 7), args.heldout)
    print(f"{corpus}; training on {train.num_docs} documents ({train.num_tokens} tokens), "
          f"K={k}, {args.sampler}")
    result = fit(jax.random.fold_in(key, 1), train, cfg, args.iters, sampler=args.sampler,
                 sparse_below=args.sparse_below, doc_rows=args.doc_rows, eval_every=args.eval_every,
                 checkpoint_dir=args.checkpoint_dir, checkpoint_every=args.checkpoint_every,
                 show_progress=not args.quiet)
    release_freed_memory()  # the sweep's compile: evaluation should not stack on its pages
    phi = topic_counts(result.state, result.tokens, cfg)  # sparse: no K x V array
    metrics = {
        "tokens_per_s": result.tokens_per_s,
        "loglik_per_token": result.trace,
        "final_loglik_per_token": result.trace[-1]["loglik_per_token"] if result.trace else None,
        "sample_s": result.sample_s,
        "compile_s": result.compile_s,
        "resumed_from": result.start_iter,
        "memory": memory_report(result.tokens, k),
        "coherence": coherence(phi, train, args.top_words),
    }
    if heldout is not None:
        metrics["heldout_perplexity"] = perplexity(phi, heldout, args.alpha)
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
              "sparse_below": args.sparse_below, "doc_rows": args.doc_rows}
    return config, metrics


COMMANDS = (Command("train", "fit LDA with LightLDA or exact Gibbs; perplexity, coherence, topics",
                    _arguments, _run),)
