"""The paper's eight DNNs as Flax Linen models, and their training steps for tracing.

Each `model_step(name)` returns `(step_fn, example_args)`: one SGD-with-momentum step (forward,
backward, update; batch statistics updated where the model has BatchNorm) and
`jax.ShapeDtypeStruct`s for its arguments, at the batch size the Coop paper uses. Nothing is
initialised or run: parameter shapes come from `jax.eval_shape`, so full-size models trace on a
laptop CPU. Layers are unrolled (a Python loop, as the eager frameworks the paper measures run
them); the LSTM is unrolled over time for the same reason.

Configurations (NHWC images, float32):
  resnet50     ResNet-50, 224x224, batch 115
  resnet152    ResNet-152, 224x224, batch 55
  inception-v3 Inception-V3, 299x299, batch 96
  unet         U-Net (64..1024 channels, 4 levels, same padding), 512x512x3, 2 classes, batch 5
  bert-large   BERT-Large (24 x 1024, 16 heads), sequence 512, masked-LM loss, batch 8
  swin-t       Swin-T (96, depths 2-2-6-2, window 7, shifted), 224x224, batch 40
  bilstm       2-layer bidirectional LSTM (embedding 256, hidden 512), 64 steps, batch 2048
  densenet121  DenseNet-121 (growth 32), 224x224, batch 70
The paper gives batch sizes but not every input size for U-Net, BERT-Large and the BiLSTM;
these are the closest standard settings.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

# -- convolutional blocks -----------------------------------------------------------------------


class ConvBN(nn.Module):
    """Conv, BatchNorm (training mode), optional ReLU."""

    features: int
    kernel: tuple[int, int] = (3, 3)
    strides: int = 1
    padding: Any = "SAME"
    relu: bool = True

    @nn.compact
    def __call__(self, x):
        x = nn.Conv(self.features, self.kernel, (self.strides,) * 2, padding=self.padding,
                    use_bias=False)(x)
        x = nn.BatchNorm(use_running_average=False)(x)
        return nn.relu(x) if self.relu else x


class Bottleneck(nn.Module):
    features: int
    strides: int = 1

    @nn.compact
    def __call__(self, x):
        y = ConvBN(self.features, (1, 1))(x)
        y = ConvBN(self.features, (3, 3), self.strides)(y)
        y = ConvBN(self.features * 4, (1, 1), relu=False)(y)
        if x.shape[-1] != self.features * 4 or self.strides != 1:
            x = ConvBN(self.features * 4, (1, 1), self.strides, relu=False)(x)
        return nn.relu(y + x)


class ResNet(nn.Module):
    stages: tuple[int, ...]
    classes: int = 1000

    @nn.compact
    def __call__(self, x):
        x = ConvBN(64, (7, 7), 2)(x)
        x = nn.max_pool(x, (3, 3), (2, 2), "SAME")
        for i, blocks in enumerate(self.stages):
            for j in range(blocks):
                x = Bottleneck(64 * 2 ** i, 2 if (j == 0 and i > 0) else 1)(x)
        return nn.Dense(self.classes)(jnp.mean(x, axis=(1, 2)))


def _avg3(x):
    return nn.avg_pool(x, (3, 3), (1, 1), "SAME")


class InceptionV3(nn.Module):
    """Inception-V3 (Szegedy et al. 2016) as torchvision lays it out, without the aux head."""

    classes: int = 1000

    @nn.compact
    def __call__(self, x):
        c = functools.partial(ConvBN)
        x = c(32, (3, 3), 2, "VALID")(x)
        x = c(32, (3, 3), 1, "VALID")(x)
        x = c(64, (3, 3))(x)
        x = nn.max_pool(x, (3, 3), (2, 2))
        x = c(80, (1, 1))(x)
        x = c(192, (3, 3), 1, "VALID")(x)
        x = nn.max_pool(x, (3, 3), (2, 2))
        for pool_features in (32, 64, 64):  # Inception-A
            x = jnp.concatenate([
                c(64, (1, 1))(x),
                c(64, (5, 5))(c(48, (1, 1))(x)),
                c(96, (3, 3))(c(96, (3, 3))(c(64, (1, 1))(x))),
                c(pool_features, (1, 1))(_avg3(x))], axis=-1)
        x = jnp.concatenate([  # Inception-B (grid reduction)
            c(384, (3, 3), 2, "VALID")(x),
            c(96, (3, 3), 2, "VALID")(c(96, (3, 3))(c(64, (1, 1))(x))),
            nn.max_pool(x, (3, 3), (2, 2))], axis=-1)
        for c7 in (128, 160, 160, 192):  # Inception-C (factorised 7x7)
            b7 = c(192, (7, 1))(c(c7, (1, 7))(c(c7, (1, 1))(x)))
            bd = c(c7, (1, 1))(x)
            for k in ((7, 1), (1, 7), (7, 1)):
                bd = c(c7, k)(bd)
            x = jnp.concatenate([c(192, (1, 1))(x), b7, c(192, (1, 7))(bd),
                                 c(192, (1, 1))(_avg3(x))], axis=-1)
        x = jnp.concatenate([  # Inception-D (grid reduction)
            c(320, (3, 3), 2, "VALID")(c(192, (1, 1))(x)),
            c(192, (3, 3), 2, "VALID")(c(192, (7, 1))(c(192, (1, 7))(c(192, (1, 1))(x)))),
            nn.max_pool(x, (3, 3), (2, 2))], axis=-1)
        for _ in range(2):  # Inception-E (expanded filter banks)
            b3 = c(384, (1, 1))(x)
            bd = c(384, (3, 3))(c(448, (1, 1))(x))
            x = jnp.concatenate([
                c(320, (1, 1))(x), c(384, (1, 3))(b3), c(384, (3, 1))(b3),
                c(384, (1, 3))(bd), c(384, (3, 1))(bd), c(192, (1, 1))(_avg3(x))], axis=-1)
        return nn.Dense(self.classes)(jnp.mean(x, axis=(1, 2)))


class UNet(nn.Module):
    """U-Net (Ronneberger et al. 2015): two 3x3 conv + ReLU per level, max-pool down,
    2x2 transposed conv up, skip concatenation; same padding so any even size works."""

    widths: tuple[int, ...] = (64, 128, 256, 512, 1024)
    classes: int = 2

    @nn.compact
    def __call__(self, x):
        def double(y, w):
            return nn.relu(nn.Conv(w, (3, 3))(nn.relu(nn.Conv(w, (3, 3))(y))))

        skips = []
        for w in self.widths[:-1]:
            x = double(x, w)
            skips.append(x)
            x = nn.max_pool(x, (2, 2), (2, 2))
        x = double(x, self.widths[-1])
        for w, skip in zip(reversed(self.widths[:-1]), reversed(skips), strict=True):
            x = nn.ConvTranspose(w, (2, 2), (2, 2))(x)
            x = double(jnp.concatenate([skip, x], axis=-1), w)
        return nn.Conv(self.classes, (1, 1))(x)


class DenseNet(nn.Module):
    """DenseNet-BC (Huang et al. 2017): BN-ReLU-1x1-BN-ReLU-3x3 layers whose outputs are
    concatenated, transitions halve channels and resolution."""

    blocks: tuple[int, ...] = (6, 12, 24, 16)
    growth: int = 32
    classes: int = 1000

    @nn.compact
    def __call__(self, x):
        def bn_relu(y):
            return nn.relu(nn.BatchNorm(use_running_average=False)(y))

        x = ConvBN(64, (7, 7), 2)(x)
        x = nn.max_pool(x, (3, 3), (2, 2), "SAME")
        for i, layers in enumerate(self.blocks):
            for _ in range(layers):
                y = nn.Conv(4 * self.growth, (1, 1), use_bias=False)(bn_relu(x))
                y = nn.Conv(self.growth, (3, 3), use_bias=False)(bn_relu(y))
                x = jnp.concatenate([x, y], axis=-1)
            if i < len(self.blocks) - 1:
                x = nn.Conv(x.shape[-1] // 2, (1, 1), use_bias=False)(bn_relu(x))
                x = nn.avg_pool(x, (2, 2), (2, 2))
        x = bn_relu(x)
        return nn.Dense(self.classes)(jnp.mean(x, axis=(1, 2)))


# -- Transformers -------------------------------------------------------------------------------


class Attention(nn.Module):
    heads: int
    window_bias: int = 0  # Swin: relative position bias over a (2w-1)^2 table, w = window_bias

    @nn.compact
    def __call__(self, x, mask=None):
        b, n, d = x.shape
        qkv = nn.Dense(3 * d)(x).reshape(b, n, 3, self.heads, d // self.heads)
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / jnp.sqrt(d // self.heads).astype(x.dtype)
        if self.window_bias:
            w = self.window_bias
            table = self.param("rel_bias", nn.initializers.zeros, ((2 * w - 1) ** 2, self.heads))
            coords = jnp.stack(jnp.meshgrid(jnp.arange(w), jnp.arange(w), indexing="ij"))
            coords = coords.reshape(2, -1)
            rel = coords[:, :, None] - coords[:, None, :] + (w - 1)
            index = rel[0] * (2 * w - 1) + rel[1]
            scores = scores + table[index].transpose(2, 0, 1)[None]
        if mask is not None:
            scores = scores + mask
        probs = jax.nn.softmax(scores, axis=-1)
        out = jnp.einsum("bhqk,bkhd->bqhd", probs, v).reshape(b, n, d)
        return nn.Dense(d)(out)


class Block(nn.Module):
    heads: int
    hidden: int
    pre_norm: bool = True

    @nn.compact
    def __call__(self, x):
        if self.pre_norm:
            x = x + Attention(self.heads)(nn.LayerNorm()(x))
            return x + nn.Dense(x.shape[-1])(nn.gelu(nn.Dense(self.hidden)(nn.LayerNorm()(x))))
        x = nn.LayerNorm()(x + Attention(self.heads)(x))  # BERT is post-LayerNorm
        return nn.LayerNorm()(x + nn.Dense(x.shape[-1])(nn.gelu(nn.Dense(self.hidden)(x))))


class Bert(nn.Module):
    vocab: int = 30522
    width: int = 1024
    layers: int = 24
    heads: int = 16
    hidden: int = 4096
    max_len: int = 512

    @nn.compact
    def __call__(self, ids):
        embed = nn.Embed(self.vocab, self.width)
        pos = self.param("pos", nn.initializers.normal(0.02), (self.max_len, self.width))
        x = nn.LayerNorm()(embed(ids) + pos[None, :ids.shape[1]])
        for _ in range(self.layers):
            x = Block(self.heads, self.hidden, pre_norm=False)(x)
        x = nn.LayerNorm()(nn.gelu(nn.Dense(self.width)(x)))
        return embed.attend(x)


def _windows(x, w):
    b, h, wd, c = x.shape
    x = x.reshape(b, h // w, w, wd // w, w, c).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, w * w, c)


def _unwindows(x, w, b, h, wd):
    c = x.shape[-1]
    x = x.reshape(b, h // w, wd // w, w, w, c).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h, wd, c)


def _shift_mask(h, wd, w, s):
    """Swin's attention mask for shifted windows: -100 between tokens of different regions."""
    region = jnp.zeros((h, wd))
    cuts = (slice(0, -w), slice(-w, -s), slice(-s, None))
    n = 0
    for hs in cuts:
        for ws in cuts:
            region = region.at[hs, ws].set(n)
            n += 1
    win = _windows(region[None, :, :, None], w)[..., 0]
    diff = win[:, :, None] - win[:, None, :]
    return jnp.where(diff != 0, -100.0, 0.0)[:, None]  # (windows, 1, w*w, w*w)


class SwinBlock(nn.Module):
    heads: int
    window: int
    shift: int

    @nn.compact
    def __call__(self, x):
        b, h, wd, c = x.shape
        w, s = min(self.window, h), (self.shift if self.window < h else 0)
        y = nn.LayerNorm()(x)
        if s:
            y = jnp.roll(y, (-s, -s), axis=(1, 2))
        win = _windows(y, w)
        mask = None
        if s:
            m = _shift_mask(h, wd, w, s)
            mask = jnp.tile(m, (b, 1, 1, 1))
        y = _unwindows(Attention(self.heads, window_bias=w)(win, mask), w, b, h, wd)
        if s:
            y = jnp.roll(y, (s, s), axis=(1, 2))
        x = x + y
        return x + nn.Dense(c)(nn.gelu(nn.Dense(4 * c)(nn.LayerNorm()(x))))


class SwinT(nn.Module):
    """Swin-T (Liu et al. 2021): patch 4, C=96, depths (2, 2, 6, 2), heads (3, 6, 12, 24)."""

    dim: int = 96
    depths: tuple[int, ...] = (2, 2, 6, 2)
    heads: tuple[int, ...] = (3, 6, 12, 24)
    window: int = 7
    classes: int = 1000

    @nn.compact
    def __call__(self, x):
        x = nn.LayerNorm()(nn.Conv(self.dim, (4, 4), (4, 4))(x))
        for i, (depth, heads) in enumerate(zip(self.depths, self.heads, strict=True)):
            for j in range(depth):
                x = SwinBlock(heads, self.window, self.window // 2 if j % 2 else 0)(x)
            if i < len(self.depths) - 1:  # patch merging
                x = jnp.concatenate([x[:, 0::2, 0::2], x[:, 1::2, 0::2],
                                     x[:, 0::2, 1::2], x[:, 1::2, 1::2]], axis=-1)
                x = nn.Dense(x.shape[-1] // 2, use_bias=False)(nn.LayerNorm()(x))
        x = nn.LayerNorm()(x)
        return nn.Dense(self.classes)(jnp.mean(x, axis=(1, 2)))


class BiLSTM(nn.Module):
    """Bidirectional LSTM classifier, unrolled over time (as an eager framework runs it)."""

    vocab: int = 10000
    embed: int = 256
    hidden: int = 512
    layers: int = 2
    classes: int = 2

    @nn.compact
    def __call__(self, ids):
        x = nn.Embed(self.vocab, self.embed)(ids)
        steps = ids.shape[1]
        for _ in range(self.layers):
            outs = []
            for reverse in (False, True):
                # All steps' input projections at once, then unbound into steps (one split, whose
                # gradient is one concatenation, as an eager framework's unbind has).
                wx = jnp.split(nn.Dense(4 * self.hidden)(x), steps, axis=1)
                wh = nn.Dense(4 * self.hidden, use_bias=False)
                h = c = jnp.zeros((ids.shape[0], self.hidden), x.dtype)
                hs = [None] * steps
                for t in (reversed(range(steps)) if reverse else range(steps)):
                    g = wx[t][:, 0] + wh(h)
                    i, f, o, u = jnp.split(g, 4, axis=-1)
                    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(u)
                    h = jax.nn.sigmoid(o) * jnp.tanh(c)
                    hs[t] = h
                outs.append(jnp.stack(hs, axis=1))
            x = jnp.concatenate(outs, axis=-1)
        return nn.Dense(self.classes)(jnp.mean(x, axis=1))


# -- steps ---------------------------------------------------------------------------------------

# name -> (model factory, batch input shape, input dtype)
MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...], Any]] = {
    "resnet50": (lambda: ResNet((3, 4, 6, 3)), (115, 224, 224, 3), jnp.float32),
    "resnet152": (lambda: ResNet((3, 8, 36, 3)), (55, 224, 224, 3), jnp.float32),
    "inception-v3": (InceptionV3, (96, 299, 299, 3), jnp.float32),
    "unet": (UNet, (5, 512, 512, 3), jnp.float32),
    "bert-large": (Bert, (8, 512), jnp.int32),
    "swin-t": (SwinT, (40, 224, 224, 3), jnp.float32),
    "bilstm": (BiLSTM, (2048, 64), jnp.int32),
    "densenet121": (DenseNet, (70, 224, 224, 3), jnp.float32),
}


def train_step(model: nn.Module, x: jax.ShapeDtypeStruct, *, learning_rate: float = 0.1):
    """`(step_fn, example_args)` for one SGD-momentum step of `model` on a batch like `x`.

    Labels are one class per example, or per position/pixel when the model's output keeps
    those axes (BERT's masked LM, U-Net's segmentation)."""
    variables = jax.eval_shape(model.init, jax.random.key(0), x)
    params = variables["params"]
    stats = {k: v for k, v in variables.items() if k != "params"}
    opt = optax.sgd(learning_rate, momentum=0.9)
    opt_state = jax.eval_shape(opt.init, params)
    out = jax.eval_shape(lambda v, x: model.apply(v, x, mutable=list(stats)), variables, x)[0]
    labels = jax.ShapeDtypeStruct(out.shape[:-1], jnp.int32)

    def step(params, stats, opt_state, x, labels):
        def loss_fn(params):
            logits, new_stats = model.apply({"params": params, **stats}, x, mutable=list(stats))
            loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
            return loss, new_stats

        (loss, new_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), new_stats, opt_state, loss

    return step, (params, stats, opt_state, x, labels)


def model_step(name: str):
    """`(step_fn, example_args)` of a built-in model (`MODELS`), or of a user factory named
    `package.module:factory` or `path/to/file.py:factory` (a no-argument function returning
    `(step_fn, example_args)`)."""
    if name in MODELS:
        factory, shape, dtype = MODELS[name]
        return train_step(factory(), jax.ShapeDtypeStruct(shape, dtype))
    return _user_factory(name)()


def _user_factory(spec: str) -> Callable[[], tuple]:
    known = ", ".join(MODELS)
    if ":" not in spec:
        raise ValueError(f"unknown model {spec!r}: expected one of {known}, or "
                         f"package.module:factory or path/to/file.py:factory")
    where, _, attr = spec.rpartition(":")
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise FileNotFoundError(f"model file {path} not found (from --model {spec})")
        module_name = f"_jaxhin_user_model_{abs(hash(path.resolve()))}"
        loader = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(loader)
        sys.modules[module_name] = module
        loader.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as err:
            raise ValueError(f"cannot import {where!r} (from --model {spec}): {err}") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ValueError(f"{where} has no callable {attr!r} (from --model {spec})")

    def checked():
        result = factory()
        if (not isinstance(result, tuple) or len(result) != 2 or not callable(result[0])
                or not isinstance(result[1], tuple)):
            raise ValueError(f"{spec} must return (step_fn, example_args) with example_args a "
                             f"tuple of arrays or jax.ShapeDtypeStructs; got {type(result)}")
        return result

    return checked
