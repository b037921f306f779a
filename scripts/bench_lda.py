"""jaxhin LightLDA vs tomotopy, lda, gensim and scikit-learn on KOS, side by side in one run.

For each K, every library trains on the same 90% of KOS documents (alpha = 0.1, beta = 0.01,
same machine, same cores) for about `--seconds` of training time (at least one iteration or
pass each), then its topic-word matrix is scored by the same evaluator
(`jaxhin.lda.perplexity`: document completion on the held-out 10%). Peers run first and
rarely stop exactly at `--seconds` (one iteration may take seconds); jaxhin is then scored at
each peer's own training time (the first iteration boundary at or past it), so every
perplexity ratio compares equal wall time. Speed is tokens per
second: corpus tokens / median time of one iteration (one pass for the variational peers).

    python scripts/bench_lda.py --topics 100 1000 10000 --seconds 20 --out bench_lda.json
    python scripts/bench_lda.py --scaling --out scaling.json   # cost per token against K
    python scripts/bench_lda.py --convergence --out conv.json  # against exact Gibbs, staleness
    python scripts/bench_lda.py --curves --topics 100 --seconds 60 --out curves.json
    python scripts/bench_lda.py --corpus 20news --topics 1000 --curves --reference tomotopy
    python scripts/bench_lda.py --corpus 20news --topics 1000 10000 --convergence-time

`--curves` traces held-out perplexity against iterations and training seconds for jaxhin
LightLDA, tomotopy with alpha fixed and optimised, `lda` (exact collapsed Gibbs, the reference:
`--ref-iters` iterations, counted as converged from the first point within 1% of its final
perplexity) and, with `--gibbs-seconds`, jaxhin's exact Gibbs; it checks LightLDA within 3% of the
reference's final perplexity after at most 3x the reference's iterations to convergence, and no
worse than tomotopy (alpha fixed) at tomotopy's training times; `jaxhin-opt` (LightLDA with
`optimize_alpha=10`, Minka's fixed point) against `tomotopy-opt` (its default, also every 10
iterations) likewise. Every model is scored with the same evaluator and alpha 0.1 in the
fold-in. `--corpus` takes any corpus `jaxhin lda train` accepts (KOS by default).

Peers come from the `bench` extra. tomotopy runs with `--workers` threads (default: the machine's
cores, as XLA uses them all) and, as `tomotopy-1w`, with one (the issue's reference setting);
`lda` is single-threaded Cython Gibbs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np


def _train_vocab_only(heldout, seen):
    from jaxhin.data import Corpus

    keep = seen[heldout.words]
    return Corpus(heldout.words[keep], heldout.docs[keep], heldout.vocab, heldout.num_docs,
                  heldout.name)


def run_jaxhin(train, k, seconds, seed, at=()):
    """Train for `seconds` (at least); also return phi as it was at each training time in `at`
    (the first iteration boundary at or past it), so every peer is compared at its own time."""
    import jax

    from jaxhin.lda import LdaConfig, init_state, lightlda_sweep, to_tokens, topic_word

    cfg = LdaConfig(num_topics=k, alpha=0.1, beta=0.01)  # the defaults: mh_steps 2, chunk 4096
    tokens = to_tokens(train)
    init_key, key = jax.random.split(jax.random.key(seed))
    state = init_state(init_key, tokens, k)
    sweep = lightlda_sweep.lower(key, state, tokens, cfg).compile()
    times, total, it = [], 0.0, 0
    pending, snapshots = sorted(at), {}
    while total < max([seconds, *pending]):
        t = time.perf_counter()
        state = sweep(jax.random.fold_in(key, it), state, tokens)
        jax.block_until_ready(state.z)
        times.append(time.perf_counter() - t)
        total += times[-1]
        it += 1
        while pending and total >= pending[0]:  # outside the timed region
            snapshots[pending.pop(0)] = (total, topic_word(state, tokens, cfg))
    return times, topic_word(state, tokens, cfg), snapshots


def _tomotopy_model(train, k, seed):
    import tomotopy as tp

    model = tp.LDAModel(k=k, alpha=0.1, eta=0.01, seed=seed)
    starts = train.doc_starts
    for d in range(train.num_docs):
        ids = train.words[starts[d]:starts[d] + train.doc_lengths[d]]
        model.add_doc([train.vocab[i] for i in ids])
    return model


def _tomotopy_phi(model, train, k):
    index = {w: i for i, w in enumerate(train.vocab)}
    cols = np.asarray([index[w] for w in model.used_vocabs])
    phi = np.zeros((k, train.vocab_size))
    for t in range(k):
        phi[t, cols] = model.get_topic_word_dist(t)
    return phi


def run_tomotopy(train, k, seconds, seed, workers):
    model = _tomotopy_model(train, k, seed)
    model.train(0, workers=workers)  # initialise (topic assignment), not timed
    times, total = [], 0.0
    while total < seconds:
        t = time.perf_counter()
        model.train(1, workers=workers)
        times.append(time.perf_counter() - t)
        total += times[-1]
    return times, _tomotopy_phi(model, train, k)


def _doc_word(train):
    import scipy.sparse as sp

    x = sp.csr_matrix((np.ones(train.num_tokens, np.int64), (train.docs, train.words)),
                      shape=(train.num_docs, train.vocab_size))
    x.sum_duplicates()
    return x


def run_lda(train, k, seconds, seed):
    import logging

    import lda

    logging.getLogger("lda").setLevel(logging.WARNING)
    x = _doc_word(train)
    # `lda` trains only in one call: size it from the marginal cost of 2 extra iterations.
    cost = []
    for n in (1, 3):
        t = time.perf_counter()
        lda.LDA(n_topics=k, n_iter=n, alpha=0.1, eta=0.01, random_state=seed).fit(x)
        cost.append(time.perf_counter() - t)
        if cost[0] > seconds:
            break
    per_iter = max((cost[-1] - cost[0]) / 2, 1e-3) if len(cost) == 2 else cost[0]
    n_iter = max(1, int(seconds / per_iter))
    t = time.perf_counter()
    model = lda.LDA(n_topics=k, n_iter=n_iter, alpha=0.1, eta=0.01, random_state=seed).fit(x)
    total = time.perf_counter() - t
    return [total / n_iter] * n_iter, model.topic_word_


def run_gensim(train, k, seconds, seed):
    import logging

    from gensim.models import LdaModel

    logging.getLogger("gensim").setLevel(logging.WARNING)
    x = _doc_word(train)
    bow = [list(zip(x.indices[x.indptr[d]:x.indptr[d + 1]].tolist(),
                    x.data[x.indptr[d]:x.indptr[d + 1]].tolist(), strict=True))
           for d in range(train.num_docs)]
    t = time.perf_counter()
    model = LdaModel(bow, num_topics=k, id2word={i: w for i, w in enumerate(train.vocab)},
                     alpha=np.full(k, 0.1), eta=0.01, passes=1, random_state=seed,
                     chunksize=2000)
    times = [time.perf_counter() - t]
    while sum(times) < seconds:
        t = time.perf_counter()
        model.update(bow, passes=1)
        times.append(time.perf_counter() - t)
    return times, model.get_topics()


def run_sklearn(train, k, seconds, seed):
    from sklearn.decomposition import LatentDirichletAllocation

    x = _doc_word(train)
    model = LatentDirichletAllocation(n_components=k, doc_topic_prior=0.1, topic_word_prior=0.01,
                                      learning_method="online", random_state=seed,
                                      total_samples=train.num_docs, batch_size=512)
    times = []
    while sum(times) < seconds:
        t = time.perf_counter()
        model.partial_fit(x)
        times.append(time.perf_counter() - t)
    phi = model.components_
    return times, phi / phi.sum(1, keepdims=True)


def scaling(corpus, ks, repeats, seed, warmup):
    """Seconds per token of LightLDA (all of KOS) and exact Gibbs (its first 300 documents, Gibbs
    being O(K) per token) at each K: medians of `repeats` iterations, interleaved across K,
    after compilation and `warmup` iterations (LightLDA's first iterations from a random start touch many more
    distinct topics per document, so they cost more at large K than the steady state)."""
    import jax

    from jaxhin.data import Corpus
    from jaxhin.lda import (
        LdaConfig,
        gibbs_sweep,
        init_state,
        lightlda_sweep,
        to_tokens,
    )

    n_small = int(corpus.doc_starts[300]) if corpus.num_docs > 300 else corpus.num_tokens
    small = Corpus(corpus.words[:n_small], corpus.docs[:n_small], corpus.vocab,
                   min(300, corpus.num_docs), "kos:300")
    out = {}
    for name, sweep, data in (("lightlda", lightlda_sweep, corpus), ("gibbs", gibbs_sweep, small)):
        tokens = to_tokens(data)
        chains = {}
        for k in ks:
            cfg = LdaConfig(num_topics=k)
            init_key, key = jax.random.split(jax.random.key(seed))
            state = init_state(init_key, tokens, k)
            fn = sweep.lower(key, state, tokens, cfg).compile()
            for it in range(warmup if name == "lightlda" else 0):
                state = fn(jax.random.fold_in(key, 10_000 + it), state, tokens)
            chains[k] = [fn, key, state, []]
        # Interleaved: repeat r times every K once, so machine drift hits all K alike.
        for it in range(repeats):
            for k in ks:
                fn, key, state, times = chains[k]
                t = time.perf_counter()
                state = fn(jax.random.fold_in(key, it), state, tokens)
                jax.block_until_ready(state.z)
                times.append(time.perf_counter() - t)
                chains[k][2] = state
        for k in ks:
            times = chains[k][3]
            out[(name, k)] = statistics.median(times) / tokens.num_tokens
            print(f"{name:8s} K={k:6d}: {out[(name, k)] * 1e9:9.1f} ns/token "
                  f"({tokens.num_tokens} tokens, median of {repeats} interleaved"
                  f"{f' after {warmup} warm-up iterations' if name == 'lightlda' else ''}; "
                  f"min {min(times) / tokens.num_tokens * 1e9:.1f}, max "
                  f"{max(times) / tokens.num_tokens * 1e9:.1f})", flush=True)
        ratio = out[(name, ks[-1])] / out[(name, ks[0])]
        print(f"{name:8s} time per token K={ks[-1]} / K={ks[0]}: x{ratio:.2f}", flush=True)
    return [{"sampler": n, "K": k, "s_per_token": v} for (n, k), v in out.items()]


def convergence(seeds, iters):
    """Acceptance 1 and the staleness effect: on the synthetic corpus (8 planted topics), final
    log p(w, z)/token and topic recovery of exact Gibbs and of LightLDA for several chunk sizes
    and MH steps, over `seeds` chains each (medians: both samplers sometimes stay in a local
    mode with two topics merged)."""
    import jax

    from jaxhin.data import synthetic_corpus
    from jaxhin.lda import LdaConfig, best_match_cosine, fit, topic_word

    corpus, truth = synthetic_corpus(jax.random.key(0), num_docs=300, doc_length=80,
                                     vocab_size=300, num_topics=8)

    def run(sampler, cfg):
        ll, cos = [], []
        for s in range(seeds):
            r = fit(jax.random.key(s), corpus, cfg, iters, sampler=sampler, eval_every=iters,
                    show_progress=False)
            ll.append(r.trace[-1]["loglik_per_token"])
            cos.append(best_match_cosine(topic_word(r.state, r.tokens, cfg), truth.topic_word))
        return np.array(ll), np.array(cos)

    gibbs, gcos = run("gibbs", LdaConfig(num_topics=8))
    print(f"gibbs: log p/token median {np.median(gibbs):.4f} (seeds {np.round(gibbs, 4)}), "
          f"cosine min {gcos.min():.3f}", flush=True)
    rows = []
    for mh in (1, 2):  # cycles: a word and a doc proposal each
        for chunk in (16, 512, 4096, 32768):
            ll, cos = run("lightlda", LdaConfig(num_topics=8, chunk=chunk, mh_steps=mh))
            gap = abs(np.median(ll) / np.median(gibbs) - 1)
            rows.append({"mh_steps": mh, "chunk": chunk, "loglik": ll.tolist(),
                         "median_gap": gap, "cosine_min": cos.min(), "cosine_mean": cos.mean()})
            print(f"lightlda mh_steps={mh} chunk={chunk:6d}: median gap to Gibbs "
                  f"{100 * gap:.2f}% (seeds {np.round(ll, 4)}), cosine mean {cos.mean():.4f} "
                  f"min {cos.min():.3f}", flush=True)
    return {"gibbs": gibbs.tolist(), "lightlda": rows}


# ----------------------------------------------------------------------------- --curves


class _Clock:
    """Training seconds (sweeps only) and the curve of held-out perplexity against them."""

    def __init__(self, name, heldout, marks, seconds, max_iters):
        self.name, self.heldout, self.seconds, self.max_iters = name, heldout, seconds, max_iters
        self.marks, self.total, self.points = marks, 0.0, []

    def run(self, step, phi):
        """Call `step()` (one iteration) until the time or iteration budget is spent; score
        `phi()` at every mark (outside the timed region)."""
        from jaxhin.lda import perplexity

        it = 0
        while it < self.max_iters and self.total < self.seconds:
            t = time.perf_counter()
            step(it)
            self.total += time.perf_counter() - t
            it += 1
            if it in self.marks or it == self.max_iters or self.total >= self.seconds:
                self.points.append({"iter": it, "wall_s": self.total,
                                    "perplexity": perplexity(phi(), self.heldout, 0.1)})
                print(f"  {self.name:16s} iter {it:5d} {self.total:8.1f} s perplexity "
                      f"{self.points[-1]['perplexity']:9.1f}", flush=True)
        return self.points


def curve_jaxhin(train, clock, k, seed, sampler, mh_steps, chunk, optimize=0):
    """jaxhin's chain as `fit` runs it (alpha, with `optimize`, re-estimated every `optimize`
    iterations inside the timed step), one iteration per step."""
    import dataclasses

    import jax

    from jaxhin.lda import (
        LdaConfig,
        gibbs_sweep,
        init_state,
        lightlda_sweep,
        optimize_alpha,
        to_tokens,
        topic_word,
    )

    cfg = LdaConfig(num_topics=k, alpha=0.1, beta=0.01, mh_steps=mh_steps, chunk=chunk,
                    optimize_alpha=optimize)
    tokens = to_tokens(train)
    init_key, key = jax.random.split(jax.random.key(seed))
    box = [init_state(init_key, tokens, k, cfg)]
    sweep = {"lightlda": lightlda_sweep, "gibbs": gibbs_sweep}[sampler]
    sweep = sweep.lower(key, box[0], tokens, cfg).compile()  # compilation is not training
    if optimize:
        optimize_alpha(box[0], tokens, box[0].alpha).block_until_ready()  # compiled, likewise

    def step(it):
        box[0] = sweep(jax.random.fold_in(key, it), box[0], tokens)
        if optimize and (it + 1) % optimize == 0:
            box[0] = dataclasses.replace(box[0], alpha=optimize_alpha(box[0], tokens,
                                                                      box[0].alpha))
        jax.block_until_ready(box[0].z)

    return clock.run(step, lambda: topic_word(box[0], tokens, cfg))


def curve_tomotopy(train, clock, k, seed, workers, optimize):
    model = _tomotopy_model(train, k, seed)
    model.optim_interval = 10 if optimize else 0  # tomotopy's default is 10 (alpha optimised)
    model.train(0, workers=workers)
    return clock.run(lambda it: model.train(1, workers=workers),
                     lambda: _tomotopy_phi(model, train, k))


def lda_chain(train, k, seed):
    """`lda`'s exact Gibbs chain, one iteration per `step()` call: `lda` trains only inside one
    `fit`, so this drives the loop of its `_fit` (its own initialisation, shuffled token order
    and Cython sweep); the chain is the one `fit` would run. Returns (model, step)."""
    import logging

    import lda
    import lda.utils

    logging.getLogger("lda").setLevel(logging.WARNING)
    model = lda.LDA(n_topics=k, n_iter=1, alpha=0.1, eta=0.01, random_state=seed)
    model._initialize(_doc_word(train))
    rands = model._rands.copy()
    random_state = lda.utils.check_random_state(seed)

    def step(it=None):
        random_state.shuffle(rands)
        model._sample_topics(rands)

    return model, step


def curve_lda(train, clock, k, seed):
    model, step = lda_chain(train, k, seed)

    def phi():
        out = (model.nzw_ + model.eta).astype(float)
        return out / out.sum(1, keepdims=True)

    return clock.run(step, phi)


def _last_by(points, seconds):
    """The last point reached within `seconds` of training (None if there is none): jaxhin is
    judged at its state no later than the peer's time, never given extra time."""
    done = [p for p in points if p["wall_s"] <= seconds]
    return done[-1] if done else None


def _equal_time(ours, theirs):
    """At each of the peer's points, jaxhin's last point no later than it."""
    rows = []
    for p in theirs:
        if p["wall_s"] > ours[-1]["wall_s"]:
            break
        mine = _last_by(ours, p["wall_s"])
        rows.append({"peer_s": p["wall_s"], "peer": p["perplexity"],
                     "jaxhin_s": mine and mine["wall_s"], "jaxhin": mine and mine["perplexity"]})
    return rows


def _never_worse(rows):
    return bool(rows) and all(e["jaxhin"] is not None and e["jaxhin"] <= e["peer"] for e in rows)


def _print_equal_time(rows, peer):
    for e in rows:
        mine = "no iteration yet" if e["jaxhin"] is None else (
            f"{e['jaxhin']:8.1f} (at {e['jaxhin_s']:.1f} s)")
        print(f"    at {e['peer_s']:7.1f} s: {peer} {e['peer']:8.1f}, jaxhin {mine}", flush=True)


def curves(train, heldout, k, args):
    """Perplexity against iterations and seconds for every sampler; the issue's quality checks:
    LightLDA after 3x the reference's iterations within 3% of its converged perplexity, at
    tomotopy's (alpha fixed) training times no worse than tomotopy, and with alpha optimised
    (both every 10 iterations) no worse than tomotopy's default at its training times."""
    marks = {round(10 * 1.25 ** i) for i in range(40)}
    runs = {}

    def clock(name, seconds, iters):
        return _Clock(name, heldout, marks, seconds, iters)

    runs["tomotopy"] = curve_tomotopy(train, clock("tomotopy", args.seconds, args.ref_iters), k,
                                      args.seed, args.workers, optimize=False)
    runs["tomotopy-opt"] = curve_tomotopy(train, clock("tomotopy-opt", args.seconds,
                                                       args.ref_iters), k, args.seed,
                                          args.workers, optimize=True)
    if args.reference == "lda":
        runs["lda"] = curve_lda(train, clock("lda", float("inf"), args.ref_iters), k, args.seed)
    ref = runs[args.reference]
    # The reference's run to convergence is its whole run (`--ref-iters`); it counts as converged
    # from the first mark within 1% of that final perplexity, and LightLDA gets 3x those
    # iterations to come within 3% of the final perplexity.
    final = ref[-1]["perplexity"]
    conv = next(p for p in ref if p["perplexity"] <= 1.01 * final)
    budget = 3 * conv["iter"]
    runs["jaxhin"] = curve_jaxhin(train, clock("jaxhin", float("inf"), budget), k, args.seed,
                                  "lightlda", args.mh_steps, args.chunk)
    runs["jaxhin-opt"] = curve_jaxhin(train, clock("jaxhin-opt", args.seconds, args.ref_iters),
                                      k, args.seed, "lightlda", args.mh_steps, args.chunk,
                                      optimize=10)
    if args.gibbs_seconds > 0:
        runs["jaxhin-gibbs"] = curve_jaxhin(train, clock("jaxhin-gibbs", args.gibbs_seconds,
                                                         args.ref_iters), k, args.seed, "gibbs",
                                            args.mh_steps, args.chunk)
    ours = runs["jaxhin"]
    best = min(p["perplexity"] for p in ours)
    equal_time = _equal_time(ours, runs["tomotopy"])
    equal_opt = _equal_time(runs["jaxhin-opt"], runs["tomotopy-opt"])
    summary = {"K": k, "reference": args.reference, "reference_iters": ref[-1]["iter"],
               "reference_perplexity": final, "reference_converged_iter": conv["iter"],
               "jaxhin_iter_budget": budget, "jaxhin_best_within_budget": best,
               "gap_to_reference": best / final - 1,
               "within_3_percent": best <= 1.03 * final,
               "equal_time_vs_tomotopy": equal_time,
               "never_worse_than_tomotopy_at_equal_time": _never_worse(equal_time),
               "optimised_alpha_vs_tomotopy_default": equal_opt,
               "optimised_never_worse_than_tomotopy_default": _never_worse(equal_opt)}
    print(f"K={k}: {args.reference} perplexity {final:.1f} after {ref[-1]['iter']} iterations "
          f"(within 1% from {conv['iter']}); jaxhin LightLDA best within {budget} iterations "
          f"{best:.1f} ({100 * summary['gap_to_reference']:+.2f}%, limit +3%)", flush=True)
    _print_equal_time(equal_time, "tomotopy")
    print("  alpha optimised every 10 iterations (jaxhin --optimize-alpha, tomotopy's default):",
          flush=True)
    _print_equal_time(equal_opt, "tomotopy-opt")
    return {"runs": runs, "summary": summary}


# ----------------------------------------------------------------------------- --convergence-time


def _tomotopy_loglik(model, train, log_joint_counts):
    """tomotopy's chain scored by jaxhin's collapsed log p(w, z) (same V, alpha, beta for all):
    its tokens' topics and words (its own word ids: only the grouping matters)."""
    import jax.numpy as jnp

    words, docs, z = [], [], []
    for d, doc in enumerate(model.docs):
        w = np.asarray(doc.words, np.int32)
        words.append(w)
        docs.append(np.full(w.shape, d, np.int32))
        z.append(np.asarray(doc.topics, np.int32))
    z = jnp.asarray(np.concatenate(z))
    tc = jnp.bincount(z, length=model.k)
    value = log_joint_counts(z, jnp.asarray(np.concatenate(words)),
                             jnp.asarray(np.concatenate(docs)), jnp.asarray(train.doc_lengths), tc,
                             train.vocab_size, 0.1, 0.01)
    return float(value) / train.num_tokens


def convergence_time(train, k, args):
    """Sampling seconds to reach a fixed training log p(w, z) per token: the value tomotopy
    (alpha fixed, `--workers` threads) reaches after `--target-iters` iterations, every chain
    scored by jaxhin's `log_joint` after every iteration (scoring not timed), each chain capped at
    `--cap-seconds` of sampling."""
    import jax

    from jaxhin.lda import (
        LdaConfig,
        gibbs_sweep,
        init_state,
        lightlda_sweep,
        log_joint_counts,
        log_joint_per_token,
        to_tokens,
    )

    def chase(name, step, score, target):
        total, it, ll = 0.0, 0, -np.inf
        while total < args.cap_seconds and (target is None or ll < target):
            t = time.perf_counter()
            step(it)
            total += time.perf_counter() - t
            it += 1
            ll = score()
            if target is None and it >= args.target_iters:
                break
        reached = target is None or ll >= target
        print(f"  {name:14s} {'reached' if reached else 'NOT reached'} after {it} iterations, "
              f"{total:.1f} s of sampling (log p(w,z)/token {ll:.4f})", flush=True)
        return {"iterations": it, "sampling_s": total, "loglik_per_token": ll,
                "reached": reached}

    model = _tomotopy_model(train, k, args.seed)
    model.optim_interval = 0
    model.train(0, workers=args.workers)
    ref = chase("tomotopy", lambda it: model.train(1, workers=args.workers),
                lambda: _tomotopy_loglik(model, train, log_joint_counts), None)
    target = ref["loglik_per_token"]
    print(f"K={k}: target log p(w,z)/token {target:.4f} (tomotopy after {ref['iterations']} "
          f"iterations, {ref['sampling_s']:.1f} s)", flush=True)
    cfg = LdaConfig(num_topics=k, alpha=0.1, beta=0.01, mh_steps=args.mh_steps, chunk=args.chunk)
    tokens = to_tokens(train, num_topics=k)
    rows = {"tomotopy": ref}
    chains = [("jaxhin", lightlda_sweep)] + ([("jaxhin-gibbs", gibbs_sweep)]
                                             if not args.no_gibbs else [])
    for name, sweep in chains:
        init_key, key = jax.random.split(jax.random.key(args.seed))
        box = [init_state(init_key, tokens, k)]
        compiled = sweep.lower(key, box[0], tokens, cfg).compile()  # compilation not timed

        def step(it, compiled=compiled, key=key, box=box):
            box[0] = compiled(jax.random.fold_in(key, it), box[0], tokens)
            jax.block_until_ready(box[0].z)

        rows[name] = chase(name, step,
                           lambda box=box: float(log_joint_per_token(box[0], tokens, cfg)), target)
    ours = rows["jaxhin"]
    for name in [n for n in ("tomotopy", "jaxhin-gibbs") if n in rows]:
        peer = rows[name]
        bound = "" if peer["reached"] else " at least (it did not reach the target)"
        ratio = peer["sampling_s"] / ours["sampling_s"] if ours["reached"] else None
        rows[name]["jaxhin_speedup"] = ratio
        print(f"    {name}'s time / jaxhin LightLDA's: "
              + (f"x{ratio:.2f}{bound} (> 1: LightLDA faster)" if ratio is not None
                 else "LightLDA did not reach the target"), flush=True)
    return {"K": k, "target_loglik_per_token": target, "rows": rows}


def tomotopy_version():
    import tomotopy

    return tomotopy.__version__


def lda_version():
    from importlib.metadata import version

    return version("lda")


def _row(k, name, times, ppl, train):
    return {"K": k, "library": name, "iterations": len(times), "train_s": sum(times),
            "tokens_per_s": train.num_tokens / statistics.median(times), "perplexity": ppl}


PEERS = ("tomotopy", "tomotopy-1w", "lda", "gensim", "sklearn")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topics", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="training time per library and K (at least one iteration); "
                             "--curves: tomotopy's")
    parser.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS))
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--scaling", action="store_true",
                        help="instead: seconds per token against K for LightLDA and exact Gibbs")
    parser.add_argument("--convergence", action="store_true",
                        help="instead: LightLDA against exact Gibbs on the synthetic corpus")
    parser.add_argument("--curves", action="store_true",
                        help="instead: held-out perplexity against iterations and seconds for "
                             "jaxhin LightLDA, jaxhin Gibbs, lda and tomotopy (alpha fixed and "
                             "optimised), and the issue's quality checks")
    parser.add_argument("--convergence-time", action="store_true",
                        help="instead: sampling seconds for jaxhin LightLDA, jaxhin exact Gibbs "
                             "and tomotopy to reach the training log-likelihood tomotopy "
                             "reaches after --target-iters iterations")
    parser.add_argument("--target-iters", type=int, default=100,
                        help="--convergence-time: tomotopy's iterations that set the target")
    parser.add_argument("--cap-seconds", type=float, default=300.0,
                        help="--convergence-time: most sampling seconds per chain")
    parser.add_argument("--no-gibbs", action="store_true",
                        help="--convergence-time: leave out jaxhin's exact Gibbs (dense O(K) "
                             "per token: about 60 s an iteration on 20news at K=1,000)")
    parser.add_argument("--corpus", default="kos",
                        help="kos, reuters, 20news or a corpus file (as `jaxhin lda train`)")
    parser.add_argument("--reference", choices=("lda", "tomotopy"), default="lda",
                        help="--curves: the exact Gibbs sampler whose converged perplexity "
                             "LightLDA must reach (tomotopy: alpha fixed)")
    parser.add_argument("--ref-iters", type=int, default=1000,
                        help="--curves: most iterations of the reference and tomotopy")
    parser.add_argument("--gibbs-seconds", type=float, default=0.0,
                        help="--curves: also run jaxhin's exact Gibbs for this long")
    parser.add_argument("--mh-steps", type=int, default=2,
                        help="jaxhin LightLDA's MH cycles (word then doc proposal) per token")
    parser.add_argument("--chunk", type=int, default=4096,
                        help="--curves: jaxhin LightLDA's tokens sampled between count updates")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=10,
                        help="--scaling: LightLDA iterations run before timing")
    from jaxhin.cli import output_file  # checked writable before the work

    parser.add_argument("--out", type=output_file, default=None)
    args = parser.parse_args(argv)

    import jax

    from jaxhin.data import heldout_split, load_corpus
    from jaxhin.lda import perplexity
    from jaxhin.train import make_results, write_results

    if args.convergence:
        start = time.perf_counter()
        metrics = convergence(5, 100)
        if args.out:
            write_results(args.out, make_results(system="lda", command="bench_lda --convergence",
                                                 config=vars(args), metrics=metrics,
                                                 wall_s=time.perf_counter() - start))
        return 0
    corpus, _ = load_corpus(args.corpus, root=args.data_root, seed=args.seed)
    if args.scaling:
        start = time.perf_counter()
        rows = scaling(corpus, sorted(args.topics), args.repeats, args.seed, args.warmup)
        if args.out:
            write_results(args.out, make_results(system="lda", command="bench_lda --scaling",
                                                 config=vars(args), metrics={"rows": rows},
                                                 wall_s=time.perf_counter() - start))
            print(f"wrote {args.out}")
        return 0
    train, heldout = heldout_split(corpus, jax.random.key(args.seed), 0.1)
    seen = np.bincount(train.words, minlength=train.vocab_size) > 0
    heldout = _train_vocab_only(heldout, seen)
    print(f"{corpus}: train {train.num_tokens} tokens, held-out {heldout.num_tokens} tokens "
          f"(words seen in training)", flush=True)
    rows = []
    start = time.perf_counter()
    if args.convergence_time:
        print(f"tomotopy {tomotopy_version()} with {args.workers} workers, alpha fixed (0.1), "
              f"beta 0.01; jaxhin LightLDA mh_steps {args.mh_steps}, chunk {args.chunk}; "
              f"jaxhin exact Gibbs (sequential)", flush=True)
        results = [convergence_time(train, k, args) for k in args.topics]
        if args.out:
            write_results(args.out, make_results(
                system="lda", command="bench_lda --convergence-time", config=vars(args),
                metrics={"corpus": corpus.name, "convergence_time": results,
                         "train_tokens": train.num_tokens}, wall_s=time.perf_counter() - start))
            print(f"wrote {args.out}")
        return 0
    if args.curves:
        print(f"peers: alpha 0.1, beta 0.01 for all; tomotopy {tomotopy_version()} with "
              f"{args.workers} workers, optim_interval 0 (tomotopy) or 10 (tomotopy-opt, its "
              f"default); lda {lda_version()} (exact collapsed Gibbs, one thread); jaxhin "
              f"LightLDA mh_steps {args.mh_steps}, chunk {args.chunk}, alpha fixed or "
              f"optimised every 10 (jaxhin-opt); every model scored with alpha 0.1 in the "
              f"fold-in", flush=True)
        results = [curves(train, heldout, k, args) for k in args.topics]
        if args.out:
            write_results(args.out, make_results(
                system="lda", command="bench_lda --curves", config=vars(args),
                metrics={"corpus": corpus.name, "curves": results,
                         "train_tokens": train.num_tokens, "heldout_tokens": heldout.num_tokens},
                wall_s=time.perf_counter() - start))
            print(f"wrote {args.out}")
        return 0
    for k in args.topics:
        runners = {
            "tomotopy": lambda k=k: run_tomotopy(train, k, args.seconds, args.seed, args.workers),
            "tomotopy-1w": lambda k=k: run_tomotopy(train, k, args.seconds, args.seed, 1),
            "lda": lambda k=k: run_lda(train, k, args.seconds, args.seed),
            "gensim": lambda k=k: run_gensim(train, k, args.seconds, args.seed),
            "sklearn": lambda k=k: run_sklearn(train, k, args.seconds, args.seed)}
        peers = {}
        for name in args.peers:  # peers first: jaxhin is then scored at each peer's time
            times, phi = runners[name]()
            peers[name] = _row(k, name, times, perplexity(phi, heldout, 0.1), train)
        times, phi, snaps = run_jaxhin(train, k, args.seconds, args.seed,
                                       [r["train_s"] for r in peers.values()])
        ours = _row(k, "jaxhin", times, perplexity(phi, heldout, 0.1), train)
        rows.append(ours)
        for r in peers.values():
            rows.append(r)
            at_s, snap = snaps[r["train_s"]]
            r["speed_ratio"] = ours["tokens_per_s"] / r["tokens_per_s"]
            r["jaxhin_perplexity_at_equal_time"] = perplexity(snap, heldout, 0.1)
            r["jaxhin_time_s"] = at_s
            r["perplexity_ratio"] = r["jaxhin_perplexity_at_equal_time"] / r["perplexity"]
        for r in rows:
            if r["K"] == k:
                print(f"K={k:6d} {r['library']:11s} {r['iterations']:4d} iters "
                      f"{r['train_s']:7.1f} s {r['tokens_per_s'] / 1e6:8.3f}M tokens/s  "
                      f"perplexity {r['perplexity']:9.1f}", flush=True)
        for name, r in peers.items():
            print(f"    jaxhin / {name:11s}: tokens/s x{r['speed_ratio']:7.2f}, perplexity "
                  f"x{r['perplexity_ratio']:.3f} at equal time ({r['jaxhin_time_s']:.1f} s vs "
                  f"{r['train_s']:.1f} s; < 1 is better)", flush=True)
    if args.out:
        write_results(args.out, make_results(
            system="lda", command="bench_lda", config=vars(args),
            metrics={"rows": rows, "train_tokens": train.num_tokens,
                     "heldout_tokens": heldout.num_tokens},
            wall_s=time.perf_counter() - start))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
