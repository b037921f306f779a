"""Fine-tuning for sentence classification: the survey's transfer recipe.

    v = pool(Transformer(x))            (mean over real tokens, or the first token)
    p(y | x) = softmax(W dropout(v) + b)

`mode="full"` trains the backbone and the head together (BERT's recipe: AdamW, linear warm-up
over the first `warmup_share` of the steps then linear decay to zero, clipping, weight decay
on matrices); `mode="probe"` freezes the backbone, computes each sentence's pooled vector once
and trains only the linear head (a linear probe: how much of the task the features already
carry). Both select the epoch (probe: the step) with the best dev accuracy and report test
accuracy there: model selection never sees test labels.

The same function fine-tunes a published checkpoint (`load_minilm()`), a jaxhin pre-trained
model, or the same architecture from a random initialisation (`params=None`), so transfer is
measured with one recipe.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxhin.data import Split, TaskData
from jaxhin.ptm._backbone import Transformer, TransformerConfig
from jaxhin.ptm._pretrained import pad_id, pad_ids, pool, pooled_states, tokenize_texts
from jaxhin.ptm._probe import linear_probe
from jaxhin.train import check_at_least

MODES = ("full", "probe")


@dataclasses.dataclass(frozen=True)
class FinetuneConfig:
    """The fine-tuning recipe (defaults: BERT's, at a CPU-sized batch).

    Attributes:
      mode: "full" (backbone and head) or "probe" (linear head on frozen pooled features).
      epochs: passes over the training set (full; BERT suggests 2 to 4); batch: sentences
        per step.
      learning_rate: AdamW's peak rate (full) or Adam's rate for the probe.
      warmup_share: share of the steps with linear warm-up (full), then linear decay to 0.
      weight_decay: AdamW's decay on matrices (full) or the probe's L2 weight.
      clip: global gradient-norm clip (full).
      dropout: on the pooled vector, when training (full).
      max_len: tokens per sentence, [CLS]/[SEP] included (longer ones are truncated).
      pooling: "mean" over real tokens or "cls" (the first token).
      probe_steps: full-batch steps of the probe; dev accuracy is read every `probe_every`.
    """

    mode: str = "full"
    epochs: int = 2
    batch: int = 32
    learning_rate: float = 5e-5
    warmup_share: float = 0.1
    weight_decay: float = 0.01
    clip: float = 1.0
    dropout: float = 0.1
    max_len: int = 64
    pooling: str = "mean"
    probe_steps: int = 500
    probe_every: int = 10

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be full or probe, got {self.mode!r}")
        if self.pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be mean or cls, got {self.pooling!r}")
        check_at_least(self, 1, "epochs", "batch", "probe_steps", "probe_every")
        check_at_least(self, 2, "max_len")
        if not 0 <= self.warmup_share < 1 or not 0 <= self.dropout < 1:
            raise ValueError(f"warmup_share and dropout must be in [0, 1), got "
                             f"{self.warmup_share} and {self.dropout}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")


class Classifier(nn.Module):
    """A backbone (`Transformer(config)`, parameters under "backbone") and a linear head."""

    config: TransformerConfig
    classes: int
    pooling: str = "mean"
    dropout: float = 0.1

    @nn.compact
    def __call__(self, ids, mask, *, train: bool = False):
        h = Transformer(self.config, name="backbone")(ids, mask=mask, hidden=True, train=train)
        v = nn.Dropout(self.dropout, deterministic=not train)(pool(h, mask, self.pooling))
        return nn.Dense(self.classes, name="head")(v)


@dataclasses.dataclass
class FinetuneResult:
    """A fine-tuned classifier's parameters (the best-dev epoch's) and its record."""

    params: dict
    dev_acc: list[float]          # per epoch (full) or per probe evaluation
    best: int                     # epoch (1-based) or probe step of the best dev accuracy
    best_dev_acc: float
    test_acc: float
    train_s: float


@dataclasses.dataclass(frozen=True)
class _Encoded:
    """A split tokenized once: id lists, their lengths, labels."""

    seqs: list
    lengths: np.ndarray
    labels: np.ndarray
    pad: int


def _encode(split: Split, tokenizer, cfg: FinetuneConfig) -> _Encoded:
    seqs = tokenize_texts(tokenizer, split.texts, cfg.max_len)
    return _Encoded(seqs, np.asarray([len(s) for s in seqs]), split.labels, pad_id(tokenizer))


def _batches(data: _Encoded, batch: int, order: np.ndarray, *, full: bool = False):
    """Padded batches in `order`; with `full`, every batch has `batch` rows (the last one
    padded with empty rows: one compiled shape per length bucket when evaluating)."""
    for i in range(0, len(order), batch):
        idx = order[i:i + batch]
        ids, mask = pad_ids([data.seqs[j] for j in idx], data.pad, rows=batch if full else None)
        yield ids, mask, data.labels[idx]


def _bucketed(key, data: _Encoded, batch: int) -> np.ndarray:
    """A random order whose consecutive `batch`-sized groups have similar lengths: shuffle,
    sort each pool of 50 batches by length, then shuffle the batches (less padding, about
    half the compute on SST-2, the batches still random)."""
    k_perm, k_batches = jax.random.split(key)
    order = np.array(jax.random.permutation(k_perm, len(data.seqs)))
    pool_size = 50 * batch
    for i in range(0, len(order), pool_size):
        chunk = order[i:i + pool_size]
        order[i:i + pool_size] = chunk[np.argsort(data.lengths[chunk], kind="stable")]
    groups = [order[i:i + batch] for i in range(0, len(order), batch)]
    pick = np.asarray(jax.random.permutation(k_batches, len(groups)))
    return np.concatenate([groups[g] for g in pick])


def _accuracy(predict, params, data: _Encoded) -> float:
    order = np.argsort(data.lengths, kind="stable")     # similar lengths: little padding
    hits = 0
    for ids, mask, labels in _batches(data, 128, order, full=True):
        hits += int((np.asarray(predict(params, ids, mask))[:len(labels)] == labels).sum())
    return hits / max(len(data.seqs), 1)


@dataclasses.dataclass(frozen=True)
class _Spec:
    """A `Classifier`'s fields, hashable: the static key of the compiled steps below, so
    seeds and calls with the same model reuse one compilation."""

    config: TransformerConfig
    classes: int
    pooling: str
    dropout: float

    def model(self) -> Classifier:
        return Classifier(self.config, self.classes, self.pooling, self.dropout)


def _optimizer(cfg: FinetuneConfig, total: int) -> optax.GradientTransformation:
    """Clip, then AdamW with linear warm-up and linear decay to 0 (BERT's schedule); weight
    decay on matrices and embedding tables only."""
    warm = int(cfg.warmup_share * total)
    schedule = optax.join_schedules(
        [optax.linear_schedule(0.0, cfg.learning_rate, max(warm, 1)),
         optax.linear_schedule(cfg.learning_rate, 0.0, max(total - warm, 1))], [warm])

    def decay(params):
        return jax.tree_util.tree_map_with_path(
            lambda path, _: getattr(path[-1], "key", None) in ("kernel", "embedding", "wpe",
                                                                "wtt"), params)

    return optax.chain(optax.clip_by_global_norm(cfg.clip),
                       optax.adamw(schedule, weight_decay=cfg.weight_decay, mask=decay))


@functools.partial(jax.jit, static_argnames=("spec", "cfg", "total"))
def _train_step(params, opt_state, k, ids, mask, labels, *, spec: _Spec, cfg: FinetuneConfig,
                total: int):
    model = spec.model()

    def loss_fn(p):
        logits = model.apply(p, ids, mask, train=True, rngs={"dropout": k})
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = _optimizer(cfg, total).update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


@functools.partial(jax.jit, static_argnames=("spec",))
def _predict(params, ids, mask, *, spec: _Spec):
    return jnp.argmax(spec.model().apply(params, ids, mask), -1)


def _full(key, task: TaskData, model: Classifier, params, tokenizer, cfg: FinetuneConfig,
          show_progress: bool, log: Callable[[str], None]) -> FinetuneResult:
    from jaxhin.train import progress

    n = len(task.train)
    steps_per_epoch = -(-n // cfg.batch)
    total = steps_per_epoch * cfg.epochs
    opt_state = _optimizer(cfg, total).init(params)
    spec = _Spec(model.config, model.classes, model.pooling, model.dropout)

    def step(params, opt_state, k, ids, mask, labels):
        return _train_step(params, opt_state, k, ids, mask, labels, spec=spec, cfg=cfg,
                           total=total)

    def predict(params, ids, mask):
        return _predict(params, ids, mask, spec=spec)

    k_order, k_drop = jax.random.split(key)
    train, dev = _encode(task.train, tokenizer, cfg), _encode(task.dev, tokenizer, cfg)
    dev_acc: list[float] = []
    best, best_params = 0, params
    train_s = 0.0
    bar = progress(total=total, desc=f"fine-tune {task.name}", enabled=show_progress)
    for epoch in range(cfg.epochs):
        order = _bucketed(jax.random.fold_in(k_order, epoch), train, cfg.batch)
        began = time.perf_counter()
        for b, (ids, mask, labels) in enumerate(_batches(train, cfg.batch, order)):
            s = epoch * steps_per_epoch + b
            params, opt_state, loss = step(params, opt_state, jax.random.fold_in(k_drop, s),
                                           ids, mask, labels)
            bar.update(1)
            if b % 20 == 0:
                bar.set_postfix(loss=f"{float(loss):.3f}")
        jax.block_until_ready(params)
        train_s += time.perf_counter() - began
        dev_acc.append(_accuracy(predict, params, dev))
        log(f"epoch {epoch + 1}: dev accuracy {dev_acc[-1]:.4f}")
        if dev_acc[-1] > max(dev_acc[:-1], default=-1.0):
            best, best_params = epoch + 1, params
    bar.close()
    test = _accuracy(predict, best_params, _encode(task.test, tokenizer, cfg))
    return FinetuneResult(best_params, dev_acc, best, max(dev_acc), test, train_s)


def features(model: Classifier, params, split: Split, tokenizer, cfg: FinetuneConfig
             ) -> np.ndarray:
    """The frozen backbone's pooled vectors (N, D) of a split's sentences."""
    sub = {"params": params["params"]["backbone"]}
    data = _encode(split, tokenizer, cfg)
    order = np.argsort(data.lengths, kind="stable")
    out = np.zeros((len(split), model.config.width), np.float32)
    for i, (ids, mask, labels) in enumerate(_batches(data, 128, order, full=True)):
        vectors = pooled_states(sub, ids, mask, config=model.config, pooling=model.pooling)
        out[order[i * 128:(i + 1) * 128]] = np.asarray(vectors)[:len(labels)]
    return out


def _probe(task: TaskData, model: Classifier, params, tokenizer, cfg: FinetuneConfig,
           log: Callable[[str], None]) -> FinetuneResult:
    began = time.perf_counter()
    parts = ("train", "dev", "test")
    x = {p: features(model, params, getattr(task, p), tokenizer, cfg) for p in parts}
    y = {p: getattr(task, p).labels for p in parts}
    probe = linear_probe(x, y, task.num_classes, learning_rate=cfg.learning_rate,
                         weight_decay=cfg.weight_decay, steps=cfg.probe_steps,
                         every=cfg.probe_every)
    log(f"probe: best dev accuracy {probe.dev_acc:.4f} at step {probe.best_step}")
    # The head was trained on standardised features: fold the scaling into it, so the
    # returned parameters classify raw pooled vectors like the full model's.
    kernel = probe.kernel / probe.scale[:, None]
    bias = probe.bias - probe.mean @ kernel
    out = {"params": {**params["params"], "head": {"kernel": jnp.asarray(kernel),
                                                   "bias": jnp.asarray(bias)}}}
    return FinetuneResult(out, list(probe.dev_curve), probe.best_step, probe.dev_acc,
                          probe.test_acc, time.perf_counter() - began)


def finetune(key: jax.Array, task: TaskData, backbone: TransformerConfig, tokenizer,
             cfg: FinetuneConfig = FinetuneConfig(), *, params: dict | None = None,
             show_progress: bool = True, log: Callable[[str], None] = lambda s: None
             ) -> FinetuneResult:
    """Fine-tune (or probe) a classifier on `task`.

    Args:
      key: initialisation (the head, and the backbone when `params` is None), batch order and
        dropout.
      backbone: the backbone's config; `tokenizer` its tokenizer (a Hugging Face `Tokenizer`
        or a jaxhin one).
      params: the backbone's pre-trained parameters (`{"params": ...}`), or None to start
        from a random initialisation of the same architecture.
    """
    if cfg.max_len > backbone.max_len:
        raise ValueError(f"max_len {cfg.max_len} is longer than the backbone's "
                         f"{backbone.max_len} positions")
    # Dropout inside the backbone is the checkpoint's own (BERT: 0.1); the head's is cfg's.
    model = Classifier(backbone, task.num_classes, cfg.pooling, cfg.dropout)
    k_init, k_train = jax.random.split(key)
    init = model.init(k_init, jnp.zeros((1, 2), jnp.int32), jnp.ones((1, 2), bool))
    full = {"params": dict(init["params"])}
    if params is not None:
        want = jax.tree.map(jnp.shape, full["params"]["backbone"])
        got = jax.tree.map(jnp.shape, params["params"])
        if want != got:
            raise ValueError("pre-trained parameters do not fit the backbone config")
        full["params"]["backbone"] = params["params"]
    if cfg.mode == "probe":
        return _probe(task, model, full, tokenizer, cfg, log)
    return _full(k_train, task, model, full, tokenizer, cfg, show_progress, log)
