"""Does LightLDA keep exact Gibbs's answer? Start it from the state `lda` (exact collapsed
Gibbs) reaches, and watch held-out perplexity and the training log-likelihood (issue #35's bias
check).

`lda` runs `--gibbs-iters` iterations on the KOS training split; its topic assignments become
jaxhin's state; then, from that same state, jaxhin LightLDA runs `--iters` iterations under each
setting (the default: 4,096-token chunks, position-major; chunks of whole documents, the order
before; 16-token chunks; every word-topic row dense) and jaxhin's exact Gibbs runs a few. An
unbiased sampler keeps both figures where Gibbs leaves them.

    python scripts/lda_drift_check.py --topics 100 --gibbs-iters 400 --iters 100 --out drift.json
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import numpy as np


def _lda_state(train, k, iters, seed):
    from bench_lda import lda_chain  # this folder is on sys.path when a script runs

    model, step = lda_chain(train, k, seed)
    for _ in range(iters):
        step()
    # Align its tokens (doc-major, word-sorted) with jaxhin's by sorting both on (word, doc).
    ours = np.lexsort((train.docs, train.words))
    theirs = np.lexsort((model.DS, model.WS))
    z = np.empty(train.num_tokens, np.int32)
    z[ours] = model.ZS[theirs]
    return z


def _document_major(tokens):
    """The tokens sampled document by document (each part in document order): the order before
    `position_major`, which puts whole documents into one chunk."""
    import jax.numpy as jnp

    order, ns = np.asarray(tokens.sample_order), tokens.num_sparse_tokens
    new = np.concatenate([np.sort(order[:ns]), np.sort(order[ns:])]).astype(np.int32)
    return dataclasses.replace(tokens, sample_order=jnp.asarray(new))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topics", type=int, default=100)
    parser.add_argument("--gibbs-iters", type=int, default=400)
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-root", default=None)
    from jaxhin.cli import output_file  # checked writable before the work

    parser.add_argument("--out", type=output_file, default=None)
    args = parser.parse_args(argv)

    import jax
    import jax.numpy as jnp

    from jaxhin.data import heldout_split, load_kos
    from jaxhin.lda import (
        LdaConfig,
        counts,
        gibbs_sweep,
        lightlda_sweep,
        log_joint_per_token,
        perplexity,
        to_tokens,
        topic_word,
    )
    from jaxhin.train import make_results, write_results

    start = time.perf_counter()
    corpus = load_kos(args.data_root)
    train, heldout = heldout_split(corpus, jax.random.key(args.seed), 0.1)
    k = args.topics
    z = _lda_state(train, k, args.gibbs_iters, args.seed)
    base = to_tokens(train)
    settings = {
        "lightlda": (base, LdaConfig(num_topics=k), lightlda_sweep, args.iters),
        "lightlda, whole documents per chunk": (_document_major(base), LdaConfig(num_topics=k),
                                                lightlda_sweep, args.iters),
        "lightlda chunk 16": (base, LdaConfig(num_topics=k, chunk=16), lightlda_sweep,
                              min(args.iters, 25)),
        "lightlda every row dense": (to_tokens(train, sparse_below=0), LdaConfig(num_topics=k),
                                     lightlda_sweep, args.iters),
        "exact gibbs (jaxhin)": (base, LdaConfig(num_topics=k), gibbs_sweep, 10),
    }
    curves = {}

    def point(it, state, tokens, cfg):
        return (it, perplexity(topic_word(state, tokens, cfg), heldout, 0.1),
                float(log_joint_per_token(state, tokens, cfg)))

    for name, (tokens, cfg, sweep, iters) in settings.items():
        state = counts(tokens, jnp.asarray(z), k)
        points = [point(0, state, tokens, cfg)]
        key = jax.random.key(args.seed + 1)
        for it in range(iters):
            state = sweep(jax.random.fold_in(key, it), state, tokens, cfg)
            if (it + 1) in (5, 10, 25, 50, 100, 200) or it + 1 == iters:
                points.append(point(it + 1, state, tokens, cfg))
                print(f"{name:36s} iter {it + 1:4d} perplexity {points[-1][1]:8.1f} "
                      f"log-likelihood {points[-1][2]:.4f} per token", flush=True)
        curves[name] = points
    print(f"lda after {args.gibbs_iters} iterations: perplexity {curves['lightlda'][0][1]:.1f}, "
          f"log-likelihood {curves['lightlda'][0][2]:.4f}; "
          + "; ".join(f"{n}: {c[-1][1]:.1f}, {c[-1][2]:.4f} after {c[-1][0]}"
                      for n, c in curves.items()))
    if args.out:
        write_results(args.out, make_results(
            system="lda", command="lda_drift_check", config=vars(args),
            metrics={"curves": {n: [{"iter": i, "perplexity": p, "log_likelihood": ll}
                                    for i, p, ll in c] for n, c in curves.items()}},
            wall_s=time.perf_counter() - start))
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
