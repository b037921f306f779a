"""Networks trained with labels to judge a structure: the learned structure as a masked network,
an expert LeNet-style CNN and a dense MLP of equal parameter count, all trained by one recipe."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax


class MaskedDense(nn.Module):
    """A layer wired by a learned connectivity mask, with `channels` units per learned unit.

    The mask is (M_in, M_out) bool; the layer maps (B, M_in, c_in) to (B, M_out, c_out), and
    output unit (k, d) sums over the connected inputs i of unit k and all their channels c:

        y[b, k, d] = bias[k, d] + sum_{i: mask[i, k]} sum_c x[b, i, c] W[(i, k), c, d]

    i.e. a dense layer whose (M_in c_in, M_out c_out) kernel is kron(mask, ones(c_in, c_out))
    times free weights. Computed over the mask's non-zeros (gather, per-connection matmul,
    segment sum) rather than as that masked dense matmul: for MNIST's learned structures the
    dense form does 30 to 80 times more multiply-adds, most of them with zeros.
    """

    mask: np.ndarray   # (M_in, M_out) bool, a constant of the structure, not a parameter
    channels: int      # c_out

    @nn.compact
    def __call__(self, x):  # (B, M_in, c_in) -> (B, M_out, c_out)
        rows, cols = np.nonzero(np.asarray(self.mask))
        m_out, c_in = self.mask.shape[1], x.shape[-1]
        fan_in = np.bincount(cols, minlength=m_out).astype(np.float32) * c_in
        # He initialisation with each unit's own fan-in, so sparse units start at the right scale.
        scale = jnp.asarray(np.sqrt(2.0 / np.maximum(fan_in, 1.0))[cols])
        kernel = self.param("kernel", nn.initializers.normal(1.0), (len(rows), c_in,
                                                                    self.channels))
        bias = self.param("bias", nn.initializers.zeros, (m_out, self.channels))
        parts = jnp.einsum("bpc,pcd->pbd", x[:, rows, :], kernel * scale[:, None, None])
        out = jax.ops.segment_sum(parts, jnp.asarray(cols), m_out)        # (M_out, B, c_out)
        return jnp.transpose(out, (1, 0, 2)) + bias[None]


class MaskedNet(nn.Module):
    """The learned structure as a network: masked layers with ReLU, then a dense classifier.

    Attributes:
      masks: one (in, out) bool mask per learned layer; `out` of one is `in` of the next; the
        first one's `in` is the flattened image.
      channels: units per learned unit in each layer (see `MaskedDense`).
      num_classes: outputs of the classifier.
    """

    masks: tuple[np.ndarray, ...]
    channels: tuple[int, ...]
    num_classes: int

    @nn.compact
    def __call__(self, images):
        h = images.reshape(images.shape[0], -1, 1)
        for mask, c in zip(self.masks, self.channels, strict=True):
            h = nn.relu(MaskedDense(mask, c)(h))
        return nn.Dense(self.num_classes)(h.reshape(h.shape[0], -1))


class PatchConv(nn.Module):
    """'SAME' 2-D convolution written as shifted slices and one matmul (im2col).

    Written out because XLA:CPU's convolution gradient is slow: a LeNet epoch on MNIST took
    87 s with `nn.Conv` and 33 s this way on two cores; the result is the same convolution.
    """

    features: int
    size: int = 5

    @nn.compact
    def __call__(self, x):  # (B, H, W, C) -> (B, H, W, features)
        _, h, w, _ = x.shape
        r = self.size // 2
        xp = jnp.pad(x, ((0, 0), (r, self.size - 1 - r), (r, self.size - 1 - r), (0, 0)))
        cols = jnp.concatenate([xp[:, i:i + h, j:j + w] for i in range(self.size)
                                for j in range(self.size)], -1)
        return nn.Dense(self.features)(cols)


def _max_pool2(x):
    """2x2 max pooling, stride 2, padding odd sizes (a reshape: its gradient is cheap on CPU)."""
    b, h, w, c = x.shape
    x = jnp.pad(x, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), constant_values=-jnp.inf)
    return x.reshape(b, (h + 1) // 2, 2, (w + 1) // 2, 2, c).max((2, 4))


class LeNet(nn.Module):
    """The expert design (LeCun et al. 1998, LeNet-5 with ReLU and max pooling): 5x5 conv with 6
    channels, pool, 5x5 conv with 16, pool, dense 120, 84, classes ('SAME' padding so any image
    size works)."""

    num_classes: int

    @nn.compact
    def __call__(self, images):
        h = images[..., None]
        for channels in (6, 16):
            h = _max_pool2(nn.relu(PatchConv(channels)(h)))
        h = h.reshape(h.shape[0], -1)
        h = nn.relu(nn.Dense(120)(h))
        h = nn.relu(nn.Dense(84)(h))
        return nn.Dense(self.num_classes)(h)


class MLP(nn.Module):
    """Dense network with ReLU hidden layers."""

    hidden: tuple[int, ...]
    num_classes: int

    @nn.compact
    def __call__(self, images):
        h = images.reshape(images.shape[0], -1)
        for width in self.hidden:
            h = nn.relu(nn.Dense(width)(h))
        return nn.Dense(self.num_classes)(h)


def count_params(params) -> int:
    """Trainable parameters (a masked layer holds weights only for its connections)."""
    return sum(int(np.prod(p.shape)) for p in jax.tree_util.tree_leaves(params))


def equal_mlp_width(params: int, inputs: int, num_classes: int) -> int:
    """Width h of a one-hidden-layer MLP with `params` parameters: (P + 1 + C) h + C = params."""
    return max(1, round((params - num_classes) / (inputs + 1 + num_classes)))


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The one supervised recipe every compared network gets.

    Attributes:
      epochs: passes over the training images.
      batch_size: images per step.
      learning_rate: AdamW's peak rate (cosine decay to 0, no warm-up).
      weight_decay: AdamW's decoupled weight decay.
      shift: random translation of up to this many pixels per image (augmentation; 0 = none).
    """

    epochs: int = 10
    batch_size: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    shift: int = 2

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1 or self.shift < 0:
            raise ValueError(f"TrainConfig: epochs, batch_size must be >= 1 and shift >= 0, got "
                             f"{self.epochs}, {self.batch_size}, {self.shift}")
        if not self.learning_rate > 0:
            raise ValueError(f"TrainConfig.learning_rate must be > 0, got {self.learning_rate}")


def _shift(key: jax.Array, images: jax.Array, shift: int) -> jax.Array:
    """Translate each (H, W) image by a random offset in [-shift, shift]^2, filling with zeros."""
    b, h, w = images.shape
    padded = jnp.pad(images, ((0, 0), (shift, shift), (shift, shift)))
    offsets = jax.random.randint(key, (b, 2), 0, 2 * shift + 1)
    return jax.vmap(lambda im, o: jax.lax.dynamic_slice(im, (o[0], o[1]), (h, w)))(padded,
                                                                                  offsets)


def train_classifier(key: jax.Array, model: nn.Module, train: tuple[np.ndarray, np.ndarray],
                     config: TrainConfig, evaluate: Sequence[tuple[np.ndarray, np.ndarray]] = (),
                     progress=None) -> tuple[dict, list[float]]:
    """Train `model` with softmax cross-entropy and return its params and accuracies.

    Args:
      key: PRNG key (init, minibatch order, augmentation).
      model: a Flax module mapping (B, H, W) images to (B, C) logits.
      train: (images (N, H, W), labels (N,)).
      config: the recipe.
      evaluate: (images, labels) sets whose accuracy is returned after training.
      progress: called with the epoch number after each epoch.

    Returns:
      (params, [accuracy on each `evaluate` set]).
    """
    images, labels = jnp.asarray(train[0]), jnp.asarray(train[1])
    n = len(labels)
    steps_per_epoch = max(n // config.batch_size, 1)
    params = model.init(jax.random.fold_in(key, 0), images[:1])
    schedule = optax.cosine_decay_schedule(config.learning_rate,
                                           config.epochs * steps_per_epoch)
    opt = optax.adamw(schedule, weight_decay=config.weight_decay)
    opt_state = opt.init(params)

    def loss_fn(p, xb, yb):
        logits = model.apply(p, xb)
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    @jax.jit
    def epoch(carry, epoch_key):
        def step(carry, idx_key):
            p, s = carry
            idx, k = idx_key
            xb = images[idx]
            if config.shift:
                xb = _shift(k, xb, config.shift)
            grads = jax.grad(loss_fn)(p, xb, labels[idx])
            updates, s = opt.update(grads, s, p)
            return (optax.apply_updates(p, updates), s), None

        order = jax.random.permutation(epoch_key, n)[:steps_per_epoch * config.batch_size]
        order = order.reshape(steps_per_epoch, -1)
        keys = jax.random.split(jax.random.fold_in(epoch_key, 1), steps_per_epoch)
        carry, _ = jax.lax.scan(step, carry, (order, keys))
        return carry

    carry = (params, opt_state)
    for e in range(config.epochs):
        carry = epoch(carry, jax.random.fold_in(key, e + 1))
        if progress is not None:
            progress(e)
    params = carry[0]
    return params, [accuracy(model, params, x, y) for x, y in evaluate]


def accuracy(model: nn.Module, params, images: np.ndarray, labels: np.ndarray,
             batch: int = 2000) -> float:
    """Share of `images` whose predicted class equals `labels`."""
    # A closure, not a static argument: a masked network's masks are arrays, so it is unhashable.
    predict = jax.jit(lambda p, x: model.apply(p, x).argmax(-1))
    hits = 0
    for i in range(0, len(labels), batch):
        pred = predict(params, jnp.asarray(images[i:i + batch]))
        hits += int((np.asarray(pred) == labels[i:i + batch]).sum())
    return hits / max(len(labels), 1)
