"""The whole study on one labelled image dataset: grow a structure without labels, train it as a
masked network with labels, and compare it with an expert CNN and an equal-parameter MLP.

Protocol. The training images are split into a learning part (dictionaries, and all supervised
training) and a held-out probe part (the stopping rule's linear probe, and the survey's
accuracies); the test images are touched once per network, for the final scores.

Width. A learned layer has M live units, each with its own connectivity. The masked network
gives each learned unit `c` units (channels) with that connectivity, c chosen so the layer has
as many units as the expert CNN's layer of the same depth (LeNet's convolutions: H*W*6, then
H*W/4*16; deeper layers keep the channels of the layer below, `cnn_channels`): the two networks
get the same number of units and differ only in how they are connected, one designed, one
learned.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import jax
import numpy as np
import scipy.stats

from jaxhin.structure._entropy import sum_unit_entropy
from jaxhin.structure._grow import GrowthConfig, GrowthResult, grow, learn_layer, probe_accuracy
from jaxhin.structure._locality import locality_ratio
from jaxhin.structure._networks import (
    MLP,
    LeNet,
    MaskedNet,
    TrainConfig,
    count_params,
    equal_mlp_width,
    train_classifier,
)
from jaxhin.structure._sparse import SparseCodingConfig
from jaxhin.train import progress


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """The study's settings.

    Attributes:
      growth: how the structure is grown (layers, stopping rule).
      train: the one supervised recipe of the masked network, the CNN and the MLP.
      probe_share: share of the training images held out for the probe (never trained on).
      survey_atoms: layer-1 sizes of the entropy-accuracy survey's structures.
      survey_penalties: their code penalties; the survey is the grid of both.
      survey_images: learning images per survey structure (a subset keeps the survey cheap).
      entropy_bins: histogram bins of the output entropy.
      cnn_units: widen the masked network to the CNN's unit count per layer (see module doc).
    """

    growth: GrowthConfig = dataclasses.field(default_factory=GrowthConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    probe_share: float = 1 / 6
    survey_atoms: tuple[int, ...] = (16, 32, 64, 128, 256)
    survey_penalties: tuple[float, ...] = (0.003, 0.01, 0.03)
    survey_images: int = 10000
    entropy_bins: int = 32
    cnn_units: bool = True

    def __post_init__(self):
        if not 0 < self.probe_share < 1:
            raise ValueError(f"StudyConfig.probe_share must be in (0, 1), got {self.probe_share}")


def digits_config() -> StudyConfig:
    """Settings for scikit-learn's 8x8 digits (1,198 training images): smaller layers, more
    passes, so the whole study runs in about a minute on two cores."""
    layer = SparseCodingConfig(num_atoms=128, code_penalty=0.01, group_penalty=1e-4, epochs=20,
                               batch_size=64)
    return StudyConfig(
        growth=GrowthConfig(layers=(layer, dataclasses.replace(layer, num_atoms=256,
                                                               code_penalty=0.005))),
        # No shift: one pixel is an eighth of an 8x8 digit.
        train=TrainConfig(epochs=60, batch_size=64, shift=0),
        survey_atoms=(8, 16, 32, 64, 128), survey_images=1000)


def mnist_config() -> StudyConfig:
    """Settings for MNIST-sized data (60,000 images of 28x28): the defaults."""
    return StudyConfig()


@dataclasses.dataclass(frozen=True)
class StudyResult:
    """What `run_study` found.

    Attributes:
      metrics: the figures (accuracies, depth, locality, Spearman, parameter counts, times).
      growth: the grown structure (masks, gains).
      survey: one row per survey structure: atoms, code penalty, entropy, probe accuracy.
      channels: units per learned unit in each layer of the masked network.
    """

    metrics: dict
    growth: GrowthResult
    survey: list[dict]
    channels: tuple[int, ...]


def cnn_channels(masks: tuple[np.ndarray, ...], shape: tuple[int, int]) -> tuple[int, ...]:
    """Channels per learned unit: layer l gets as many units as LeNet's convolutional layer l
    (H*W*6, then ceil(H/2)*ceil(W/2)*16); a deeper learned layer, whose LeNet counterpart is a
    dense layer, keeps the channels of the layer below, as pooling keeps a feature map's.

    The second rule was chosen on validation: on MNIST seed 1 (the one seed of three that grew a
    third layer) matching LeNet's 120 dense units gave that layer 1 channel, and held-out
    training images scored 97.99% against 98.45% with the channels kept.
    """
    h, w = shape
    conv_units = (h * w * 6, math.ceil(h / 2) * math.ceil(w / 2) * 16)
    channels: list[int] = []
    for depth, mask in enumerate(masks):
        if depth < len(conv_units):
            channels.append(max(1, round(conv_units[depth] / mask.shape[1])))
        else:
            channels.append(channels[-1])
    return tuple(channels)


def survey(key: jax.Array, x_learn, x_probe, y_learn, y_probe, num_classes: int,
           config: StudyConfig, log=None) -> list[dict]:
    """Entropy and probe accuracy of one-layer structures over the grid of sizes and penalties.

    Each structure's output entropy is the sum of its units' entropies on the probe images;
    its accuracy is a linear probe's on the same images (fitted on the learning subset)."""
    base = config.growth.layers[0]
    rows = []
    fit = slice(0, min(len(x_learn), config.survey_images))
    for i, atoms in enumerate(config.survey_atoms):
        for j, penalty in enumerate(config.survey_penalties):
            cfg = dataclasses.replace(base, num_atoms=atoms, code_penalty=penalty)
            layer = learn_layer(jax.random.fold_in(key, 100 * i + j), x_learn[fit], cfg)
            codes_learn = np.asarray(layer.encode(x_learn[fit]))
            codes_probe = np.asarray(layer.encode(x_probe))
            rows.append({
                "atoms": atoms, "live_units": int(layer.mask.shape[1]),
                "code_penalty": penalty,
                "entropy": float(sum_unit_entropy(codes_probe, config.entropy_bins)),
                "probe_accuracy": probe_accuracy((codes_learn, y_learn[fit]),
                                                 (codes_probe, y_probe), num_classes),
            })
            if log:
                log(f"survey {atoms} atoms, lambda {penalty}: entropy "
                    f"{rows[-1]['entropy']:.1f} nats, probe {rows[-1]['probe_accuracy']:.4f}")
    return rows


def run_study(key: jax.Array, data, config: StudyConfig | None = None,
              log: Callable[[str], None] | None = None,
              show_progress: bool = False) -> StudyResult:
    """Grow a structure on `data` (a `jaxhin.data.ImageData`) and evaluate it.

    Metrics: `depth`, `gains`, `test_acc` (masked network), `cnn_test_acc`, `mlp_test_acc`,
    parameter counts, `locality_ratio` (and the spreads), `entropy_acc_spearman` over the
    survey, and the seconds each part took.

    Args:
      key: PRNG key.
      data: the images.
      config: the study's settings (default `StudyConfig()`, sized for MNIST).
      log: called with one line per step (layers, survey rows, scores).
      show_progress: progress bars over the supervised training epochs.

    Example:
      >>> from jaxhin.data import load_images
      >>> result = run_study(jax.random.key(0), load_images("digits"), digits_config())
    """
    config = config or StudyConfig()
    log = log or (lambda line: None)
    times = {}
    images, labels = data.train_images, data.train_labels
    n = len(labels)
    order = np.asarray(jax.random.permutation(jax.random.fold_in(key, 0), n))
    n_probe = max(round(n * config.probe_share), data.num_classes)
    learn, probe = order[n_probe:], order[:n_probe]
    flat = images.reshape(n, -1)
    x_learn, x_probe = flat[learn], flat[probe]

    start = time.perf_counter()
    growth = grow(jax.random.fold_in(key, 1), x_learn, x_probe, labels[learn], labels[probe],
                  data.num_classes, config.growth, log)
    times["growth_s"] = time.perf_counter() - start
    log(f"depth {growth.depth}: {growth.stopped_because}")

    start = time.perf_counter()
    allowed = flat.std(0) > 0
    local = locality_ratio(jax.random.fold_in(key, 2), growth.layers[0].mask, data.shape,
                           allowed)
    rows = survey(jax.random.fold_in(key, 3), x_learn, x_probe, labels[learn], labels[probe],
                  data.num_classes, config, log)
    rho = scipy.stats.spearmanr([r["entropy"] for r in rows],
                                [r["probe_accuracy"] for r in rows]).statistic
    times["survey_s"] = time.perf_counter() - start
    log(f"locality ratio {local['locality_ratio']:.3f}; entropy-accuracy Spearman {rho:.3f} "
        f"over {len(rows)} structures")

    learned = growth.masks()
    channels = cnn_channels(learned, data.shape) if config.cnn_units else (1,) * len(learned)
    train = (images[learn], labels[learn])
    evaluate = [(data.test_images, data.test_labels)]
    results = {}
    masked = MaskedNet(learned, channels, data.num_classes)
    # The MLP is sized before training: count the masked network's parameters from shapes.
    shapes = jax.eval_shape(masked.init, jax.random.key(0), images[:1])
    width = equal_mlp_width(count_params(shapes), flat.shape[1], data.num_classes)
    for name, model in (("masked", masked),
                        ("cnn", LeNet(data.num_classes)),
                        ("mlp", MLP((width,), data.num_classes))):
        start = time.perf_counter()
        with progress(total=config.train.epochs, desc=f"train {name}",
                      enabled=show_progress) as bar:
            params, (acc,) = train_classifier(jax.random.fold_in(key, 4), model, train,
                                              config.train, evaluate,
                                              progress=lambda epoch, bar=bar: bar.update())
        results[name] = (acc, count_params(params))
        times[f"{name}_s"] = time.perf_counter() - start
        log(f"{name}: test accuracy {acc:.4f}, {results[name][1]} parameters")

    metrics = {
        "depth": growth.depth,
        "gains": list(growth.gains),
        "stopped_because": growth.stopped_because,
        "live_units": [int(m.shape[1]) for m in learned],
        "connections_per_unit": [float(m.sum(0).mean()) for m in learned],
        "channels": list(channels),
        "test_acc": results["masked"][0],
        "cnn_test_acc": results["cnn"][0],
        "mlp_test_acc": results["mlp"][0],
        "params": results["masked"][1],
        "cnn_params": results["cnn"][1],
        "mlp_params": results["mlp"][1],
        "mlp_width": width,
        **local,
        "entropy_acc_spearman": float(rho),
        "survey_structures": len(rows),
        **times,
    }
    return StudyResult(metrics, growth, rows, channels)
