"""Training under the HGB protocol: early stopping on validation loss, test scored once at the end.

`train_and_evaluate(data, config, seed)` is what the CLI and the tests call; `run_seeds` repeats
it over seeds and reports mean and population std, as HGB does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import statistics
import time
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxhin.data import HgbData, atomic_write
from jaxhin.hin._config import TrainConfig, flat_settings, make_module, module_class
from jaxhin.hin._context import HinContext, build_context
from jaxhin.hin._disparity import disparity, f1_by_quintile
from jaxhin.hin._graph import HeteroGraph, from_hgb, node_features
from jaxhin.hin._protocol import predictions, score_test_set, split_train_val
from jaxhin.train import f1_scores, fingerprint, mean_std, progress, run_folder


@dataclasses.dataclass(frozen=True)
class SeedResult:
    """One seed's outcome; `test_logits` are for `data.test_ids`."""

    seed: int
    macro_f1: float
    micro_f1: float
    best_epoch: int
    epochs_run: int
    best_val_loss: float
    val_macro_f1: float
    val_micro_f1: float
    epoch_s: float
    test_logits: np.ndarray = dataclasses.field(repr=False)


def build_model(data: HgbData, config: TrainConfig, *, module: type[nn.Module] | None = None
                ) -> tuple[nn.Module, HeteroGraph, tuple]:
    """The Flax module of `config.model` (an instance of `module` if given, e.g. a subclass
    of it), the typed graph it runs on and its input features.

    Example:
      >>> model, graph, features = build_model(load_graph("ACM"), recipe("gat", "ACM"))
    """
    cls = module or module_class(config.model)
    graph = from_hgb(data, self_loops=cls.self_loops)
    specs, features = node_features(data, config.feats_type)
    model = make_module(config.model, specs, data.num_classes, graph, data.target_type, cls=cls)
    return model, graph, features


def _loss(logits, labels, multi_label: bool):
    if multi_label:
        return optax.sigmoid_binary_cross_entropy(logits, labels.astype(logits.dtype)).mean()
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


# The jitted functions below take the model (hashable, equal for equal configs) as a static
# argument and the seed's arrays as arguments, so the seeds of a run share one compilation
# each (on DBLP/ACM 5-9 s for the step alone, which a closure per seed would repeat).
@functools.cache
def _optimizer(weight_decay: float, decoupled: bool) -> optax.GradientTransformation:
    if decoupled:  # the step scales these by -lr: decay is lr * wd * p, as AdamW
        return optax.chain(optax.scale_by_adam(), optax.add_decayed_weights(weight_decay))
    # PyTorch's Adam(weight_decay=...): the L2 term joins the gradient
    return optax.chain(optax.add_decayed_weights(weight_decay), optax.scale_by_adam())


@functools.partial(jax.jit, static_argnums=(0, 1, 2), donate_argnums=(3, 4))
def _train_step(model, optimizer, multi_label, params, opt_state, graph, features, context,
                epoch, lr, train_ids, train_labels, dropout_key):
    def loss_fn(p):
        logits = model.apply(p, graph, features, context, train_ids, train=True,
                             rngs={"dropout": jax.random.fold_in(dropout_key, epoch)})
        return _loss(logits, train_labels, multi_label)

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    updates = jax.tree.map(lambda u: -lr * u, updates)
    return optax.apply_updates(params, updates), opt_state, loss


@functools.partial(jax.jit, static_argnums=0)
def _init(model, key, graph, features, context, nodes):
    # jitted, XLA drops the forward pass that init runs only to create the parameters: on
    # DBLP/ACM ~5 s less per seed than running it op by op (values equal to within 1 ulp)
    return model.init(key, graph, features, context, nodes, train=False)


@functools.partial(jax.jit, static_argnums=0)
def logits(model, params, graph, features, context, nodes):
    """(len(nodes), C) logits of `nodes` in evaluation mode (jitted; `model` is static)."""
    return model.apply(params, graph, features, context, nodes, train=False)


def make_train_step(model: nn.Module, config: TrainConfig, train_ids, train_labels,
                    multi_label: bool, dropout_key: jax.Array):
    """`(optimizer, step)`: Adam with L2 weight decay added to the gradient (PyTorch's
    `Adam(weight_decay=...)`, as HGB's code trains; AdamW if `decoupled_wd`) and the jitted
    training step
    `step(params, opt_state, graph, features, context, epoch, lr) -> (params, opt_state, loss)`
    (donates params and optimizer state; steps of equal models and shapes share a compile)."""
    optimizer = _optimizer(config.weight_decay, config.decoupled_wd)

    def step(params, opt_state, graph, features, context, epoch, lr):
        return _train_step(model, optimizer, multi_label, params, opt_state, graph, features,
                           context, epoch, lr, train_ids, train_labels, dropout_key)

    return optimizer, step


@dataclasses.dataclass(frozen=True)
class SeedSetup:
    """What one seed's training starts from (`setup_seed`)."""

    model: nn.Module
    graph: HeteroGraph
    features: tuple
    context: HinContext
    params: dict
    opt_state: object
    step: Callable  # make_train_step's step
    val_ids: jax.Array
    val_labels: jax.Array
    seed: int


def setup_seed(data: HgbData, config: TrainConfig, seed: int, *,
               module: type[nn.Module] | None = None,
               reuse: HinContext | None = None) -> SeedSetup:
    """The model, its inputs, initial parameters, optimizer state and training step of one
    seed: the seed splits `label.dat` (`split_train_val`) and draws the initial parameters,
    dropout masks and context sequences from its own key. `module`: as in `build_model`;
    `reuse`: another seed's context, whose seed-independent parts are taken over."""
    model, graph, features = build_model(data, config, module=module)
    train_idx, val_idx = split_train_val(data, seed)
    ids = jnp.asarray(data.labelled_ids)
    labels = jnp.asarray(data.labelled)
    val_ids = ids[val_idx]
    init_key, dropout_key, context_key = jax.random.split(jax.random.key(seed), 3)
    context = build_context(context_key, data, graph, config.model, reuse=reuse)
    params = _init(model, init_key, graph, features, context, val_ids)
    optimizer, step = make_train_step(model, config, ids[train_idx], labels[train_idx],
                                      data.multi_label, dropout_key)
    return SeedSetup(model, graph, features, context, params, optimizer.init(params), step,
                     val_ids, labels[val_idx], seed)


def train_and_evaluate(data: HgbData, config: TrainConfig, seed: int, *,
                       show_progress: bool = True) -> SeedResult:
    """Train on the seed's 80% of `label.dat`, early-stop on the other 20%, score the test set.

    Example:
      >>> result = train_and_evaluate(load_graph("ACM"), recipe("gat", "ACM"), seed=0)
      >>> result.micro_f1
    """
    return train_seed(data, config, setup_seed(data, config, seed), show_progress=show_progress)


def train_seed(data: HgbData, config: TrainConfig, run: SeedSetup, *,
               show_progress: bool = True) -> SeedResult:
    """`train_and_evaluate` from a prepared seed (`setup_seed`)."""
    seed = run.seed
    model, graph, features, context = run.model, run.graph, run.features, run.context
    params, opt_state, step = run.params, run.opt_state, run.step
    val_ids, val_labels = run.val_ids, run.val_labels
    multi = data.multi_label

    def val_loss_of(params):
        return float(_loss(logits(model, params, graph, features, context, val_ids), val_labels,
                           multi))

    best = (np.inf, jax.tree.map(jnp.copy, params), -1)  # `step` donates `params`
    lr, plateau_best, plateau_since = config.learning_rate, np.inf, 0
    schedule = optax.cosine_onecycle_schedule(config.epochs, config.learning_rate, 0.05)
    times = []
    bar = progress(range(config.epochs), desc=f"{config.model_name} seed {seed}",
                   enabled=show_progress)
    epoch = 0
    for epoch in bar:
        start = time.perf_counter()
        if config.one_cycle:
            lr = float(schedule(epoch))
        params, opt_state, _ = step(params, opt_state, graph, features, context, epoch, lr)
        jax.block_until_ready(params)
        times.append(time.perf_counter() - start)
        val_loss = val_loss_of(params)
        if val_loss < best[0]:
            best = (val_loss, jax.tree.map(jnp.copy, params), epoch)
        if config.lr_plateau:  # PyTorch's ReduceLROnPlateau('min'): relative threshold 1e-4
            if val_loss < plateau_best * (1 - 1e-4):
                plateau_best, plateau_since = val_loss, 0
            else:
                plateau_since += 1
                if plateau_since > config.lr_plateau:
                    lr, plateau_since = lr * 0.1, 0
        bar.set_postfix(val_loss=f"{val_loss:.4f}", refresh=False)
        if epoch - best[2] >= config.patience:
            break
    test_ids = jnp.asarray(data.test_ids, jnp.int32)
    test_logits = np.asarray(logits(model, best[1], graph, features, context, test_ids))
    scores = score_test_set(data, test_logits)  # the only use of the test labels
    val = f1_scores(np.asarray(val_labels), predictions(
        np.asarray(logits(model, best[1], graph, features, context, val_ids)), multi))
    return SeedResult(seed, scores["macro_f1"], scores["micro_f1"], best[2], epoch + 1,
                      best[0], val["macro_f1"], val["micro_f1"],
                      statistics.median(times[1:] or times), test_logits)


def run_seeds(data: HgbData, config: TrainConfig, seeds, *, show_progress: bool = True,
              disparity_hops: int = 2, checkpoint_dir: str | os.PathLike[str] | None = None
              ) -> tuple[dict, list[SeedResult]]:
    """Train one model per seed; metrics as HGB reports them (percent, population std), plus
    F1 per attribute-disparity quintile of the test nodes (mean over seeds), when the target
    type has attributes. The seeds share the seed-independent context (similar nodes, AGM
    weights), built once.

    With `checkpoint_dir`, each finished seed is recorded there (with the dataset's fingerprint
    and the settings, see `jaxhin.train.run_folder`), and a rerun of the same command skips
    the seeds already recorded: a killed multi-seed run goes on from its first unfinished seed
    and ends with the same figures as an uninterrupted one.

    Example:
      >>> metrics, results = run_seeds(load_graph("synthetic"), recipe("gat", "synthetic"),
      ...                              seeds=[0, 1])
    """
    with contextlib.ExitStack() as stack:
        folder = None
        if checkpoint_dir is not None:
            identity = {"system": "hin", "dataset": data.name, "data": _fingerprint(data),
                        "train": flat_settings(config)}
            folder = stack.enter_context(run_folder(checkpoint_dir, identity))
        done = folder.read_log().get("seeds", {}) if folder is not None else {}
        results, context = [], None
        for s in seeds:
            if str(s) in done and (folder.path / f"seed-{s}.npy").is_file():
                logits = np.load(folder.path / f"seed-{s}.npy", allow_pickle=False)
                results.append(SeedResult(**done[str(s)], test_logits=logits))
                if show_progress:
                    print(f"seed {s}: recorded in {folder.path}, not rerun")
                continue
            run = setup_seed(data, config, s, reuse=context)
            context = run.context
            results.append(train_seed(data, config, run, show_progress=show_progress))
            if folder is not None:  # the logits first: the log then names only whole seeds
                with atomic_write(folder.path / f"seed-{s}.npy", "wb") as f:
                    np.save(f, results[-1].test_logits, allow_pickle=False)
                done = {**done, str(s): {k: v for k, v in dataclasses.asdict(results[-1]).items()
                                         if k != "test_logits"}}
                folder.write_log({"seeds": done})
    return summarize_seeds(data, results, disparity_hops=disparity_hops), results


def _fingerprint(data: HgbData) -> str:
    features = [a for f in data.features if f is not None for a in f]
    return fingerprint(data.type_offsets, data.src, data.dst, data.edge_type, data.weight,
                       data.labelled_ids, data.labelled, data.test_ids, data.test_labels,
                       *features)


def summarize_seeds(data: HgbData, results: list[SeedResult], *, disparity_hops: int = 2
                    ) -> dict:
    """`run_seeds`' metrics of finished runs (mean and population std of the test scores,
    validation means, F1 per disparity quintile)."""
    macro = mean_std([100 * r.macro_f1 for r in results])
    micro = mean_std([100 * r.micro_f1 for r in results])
    metrics = {
        "val_macro_f1_mean": mean_std([100 * r.val_macro_f1 for r in results])[0],
        "val_micro_f1_mean": mean_std([100 * r.val_micro_f1 for r in results])[0],
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
             "micro_f1": statistics.mean(r["micro_f1"] for r in rows),
             "micro_f1_per_seed": [r["micro_f1"] for r in rows]}
            for rows in zip(*per_seed, strict=True)]
    return metrics


def side_by_side(runs: dict[str, dict]) -> str:
    """Overall F1 and F1 per disparity quintile of several models' `run_seeds` metrics, as a
    text table with a column per model; with quintiles, also the first model's Micro-F1 gain
    over each other model per quintile, mean ± population std of the per-seed differences
    (runs of the same seeds, paired by seed)."""
    names = list(runs)
    first = names[0]
    quintiles = runs[first].get("disparity_quintiles", [])
    # a gain column per other model with quintiles from the same number of seeds
    others = [o for o in names[1:] if quintiles and len(runs[o].get(
        "disparity_quintiles", [{}])[0].get("micro_f1_per_seed", [])) == len(
        quintiles[0].get("micro_f1_per_seed", [None]))]
    lines = ["".ljust(26) + "".join(f"{name:>16}" for name in names)
             + "".join(f"{first + ' - ' + o:>18}" for o in others)]
    for key in ("micro_f1", "macro_f1"):
        label = "Micro-F1" if key == "micro_f1" else "Macro-F1"
        lines.append(label.ljust(26) + "".join(
            f"{runs[n][key + '_mean']:>9.2f} ± {runs[n][key + '_std']:4.2f}" for n in names))
    if quintiles:
        lines.append("Micro-F1 by disparity quintile (test nodes; 1 = most like their "
                     "neighbours)")
    for q, row in enumerate(quintiles):
        label = f"  {row['quintile']} [{row['low']:.3f}, {row['high']:.3f}]"
        cells = [f"{runs[n]['disparity_quintiles'][q]['micro_f1']:>16.2f}" for n in names]
        for o in others:
            gain = np.subtract(row["micro_f1_per_seed"],
                               runs[o]["disparity_quintiles"][q]["micro_f1_per_seed"])
            cells.append(f"{gain.mean():>+11.2f} ± {gain.std():4.2f}")
        lines.append(label.ljust(26) + "".join(cells))
    return "\n".join(lines)
