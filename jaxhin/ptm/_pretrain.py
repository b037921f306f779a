"""Pre-training: CLM, MLM or ELECTRA's RTD on a token stream, with nanoGPT's recipe as the
default.

One step draws `batch` random windows of `seq + 1` tokens from the training split (CLM: inputs
and next tokens; MLM: BERT's corruption of the first `seq`; RTD: the generator's MLM input and
the discriminator's input of the first `seq`, `jaxhin.ptm._objectives`), averages gradients over
`accumulate` such micro-batches, clips their global norm and takes an AdamW step (weight decay
on matrices only) with linear warm-up and cosine decay. The windows and dropout of step `s`
come from `fold_in(key, s)`, so a run restored from a checkpoint at step `s` continues with the
same batches and reproduces the uninterrupted loss curve exactly. Validation loss is the mean
over `eval_batches` fixed windows of the held-out tail (nanoGPT's `estimate_loss`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxhin.ptm._backbone import Transformer, TransformerConfig
from jaxhin.ptm._objectives import (
    DetectionHead,
    clm_loss,
    detection_loss,
    mlm_inputs,
    replace_tokens,
)
from jaxhin.ptm._parallel import backbone_sbp, window_sharding
from jaxhin.train import check_at_least

OBJECTIVES = ("clm", "mlm", "rtd")
# RTD's generator shares the discriminator's embedding tables (ELECTRA shares the token and
# position embeddings): its parameters are stored without them.
SHARED_EMBEDDINGS = ("wte", "wpe", "wtt")


@dataclasses.dataclass(frozen=True)
class PretrainConfig:
    """The optimisation recipe (defaults: nanoGPT's shakespeare_char CPU run).

    Attributes:
      objective: "clm", "mlm" or "rtd" (ELECTRA's replaced-token detection).
      steps: optimizer steps; batch: sequences per micro-batch; seq: tokens per sequence.
      accumulate: micro-batches per step (gradient accumulation).
      learning_rate, min_lr, warmup: peak rate, cosine floor, linear warm-up steps.
      weight_decay, beta2, clip: AdamW's decay (matrices only), second-moment decay, global
        gradient-norm clip.
      val_share: tail of the token stream held out for validation.
      eval_every, eval_batches: validation cadence and windows per validation.
      checkpoint_every: steps between checkpoints (with a checkpoint folder).
      mask_rate: MLM's (and RTD's generator's) share of chosen positions.
      generator_layers: RTD's generator: the backbone's layout and width with this many
        layers (ELECTRA shrinks the width to a quarter to a half; one width lets the two share
        the embedding tables without a projection).
      rtd_weight: RTD's weight of the detection loss against the generator's MLM loss.
    """

    objective: str = "clm"
    steps: int = 2000
    batch: int = 12
    seq: int = 64
    accumulate: int = 1
    learning_rate: float = 1e-3
    min_lr: float = 1e-4
    warmup: int = 100
    weight_decay: float = 0.1
    beta2: float = 0.99
    clip: float = 1.0
    val_share: float = 0.1
    eval_every: int = 250
    eval_batches: int = 20
    checkpoint_every: int = 500
    mask_rate: float = 0.15
    generator_layers: int = 1
    rtd_weight: float = 50.0

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be clm, mlm or rtd, got {self.objective!r}")
        check_at_least(self, 1, "steps", "batch", "seq", "accumulate", "eval_every",
                       "eval_batches", "checkpoint_every", "generator_layers")
        if self.rtd_weight <= 0:
            raise ValueError(f"rtd_weight must be > 0, got {self.rtd_weight}")
        if not 0 < self.val_share < 1:
            raise ValueError(f"val_share must be in (0, 1), got {self.val_share}")
        if not 0 <= self.warmup < self.steps:
            raise ValueError(f"warmup must be in [0, steps), got {self.warmup}")


def optimizer(cfg: PretrainConfig) -> optax.GradientTransformation:
    """Clip, then AdamW with warm-up and cosine decay; decay only on matrices and embeddings."""
    schedule = optax.warmup_cosine_decay_schedule(0.0, cfg.learning_rate, cfg.warmup,
                                                  cfg.steps, cfg.min_lr)
    def decay_mask(params):
        # Matrices and embeddings decay; LayerNorm scales and biases do not (nanoGPT's rule).
        # By name, not by rank: under nn.scan a LayerNorm scale is (layers, D).
        return jax.tree_util.tree_map_with_path(
            lambda path, _: getattr(path[-1], "key", None) in ("kernel", "embedding", "wpe"),
            params)

    return optax.chain(optax.clip_by_global_norm(cfg.clip),
                       optax.adamw(schedule, b1=0.9, b2=cfg.beta2,
                                   weight_decay=cfg.weight_decay, mask=decay_mask))


def split_tokens(tokens: np.ndarray, val_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Head for training, tail for validation (nanoGPT's 90/10)."""
    n = int(len(tokens) * (1 - val_share))
    return tokens[:n], tokens[n:]


def _windows(key, tokens, count, length):
    starts = jax.random.randint(key, (count,), 0, tokens.shape[0] - length)
    return jax.vmap(lambda s: jax.lax.dynamic_slice(tokens, (s,), (length,)))(starts)


def generator_config(model_cfg: TransformerConfig, cfg: PretrainConfig) -> TransformerConfig:
    """RTD's generator: the discriminator's layout with `cfg.generator_layers` layers."""
    return dataclasses.replace(model_cfg, layers=cfg.generator_layers, causal=False)


def init_params(key: jax.Array, model_cfg: TransformerConfig, cfg: PretrainConfig) -> dict:
    """The trained variables: `{"params": backbone}`; for RTD also `"generator"` (without the
    shared embeddings) and `"rtd_head"` (`DetectionHead`). The backbone's draw is the same
    for every objective."""
    ids = jnp.zeros((1, cfg.seq), jnp.int32)
    params = {"params": Transformer(model_cfg).init(key, ids)["params"]}
    if cfg.objective == "rtd":
        gen = Transformer(generator_config(model_cfg, cfg)).init(jax.random.fold_in(key, 1),
                                                                 ids)["params"]
        params["generator"] = {k: v for k, v in gen.items() if k not in SHARED_EMBEDDINGS}
        params["rtd_head"] = DetectionHead(model_cfg.width).init(
            jax.random.fold_in(key, 2), jnp.zeros((1, 1, model_cfg.width)))["params"]
    return params


def loss_fn(params, model: Transformer, cfg: PretrainConfig, key, window, *, train: bool,
            mask_id: int = 0, with_parts: bool = False):
    """Loss of one micro-batch of windows (B, seq + 1). With `with_parts`, `(loss, parts)`:
    for RTD its parts, the generator's MLM loss and the detection loss, with the detection
    loss of always answering the replaced share (`detection_base`: a detector that learned
    nothing from the context scores this), the replaced share, the detection accuracy and
    the share of replaced tokens caught; for CLM and MLM no parts."""
    k_mask, k_drop = jax.random.split(key)
    if cfg.objective == "clm":
        logits = model.apply(params, window[:, :-1], train=train, rngs={"dropout": k_drop})
        loss = clm_loss(logits, window[:, 1:])
        return (loss, {}) if with_parts else loss
    ids = window[:, :-1]
    rtd = cfg.objective == "rtd"
    inputs, positions, targets = mlm_inputs(k_mask, ids, mask_id=mask_id,
                                            vocab_size=model.config.vocab_size,
                                            rate=cfg.mask_rate, mask_share=1.0 if rtd else 0.8,
                                            random_share=0.0 if rtd else 0.1)
    if not rtd:
        logits = model.apply(params, inputs, train=train, positions=positions,
                             rngs={"dropout": k_drop})
        loss = clm_loss(logits, targets)
        return (loss, {}) if with_parts else loss
    backbone = params["params"]
    shared = {k: backbone[k] for k in SHARED_EMBEDDINGS if k in backbone}
    k_gen, k_sample, k_disc = jax.random.split(k_drop, 3)
    generator = Transformer(generator_config(model.config, cfg))
    gen_logits = generator.apply({"params": params["generator"] | shared}, inputs,
                                 train=train, positions=positions, rngs={"dropout": k_gen})
    replaced_ids, replaced = replace_tokens(k_sample, ids, positions, gen_logits)
    h = model.apply({"params": backbone}, replaced_ids, train=train, hidden=True,
                    rngs={"dropout": k_disc})
    logits = DetectionHead(model.config.width).apply({"params": params["rtd_head"]}, h)
    gen_loss, det_loss = clm_loss(gen_logits, targets), detection_loss(logits, replaced)
    loss = gen_loss + cfg.rtd_weight * det_loss
    if not with_parts:
        return loss
    share = replaced.mean()
    said = logits > 0
    return loss, {"generator_loss": gen_loss, "detection_loss": det_loss,
                  "detection_base": -jax.scipy.special.xlogy(share, share)
                  - jax.scipy.special.xlogy(1 - share, 1 - share),
                  "replaced_share": share, "detection_accuracy": (said == replaced).mean(),
                  "replaced_caught": (said & replaced).sum() / jnp.maximum(replaced.sum(), 1)}


@functools.partial(jax.jit, static_argnames=("model_cfg", "cfg", "mask_id", "mesh"))
def _train_step(params, opt_state, s, k_data, train_arr, *, model_cfg, cfg, mask_id,
                mesh=None):
    """One optimizer step (module level and keyed by the frozen configs, so a second run with
    the same settings reuses the compiled step). With a mesh, the windows are split over
    "data"; the parameters arrive placed (`backbone_shardings`) and `jit` partitions the rest."""
    model = Transformer(model_cfg)
    k = jax.random.fold_in(k_data, s)
    windows = _windows(k, train_arr, cfg.accumulate * cfg.batch, cfg.seq + 1)
    windows = windows.reshape(cfg.accumulate, cfg.batch, cfg.seq + 1)
    if mesh is not None:
        windows = jax.lax.with_sharding_constraint(windows, window_sharding(mesh, 3))

    def micro(carry, xs):
        i, w = xs
        value, grads = jax.value_and_grad(loss_fn)(params, model, cfg, jax.random.fold_in(k, i),
                                                    w, train=True, mask_id=mask_id)
        return jax.tree.map(jnp.add, carry, (value, grads)), None

    zeros = (jnp.zeros(()), jax.tree.map(jnp.zeros_like, params))
    (value, grads), _ = jax.lax.scan(micro, zeros, (jnp.arange(cfg.accumulate), windows))
    value, grads = jax.tree.map(lambda x: x / cfg.accumulate, (value, grads))
    updates, opt_state = optimizer(cfg).update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, value


@functools.partial(jax.jit, static_argnames=("model_cfg", "cfg", "mask_id"))
def _evaluate(params, k_eval, val_arr, *, model_cfg, cfg, mask_id):
    """Mean loss (and mean parts, `loss_fn`) over `eval_batches` fixed validation windows."""
    model = Transformer(model_cfg)

    def one(i):
        w = _windows(jax.random.fold_in(k_eval, i), val_arr, cfg.batch, cfg.seq + 1)
        return loss_fn(params, model, cfg, jax.random.fold_in(k_eval, 10_000 + i), w,
                       train=False, mask_id=mask_id, with_parts=True)

    return jax.tree.map(jnp.mean, jax.lax.map(one, jnp.arange(cfg.eval_batches)))


@dataclasses.dataclass
class PretrainResult:
    """A pre-trained model: parameters, per-step training loss, validation points, speed."""

    params: dict
    model: TransformerConfig
    losses: list[float]
    evals: list[dict]
    tokens_per_s: float
    train_s: float
    resumed_from: int = 0


def pretrain(key: jax.Array, tokens: np.ndarray, model_cfg: TransformerConfig,
             cfg: PretrainConfig = PretrainConfig(), *, mask_id: int = 0,
             checkpoint_dir: str | Path | None = None, identity: dict | None = None,
             log: Callable[[str], None] = lambda s: None,
             show_progress: bool = True, mesh=None, placements=None) -> PretrainResult:
    """Pre-train a `Transformer(model_cfg)` on the token stream `tokens` (int array).

    With `checkpoint_dir`, state is saved every `checkpoint_every` steps and at the end, and a
    run restarted with the same settings (`identity`) resumes from the newest step. With
    `mesh` (a ("data", "model") mesh from `jaxhin.sbp.make_mesh`), the parameters and the
    optimizer state are placed as Megatron-LM places them (`backbone_sbp`) and each batch is
    split over "data": the same steps as on one device, to float rounding. `placements`, a
    function `(path, shape, mesh) -> NdSbp`, replaces Megatron's (`planner_sbp` gives the
    planner's). Every process of a
    multi-process run calls it alike (`jax.distributed`); the arrays are built from each
    process's own shards.
    """
    from jaxhin.train import fingerprint, progress, run_folder, save_checkpoint

    if model_cfg.max_len < cfg.seq:
        raise ValueError(f"seq {cfg.seq} is longer than the model's max_len {model_cfg.max_len}")
    train_tokens, val_tokens = split_tokens(np.asarray(tokens, np.int32), cfg.val_share)
    if len(val_tokens) <= cfg.seq + 1 or len(train_tokens) <= cfg.seq + 1:
        raise ValueError(f"{len(tokens)} tokens are too few for windows of {cfg.seq + 1} "
                         f"in both splits (val_share {cfg.val_share})")
    k_init, k_data, k_eval = jax.random.split(key, 3)
    params = init_params(k_init, model_cfg, cfg)
    opt = optimizer(cfg)
    if mesh is None:
        train_arr, val_arr = jnp.asarray(train_tokens), jnp.asarray(val_tokens)
        opt_state = opt.init(params)
    else:
        from jaxhin.sbp import B, put_from_host

        if cfg.batch % mesh.shape["data"]:
            raise ValueError(f"batch {cfg.batch} does not split over {mesh.shape['data']} "
                             f"data-parallel devices")
        place = placements or backbone_sbp
        train_arr = put_from_host(train_tokens, (B, B), mesh)
        val_arr = put_from_host(val_tokens, (B, B), mesh)

        def placed(tree):  # every leaf on the mesh: parameters and their Adam moments by path
            # (optax keeps the parameters' paths), the rest (the step count) replicated, so a
            # checkpoint restored onto this tree comes back placed alike
            return jax.tree_util.tree_map_with_path(
                lambda path, leaf: put_from_host(np.asarray(leaf),
                                                 place(path, np.shape(leaf), mesh), mesh), tree)

        params, opt_state = placed(params), placed(opt.init(params))

    def step(params, opt_state, s):
        return _train_step(params, opt_state, s, k_data, train_arr, model_cfg=model_cfg,
                           cfg=cfg, mask_id=mask_id, mesh=mesh)

    def evaluate(params):
        return _evaluate(params, k_eval, val_arr, model_cfg=model_cfg, cfg=cfg, mask_id=mask_id)

    losses: list[float] = []
    evals: list[dict] = []
    start = 0
    with contextlib.ExitStack() as stack:
        run = None
        if checkpoint_dir is not None:
            ident = {"model": dataclasses.asdict(model_cfg), "pretrain": dataclasses.asdict(cfg),
                     "data": fingerprint(np.asarray(tokens)), **(identity or {})}
            run = stack.enter_context(run_folder(checkpoint_dir, ident))
            restored = run.restore_latest({"params": params, "opt_state": opt_state})
            if restored is not None:
                start, tree = restored
                params, opt_state = tree["params"], tree["opt_state"]
                logged = run.read_log()
                losses = list(logged.get("losses", []))[:start]
                evals = [e for e in logged.get("evals", []) if e["step"] <= start]
                log(f"resumed from step {start}")

        def checkpoint(s):
            if run is not None:
                save_checkpoint(run.path, s, {"params": params, "opt_state": opt_state},
                                max_to_keep=2)
                run.write_log({"losses": losses, "evals": evals})

        began = None
        steps_timed = 0
        paused = 0.0
        bar = progress(range(start, cfg.steps), desc=f"pretrain {cfg.objective}",
                       enabled=show_progress, initial=start, total=cfg.steps)
        pending = []
        for s in bar:
            params, opt_state, value = step(params, opt_state, s)
            pending.append(value)
            if began is None:          # the first step compiles: time from the second
                jax.block_until_ready(value)
                began, steps_timed = time.perf_counter(), -1
            steps_timed += 1
            done = s + 1
            if (done % 10 == 0 or done == cfg.steps or done % cfg.eval_every == 0
                    or done % cfg.checkpoint_every == 0):
                losses.extend(float(v) for v in pending)
                pending = []
                rate = (steps_timed * cfg.accumulate * cfg.batch * cfg.seq
                        / max(time.perf_counter() - began - paused, 1e-9))
                bar.set_postfix(loss=f"{losses[-1]:.3f}", tok_s=f"{rate:,.0f}")
            if done % cfg.eval_every == 0 or done == cfg.steps:
                paused_at = time.perf_counter()
                val, parts = evaluate(params)
                val, parts = float(val), {k: float(v) for k, v in parts.items()}
                evals.append({"step": done, "train_loss": losses[-1], "val_loss": val, **parts})
                log(f"step {done}: train loss {losses[-1]:.4f}, val loss {val:.4f}" + (
                    f" (generator {parts['generator_loss']:.3f}, detection "
                    f"{parts['detection_loss']:.4f} against {parts['detection_base']:.4f} "
                    f"for the replaced share alone)" if parts else ""))
                paused += time.perf_counter() - paused_at
            if done % cfg.checkpoint_every == 0 or done == cfg.steps:
                paused_at = time.perf_counter()
                checkpoint(done)
                paused += time.perf_counter() - paused_at
        losses.extend(float(v) for v in pending)
        # Training time: from the end of the first (compiling) step, evaluation and
        # checkpoints excluded.
        train_s = time.perf_counter() - began - paused if began is not None else 0.0
    tokens_per_s = (max(steps_timed, 0) * cfg.accumulate * cfg.batch * cfg.seq
                    / max(train_s, 1e-9))
    return PretrainResult(params=params, model=model_cfg, losses=losses, evals=evals,
                          tokens_per_s=tokens_per_s, train_s=train_s, resumed_from=start)


def generate(key: jax.Array, params, model_cfg: TransformerConfig, prompt: np.ndarray,
             new_tokens: int, *, temperature: float = 1.0, top_k: int | None = None
             ) -> np.ndarray:
    """Sample `new_tokens` after `prompt` from a causal model.

    The context is a fixed buffer of `max_len` tokens (one compilation): the last `max_len`
    tokens, left-aligned, and the next token read at the last filled position (the causal
    mask hides the unfilled rest)."""
    if not model_cfg.causal:
        raise ValueError("generate needs a causal (CLM) model")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    model = Transformer(model_cfg)
    t = model_cfg.max_len

    @jax.jit
    def next_token(k, buf, n):
        logits = model.apply(params, buf[None])[0, n - 1] / temperature
        if top_k is not None:
            kth = jnp.sort(logits)[-top_k]
            logits = jnp.where(logits < kth, -jnp.inf, logits)
        return jax.random.categorical(k, logits)

    out = list(np.asarray(prompt, np.int64).tolist()) or [0]
    for i in range(new_tokens):
        ctx = out[-t:]
        buf = np.zeros(t, np.int32)
        buf[:len(ctx)] = ctx
        out.append(int(next_token(jax.random.fold_in(key, i), jnp.asarray(buf), len(ctx))))
    return np.asarray(out[len(prompt):], np.int32)
