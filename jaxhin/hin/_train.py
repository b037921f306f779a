"""Training under the HGB protocol: early stopping on validation loss, test scored once at the end.

`train_and_evaluate(data, config, seed)` is what the CLI and the tests call; `run_seeds` repeats
it over seeds and reports mean and population std, as HGB does.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxhin.data._hgb import HgbData
from jaxhin.hin._disparity import disparity, f1_by_quintile
from jaxhin.hin._graph import from_hgb, node_features
from jaxhin.hin._models import MODELS
from jaxhin.hin._protocol import score_test_set, split_train_val
from jaxhin.train import mean_std, progress


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one HIN training run (HGB's GAT defaults).

    Attributes:
      model: a key of `jaxhin.hin.MODELS`.
      hidden, heads, layers, dropout: model sizes.
      learning_rate, weight_decay: AdamW.
      epochs: at most this many; patience: stop after this many epochs without a better
        validation loss (the best epoch's parameters are kept).
      feats_type: HGB's feature option (0-5).
    """

    model: str = "gat"
    hidden: int = 64
    heads: int = 8
    layers: int = 2
    dropout: float = 0.5
    learning_rate: float = 5e-4
    weight_decay: float = 1e-4
    epochs: int = 300
    patience: int = 30
    feats_type: int = 0


@dataclasses.dataclass(frozen=True)
class SeedResult:
    """One seed's outcome; `test_logits` are for `data.test_ids`."""

    seed: int
    macro_f1: float
    micro_f1: float
    best_epoch: int
    epochs_run: int
    best_val_loss: float
    epoch_s: float
    test_logits: np.ndarray = dataclasses.field(repr=False)


def _build(data: HgbData, config: TrainConfig):
    if config.model not in MODELS:
        raise ValueError(f"unknown model {config.model!r}; expected one of {sorted(MODELS)}")
    specs, features = node_features(data, config.feats_type)
    kwargs = {"hidden": config.hidden, "layers": config.layers,
              "num_classes": data.num_classes, "dropout": config.dropout}
    if config.model == "gat":
        kwargs["heads"] = config.heads
    return MODELS[config.model](specs, **kwargs), from_hgb(data), features


def _loss(logits, labels, multi_label: bool):
    if multi_label:
        return optax.sigmoid_binary_cross_entropy(logits, labels.astype(logits.dtype)).mean()
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def train_and_evaluate(data: HgbData, config: TrainConfig, seed: int, *,
                       show_progress: bool = True) -> SeedResult:
    """Train on the seed's 80% of `label.dat`, early-stop on the other 20%, score the test set."""
    model, graph, features = _build(data, config)
    train_idx, val_idx = split_train_val(data, seed)
    ids = jnp.asarray(data.labelled_ids)
    labels = jnp.asarray(data.labelled)
    train_ids, train_labels = ids[train_idx], labels[train_idx]
    val_ids, val_labels = ids[val_idx], labels[val_idx]
    key = jax.random.key(seed)
    init_key, dropout_key = jax.random.split(key)
    params = model.init(init_key, graph, features, train=False)
    optimizer = optax.adamw(config.learning_rate, weight_decay=config.weight_decay)
    opt_state = optimizer.init(params)
    multi = data.multi_label

    @jax.jit
    def step(params, opt_state, graph, features, epoch):
        def loss_fn(p):
            logits = model.apply(p, graph, features, train=True,
                                 rngs={"dropout": jax.random.fold_in(dropout_key, epoch)})
            return _loss(logits[train_ids], train_labels, multi)

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    @jax.jit
    def evaluate(params, graph, features):
        logits = model.apply(params, graph, features, train=False)
        return _loss(logits[val_ids], val_labels, multi), logits

    best = (np.inf, params, -1)
    times = []
    bar = progress(range(config.epochs), desc=f"{config.model} seed {seed}",
                   enabled=show_progress)
    epoch = 0
    for epoch in bar:
        start = time.perf_counter()
        params, opt_state, _ = step(params, opt_state, graph, features, epoch)
        jax.block_until_ready(params)
        times.append(time.perf_counter() - start)
        val_loss = float(evaluate(params, graph, features)[0])
        if val_loss < best[0]:
            best = (val_loss, params, epoch)
        bar.set_postfix(val_loss=f"{val_loss:.4f}", refresh=False)
        if epoch - best[2] >= config.patience:
            break
    _, logits = evaluate(best[1], graph, features)
    test_logits = np.asarray(logits)[data.test_ids]
    scores = score_test_set(data, test_logits)  # the only use of the test labels
    return SeedResult(seed, scores["macro_f1"], scores["micro_f1"], best[2], epoch + 1,
                      best[0], statistics.median(times[1:] or times), test_logits)


def run_seeds(data: HgbData, config: TrainConfig, seeds, *, show_progress: bool = True,
              disparity_hops: int = 2) -> tuple[dict, list[SeedResult]]:
    """Train one model per seed; metrics as HGB reports them (percent, population std), plus
    F1 per attribute-disparity quintile of the test nodes (mean over seeds), when the target
    type has attributes."""
    results = [train_and_evaluate(data, config, s, show_progress=show_progress) for s in seeds]
    macro = mean_std([100 * r.macro_f1 for r in results])
    micro = mean_std([100 * r.micro_f1 for r in results])
    metrics = {
        "macro_f1_mean": macro[0], "macro_f1_std": macro[1],
        "micro_f1_mean": micro[0], "micro_f1_std": micro[1],
        "per_seed": [{k: v for k, v in dataclasses.asdict(r).items() if k != "test_logits"}
                     for r in results],
        "epoch_s": statistics.median(r.epoch_s for r in results),
    }
    if data.features[data.target_type] is not None:
        test_disparity = disparity(data, data.test_ids, disparity_hops)
        per_seed = [f1_by_quintile(data, r.test_logits, test_disparity) for r in results]
        metrics["disparity_quintiles"] = [
            {**rows[0], "macro_f1": statistics.mean(r["macro_f1"] for r in rows),
             "micro_f1": statistics.mean(r["micro_f1"] for r in rows)}
            for rows in zip(*per_seed, strict=True)]
    return metrics, results
