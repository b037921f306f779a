"""Structure growth: learn layers one at a time by sparse coding, without labels, and stop when
a new layer no longer pays.

Layer 1 is a group-sparse dictionary on whole images (groups: pixels). Each next layer is one
on the codes of the layer below (groups: the units below, so an atom that keeps a few of them
pools them). A layer's structure is its connectivity mask: which input groups each live atom
(one with any connection left) uses. Depth is decided by the marginal gain of each new layer,
measured by a linear probe (ridge regression on one-hot labels) fitted on held-out data that
dictionary learning never saw, or by the growth of output entropy: growth stops at the first
layer whose gain is below `min_gain`, and that layer is not kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxhin.structure._entropy import sum_unit_entropy
from jaxhin.structure._sparse import (
    SparseCodingConfig,
    connectivity,
    encode_all,
    learn_dictionary,
)


@dataclasses.dataclass(frozen=True)
class GrowthConfig:
    """How a structure is grown.

    Attributes:
      layers: the sparse-coding config of layer 1, 2, ...; its length is the largest depth.
      min_gain: a layer is kept only if it raises the criterion by at least this much.
      criterion: "probe" (held-out linear-probe accuracy, a share in [0, 1]) or "entropy" (sum
        of unit entropies of the layer's outputs, nats per unit).
      probe_ridge: ridge penalty of the linear probe.
      entropy_bins: histogram bins of the entropy criterion.
    """

    layers: tuple[SparseCodingConfig, ...] = (
        # Sized for MNIST: layer 1 on pixels, then overcomplete layers on the codes below.
        SparseCodingConfig(num_atoms=256, code_penalty=0.01, group_penalty=1e-4, epochs=3),
        SparseCodingConfig(num_atoms=512, code_penalty=0.005, group_penalty=1e-4, epochs=3),
        SparseCodingConfig(num_atoms=512, code_penalty=0.005, group_penalty=1e-4, epochs=3),
    )
    min_gain: float = 0.002
    criterion: str = "probe"
    probe_ridge: float = 1e-2
    entropy_bins: int = 32

    def __post_init__(self):
        if not self.layers:
            raise ValueError("GrowthConfig.layers must name at least one layer")
        if self.criterion not in ("probe", "entropy"):
            raise ValueError(f"GrowthConfig.criterion must be 'probe' or 'entropy', got "
                             f"{self.criterion!r}")


@dataclasses.dataclass(frozen=True)
class Layer:
    """One learned layer: the live atoms' dictionary and connectivity, and how to scale inputs.
    A plain record, not a pytree: it is never traced, and its mask is an unhashable array.

    `dictionary` is (P, M) over the layer's inputs, restricted to live atoms; `mask` is (P, M)
    bool; `input_scale` divides the inputs before coding (the RMS input norm when learned).
    """

    dictionary: jax.Array
    mask: np.ndarray
    input_scale: float
    config: SparseCodingConfig

    def encode(self, x: jax.Array) -> jax.Array:
        """(N, P) inputs to (N, M) codes."""
        return encode_all(jnp.asarray(x) / self.input_scale, self.dictionary, self.config)


@dataclasses.dataclass(frozen=True)
class GrowthResult:
    """A grown structure and the record of its growth.

    Attributes:
      layers: the kept layers, bottom first.
      gains: the criterion after each tried layer (index 0: the raw input), kept or not.
      depth: len(layers).
      stopped_because: a sentence.
      criterion: what `gains` measure ("probe" or "entropy").
    """

    layers: tuple[Layer, ...]
    gains: tuple[float, ...]
    depth: int
    stopped_because: str
    criterion: str = "probe"

    def masks(self) -> tuple[np.ndarray, ...]:
        """Each kept layer's (inputs, outputs) connectivity, in terms of the layer below's live
        units (layer 1: pixels)."""
        return tuple(layer.mask for layer in self.layers)


def probe_accuracy(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
                   num_classes: int, ridge: float = 1e-2) -> float:
    """Accuracy of ridge regression on one-hot labels (with a bias), a linear read-out whose
    fit is exact and cheap, so structures are compared without an optimiser's noise."""
    xtr = np.asarray(train[0], np.float64)
    scale = np.sqrt((xtr**2).mean()) or 1.0
    xtr = np.hstack([xtr / scale, np.ones((len(xtr), 1))])
    xte = np.hstack([np.asarray(test[0], np.float64) / scale, np.ones((len(test[0]), 1))])
    targets = np.eye(num_classes)[train[1]]
    gram = xtr.T @ xtr + ridge * len(xtr) * np.eye(xtr.shape[1])
    weights = np.linalg.solve(gram, xtr.T @ targets)
    return float(((xte @ weights).argmax(1) == test[1]).mean())


def _criterion(config: GrowthConfig, codes_learn, codes_probe, labels_learn, labels_probe,
               num_classes) -> float:
    if config.criterion == "entropy":
        return float(sum_unit_entropy(codes_probe, config.entropy_bins)) / codes_probe.shape[1]
    return probe_accuracy((codes_learn, labels_learn), (codes_probe, labels_probe), num_classes,
                          config.probe_ridge)


def learn_layer(key: jax.Array, x: np.ndarray | jax.Array, config: SparseCodingConfig,
                groups: np.ndarray | None = None, callback=None) -> Layer:
    """Learn one layer on (N, P) inputs and keep its live atoms."""
    x = jnp.asarray(x, jnp.float32)
    scale = float(jnp.sqrt(jnp.mean(jnp.sum(x**2, 1)))) or 1.0
    state, _ = learn_dictionary(key, x / scale, config, groups, callback=callback)
    mask = connectivity(state.dictionary)
    live = mask.any(0)
    if not live.any():
        raise ValueError(f"learn_layer: the group penalty {config.group_penalty} left no atom "
                         f"with a connection; lower it")
    return Layer(state.dictionary[:, live], mask[:, live], scale, config)


def grow(key: jax.Array, x_learn: np.ndarray, x_probe: np.ndarray,
         labels_learn: np.ndarray, labels_probe: np.ndarray, num_classes: int,
         config: GrowthConfig | None = None,
         log: Callable[[str], None] | None = None) -> GrowthResult:
    """Grow a structure layer by layer on unlabelled inputs, deciding its depth.

    Dictionaries are learned on `x_learn` without labels. The probe criterion fits a linear
    read-out of a layer's codes on part of `x_learn` with `labels_learn` and scores it on
    `x_probe` with `labels_probe`; labels never touch the dictionaries.

    Args:
      key: PRNG key.
      x_learn: (N, P) inputs that dictionaries are learned on (flattened images).
      x_probe: (N', P) held-out inputs for the stopping criterion.
      labels_learn, labels_probe: their labels (probe criterion only).
      num_classes: C.
      config: the growth config.
      log: called with one line per layer.

    Returns:
      The grown structure.
    """
    config = config or GrowthConfig()
    log = log or (lambda line: None)
    codes_learn, codes_probe = np.asarray(x_learn), np.asarray(x_probe)
    fit = slice(0, min(len(codes_learn), 10000))
    value = _criterion(config, codes_learn[fit], codes_probe, labels_learn[fit], labels_probe,
                       num_classes)
    gains, layers = [value], []
    log(f"input ({codes_learn.shape[1]} units): {config.criterion} {value:.4f}")
    stopped = f"reached the largest depth, {len(config.layers)}"
    for depth, layer_config in enumerate(config.layers, start=1):
        layer = learn_layer(jax.random.fold_in(key, depth), codes_learn, layer_config)
        new_learn = np.asarray(layer.encode(codes_learn))
        new_probe = np.asarray(layer.encode(codes_probe))
        new_value = _criterion(config, new_learn[fit], new_probe, labels_learn[fit],
                               labels_probe, num_classes)
        gains.append(new_value)
        gain = new_value - value
        log(f"layer {depth}: {layer.mask.shape[1]} live units of {layer_config.num_atoms}, "
            f"{layer.mask.sum(0).mean():.1f} connections each; {config.criterion} "
            f"{new_value:.4f} (gain {gain:+.4f})")
        if gain < config.min_gain:
            stopped = (f"layer {depth} raised the {config.criterion} by {gain:+.4f} < "
                       f"min_gain {config.min_gain}")
            break
        layers.append(layer)
        codes_learn, codes_probe, value = new_learn, new_probe, new_value
    if not layers:
        raise ValueError(f"grow: no layer was kept ({stopped}); lower min_gain or change the "
                         f"layer configs")
    return GrowthResult(tuple(layers), tuple(gains), len(layers), stopped, config.criterion)
