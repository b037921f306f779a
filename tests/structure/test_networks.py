"""The networks a structure is judged by: the sparse masked layer equals its dense definition,
the im2col convolution equals Flax's, and the one training recipe learns."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxhin.structure import (
    MLP,
    MaskedDense,
    MaskedNet,
    TrainConfig,
    count_params,
    equal_mlp_width,
    train_classifier,
)
from jaxhin.structure._networks import PatchConv


def test_masked_dense_equals_kron_masked_dense_matmul():
    key = jax.random.key(0)
    mask = np.array(jax.random.bernoulli(key, 0.3, (6, 4)))
    mask[:, 3] = False                                   # a unit with no input: bias only
    layer = MaskedDense(mask, channels=3)
    x = jax.random.normal(jax.random.fold_in(key, 1), (5, 6, 2))
    params = layer.init(key, x)
    out = layer.apply(params, x)
    # Rebuild the dense (6*2, 4*3) kernel the layer stands for, and apply it.
    rows, cols = np.nonzero(mask)
    kernel = np.asarray(params["params"]["kernel"])
    fan_in = np.bincount(cols, minlength=4) * 2
    dense = np.zeros((6, 2, 4, 3), np.float32)
    for p, (i, k) in enumerate(zip(rows, cols, strict=True)):
        dense[i, :, k, :] = kernel[p] * np.sqrt(2.0 / fan_in[k])
    ref = np.asarray(x).reshape(5, 12) @ dense.reshape(12, 12)
    np.testing.assert_allclose(np.asarray(out).reshape(5, 12), ref, atol=1e-5)
    np.testing.assert_allclose(out[:, 3], 0.0)
    assert count_params(params) == mask.sum() * 2 * 3 + 4 * 3


def test_unconnected_pixels_do_not_change_the_output():
    mask = np.zeros((16, 3), bool)
    mask[:6, 0] = mask[4:10, 1] = mask[2:8, 2] = True    # pixels 10..15 connect to nothing
    net = MaskedNet((mask,), (2,), 4)
    images = jax.random.uniform(jax.random.key(1), (3, 4, 4))
    params = net.init(jax.random.key(2), images)
    moved = images.at[:, 3, :].set(5.0)                  # pixels 12..15
    np.testing.assert_allclose(net.apply(params, images), net.apply(params, moved))


def test_patch_conv_equals_flax_conv():
    x = jax.random.normal(jax.random.key(3), (2, 9, 7, 3))
    conv = nn.Conv(4, (5, 5), padding="SAME")
    params = conv.init(jax.random.key(4), x)
    kernel = params["params"]["kernel"]                  # (5, 5, 3, 4)
    patch_params = {"params": {"Dense_0": {"kernel": kernel.reshape(75, 4),
                                           "bias": params["params"]["bias"]}}}
    np.testing.assert_allclose(PatchConv(4).apply(patch_params, x), conv.apply(params, x),
                               atol=1e-5)


def test_equal_mlp_width_matches_the_parameter_count():
    width = equal_mlp_width(20000, 64, 10)
    params = MLP((width,), 10).init(jax.random.key(0), jnp.zeros((1, 8, 8)))
    assert abs(count_params(params) - 20000) <= 75


def test_training_recipe_learns_a_separable_task():
    key = jax.random.key(5)
    labels = jax.random.randint(key, (512,), 0, 4)
    # Class c lights up quadrant c of an 8x8 image, plus noise.
    quadrant = jnp.zeros((4, 8, 8))
    for c, (r, q) in enumerate(((0, 0), (0, 4), (4, 0), (4, 4))):
        quadrant = quadrant.at[c, r:r + 4, q:q + 4].set(1.0)
    images = quadrant[labels] + 0.3 * jax.random.normal(jax.random.fold_in(key, 1), (512, 8, 8))
    images, labels = np.asarray(images), np.asarray(labels)
    _, (acc,) = train_classifier(key, MLP((16,), 4), (images[:384], labels[:384]),
                                 TrainConfig(epochs=5, batch_size=32, shift=0),
                                 [(images[384:], labels[384:])])
    assert acc > 0.95


def test_cnn_channels_match_lenet_units_and_deeper_layers_keep_theirs():
    from jaxhin.structure import cnn_channels

    masks = (np.ones((784, 172), bool), np.ones((172, 305), bool), np.ones((305, 323), bool))
    # 28*28*6 / 172 = 27.3, 14*14*16 / 305 = 10.3; the third layer keeps 10.
    assert cnn_channels(masks, (28, 28)) == (27, 10, 10)
    assert cnn_channels(masks[:1], (8, 8)) == (2,)               # 8*8*6 / 172 = 2.2
