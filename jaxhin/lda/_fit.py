"""Running a sampler: timed iterations, the log-likelihood trajectory, checkpoints and resume."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxhin.data import Corpus
from jaxhin.lda._samplers import (
    LdaConfig,
    SamplerState,
    Tokens,
    gibbs_sweep,
    init_state,
    lightlda_sweep,
    log_joint_per_token,
    optimize_alpha,
    to_tokens,
)
from jaxhin.train import (
    CheckpointError,
    fingerprint,
    progress,
    release_freed_memory,
    run_folder,
    save_checkpoint,
)

SAMPLERS = {"lightlda": lightlda_sweep, "gibbs": gibbs_sweep}


@dataclasses.dataclass
class FitResult:
    """A trained chain: its state, the token layout, and how it got there.

    Attributes:
      trace: one dict per evaluation: `iter` (iterations done), `wall_s` (sampling seconds so
        far, evaluation and compilation excluded), `loglik_per_token`.
      sample_s: seconds spent in sweeps (this run only, after compilation).
      compile_s: seconds to compile the sweep.
      start_iter: the iteration this run started from (> 0 when resumed).
    """

    state: SamplerState
    tokens: Tokens
    trace: list[dict[str, float]]
    sample_s: float
    compile_s: float
    start_iter: int
    iters: int

    @property
    def tokens_per_s(self) -> float:
        done = self.iters - self.start_iter
        return self.tokens.num_tokens * done / self.sample_s if self.sample_s > 0 else 0.0


def _state_tree(state: SamplerState) -> dict[str, Any]:
    """The arrays a checkpoint holds. Empty ones (no word with a dense row, in a small corpus)
    are left out, because orbax cannot save a zero-size array; a restore keeps the fresh
    state's (equally empty) ones."""
    tree = {"z": state.z, "zw": state.zw, "doc_topic": state.doc_topic,
            "word_rows": state.word_rows, "topic_count": state.topic_count,
            "alpha": state.alpha}
    return {name: value for name, value in tree.items() if value is not None and value.size > 0}


def fit(key: jax.Array, corpus: Corpus | Tokens, cfg: LdaConfig, iters: int, *,
        sampler: str = "lightlda", sparse_below: int = 32, doc_rows: str = "auto",
        eval_every: int = 10,
        checkpoint_dir: str | os.PathLike[str] | None = None, checkpoint_every: int = 0,
        show_progress: bool = True) -> FitResult:
    """Run `iters` iterations of `sampler` from a random start (or from the newest checkpoint in
    `checkpoint_dir`). With `init_key, run_key = split(key)`, iteration i uses
    `fold_in(run_key, i)`, so a resumed chain continues bit-identically.

    Args:
      key: the chain's key.
      corpus: a `Corpus`, or `Tokens` already on device.
      sparse_below, doc_rows: the storage layout (`to_tokens`, given K), for a `Corpus`.
      eval_every: compute log p(w, z) per token every this many iterations (and at the end).
      checkpoint_dir: save the sampler state (with its alpha, if optimised) here every
        `checkpoint_every` iterations and at the end; resume from its newest intact step if it
        holds one. The folder is locked while the
        chain runs and keeps the chain's identity (sampler, config, key, data fingerprint):
        resuming with other settings raises `CheckpointError` naming them; `iters` may grow.
        The resumed `trace` holds the whole trajectory, from iteration 0.

    With `cfg.optimize_alpha`, alpha is re-estimated (`optimize_alpha`) after every
    `cfg.optimize_alpha`-th iteration; the result's `state.alpha` holds it.

    Example:
      >>> corpus, truth = jaxhin.data.load_corpus("synthetic")
      >>> result = fit(jax.random.key(0), corpus, LdaConfig(num_topics=8), iters=50)
      >>> result.trace[-1]["loglik_per_token"], result.tokens_per_s
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"fit: sampler must be one of {sorted(SAMPLERS)}, got {sampler!r}")
    if iters < 0:
        raise ValueError(f"fit: iters must be >= 0, got {iters}")
    k = cfg.num_topics
    tokens = (corpus if isinstance(corpus, Tokens)
              else to_tokens(corpus, sparse_below, num_topics=k, doc_rows=doc_rows))
    lda_identity = dataclasses.asdict(cfg)
    if not cfg.optimize_alpha:  # folders written before this field still resume
        del lda_identity["optimize_alpha"]
    identity = {"system": "lda", "sampler": sampler, "lda": lda_identity,
                "sparse_below": tokens.sparse_below,
                "key": np.asarray(jax.random.key_data(key)).tolist(),
                "data": fingerprint(tokens.words, tokens.docs)}
    if tokens.doc_span:  # only where set, so folders written before this key still resume
        identity["doc_rows"] = "sparse"
    init_key, key = jax.random.split(key)
    # Compiled from shapes before the state exists: at large K the compiler's few hundred MB
    # and the state's rows would otherwise be resident at once (the process's peak).
    sweep = SAMPLERS[sampler]
    t0 = time.perf_counter()
    shapes = jax.eval_shape(lambda: init_state(init_key, tokens, k, cfg))
    compiled = sweep.lower(key, shapes, tokens, cfg).compile()
    compile_s = time.perf_counter() - t0
    release_freed_memory()
    state = init_state(init_key, tokens, k, cfg)
    with contextlib.ExitStack() as stack:
        run = (stack.enter_context(run_folder(checkpoint_dir, identity))
               if checkpoint_dir is not None else None)
        start, trace, wall0 = 0, [], 0.0
        restored = run.restore_latest(_state_tree(state)) if run is not None else None
        if restored is not None:
            start, tree = restored
            if start > iters:
                raise CheckpointError(f"{run.path}: the chain is at iteration {start}, past the "
                                      f"{iters} asked for; ask for {start} or more to go on")
            state = dataclasses.replace(state, **{n: jnp.asarray(v) for n, v in tree.items()})
            log = run.read_log()
            trace = [p for p in log.get("trace", []) if p["iter"] <= start]
            wall0 = log.get("wall_s", {}).get(str(start), trace[-1]["wall_s"] if trace else 0.0)
        if not start:
            trace = [{"iter": 0, "wall_s": 0.0,
                      "loglik_per_token": float(log_joint_per_token(state, tokens, cfg))}]
        sample_s, saved_wall = 0.0, {}
        bar = progress(range(start, iters), desc=f"{sampler} K={k}", enabled=show_progress)
        for it in bar:
            t = time.perf_counter()
            state = compiled(jax.random.fold_in(key, it), state, tokens)
            jax.block_until_ready(state.z)
            done = it + 1
            if cfg.optimize_alpha and done % cfg.optimize_alpha == 0:
                state = dataclasses.replace(state, alpha=optimize_alpha(state, tokens, state.alpha))
                jax.block_until_ready(state.alpha)
            sample_s += time.perf_counter() - t  # training time: alpha's estimation included
            if done % max(eval_every, 1) == 0 or done == iters:
                ll = float(log_joint_per_token(state, tokens, cfg))
                trace.append({"iter": done, "wall_s": wall0 + sample_s, "loglik_per_token": ll})
                bar.set_postfix(ll=f"{ll:.4f}")
            if run is not None and (
                    (checkpoint_every and done % checkpoint_every == 0) or done == iters):
                # The log first: it then covers every step that restores.
                saved_wall = {**saved_wall, str(done): wall0 + sample_s}
                run.write_log({"trace": trace, "wall_s": saved_wall})
                save_checkpoint(run.path, done, _state_tree(state), max_to_keep=2)
    return FitResult(state, tokens, trace, sample_s, compile_s, start, iters)


def best_match_cosine(phi: np.ndarray, truth: np.ndarray) -> float:
    """Mean over learned topics of the cosine to the closest planted topic."""
    a = phi / np.linalg.norm(phi, axis=1, keepdims=True)
    b = truth / np.linalg.norm(truth, axis=1, keepdims=True)
    return float((a @ b.T).max(1).mean())
