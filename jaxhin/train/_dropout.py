"""Dropout whose mask costs a quarter of the random bits.

`flax.linen.Dropout` draws one 32-bit threefry word per element. On CPU that dominates layers
with large, cheap activations: HINormer's (batch, heads, S, S) attention maps, where drawing the
mask took longer than the attention itself (a 1217 x 2 x 50 x 50 map on two cores, same run:
83 ms for the threefry Bernoulli mask, 14 ms for this one). `ByteDropout` draws one word per four elements and compares each byte with
the keep threshold, so the drop rate is rounded to a multiple of 1/256 (0.5 is exact); kept
values are scaled by 256 / kept-bytes, which keeps the expectation exact for the rounded rate.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


class ByteDropout(nn.Module):
    """Inverted dropout with a byte-granular mask (see the module docstring).

    Attributes:
      rate: drop probability, rounded to a multiple of 1/256.
      deterministic: if True, the identity (as `flax.linen.Dropout`).
      rng_collection: the PRNG stream the mask draws from.
    """

    rate: float
    deterministic: bool | None = None
    rng_collection: str = "dropout"

    @nn.compact
    def __call__(self, x: jax.Array, deterministic: bool | None = None) -> jax.Array:
        deterministic = nn.merge_param("deterministic", self.deterministic, deterministic)
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"ByteDropout: rate must be in [0, 1], got {self.rate}")
        keep = round((1.0 - self.rate) * 256)  # kept bytes out of 256
        if deterministic or keep == 256:
            return x
        if keep == 0:
            return jnp.zeros_like(x)
        words = -(-x.size // 4)
        bits = jax.random.bits(self.make_rng(self.rng_collection), (words,), jnp.uint32)
        byte = jax.lax.bitcast_convert_type(bits, jnp.uint8).reshape(-1)[:x.size]
        mask = byte.reshape(x.shape) < keep
        return jnp.where(mask, x * (256.0 / keep), jnp.zeros_like(x))
