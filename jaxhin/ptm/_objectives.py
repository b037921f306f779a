"""Self-supervised objectives: causal LM (GPT), masked LM (BERT), replaced-token detection
(ELECTRA).

CLM: predict token t+1 from tokens <= t, mean cross-entropy over every position.
MLM (Devlin et al. 2019): choose 15% of positions; of those, 80% become `<mask>`, 10% a random
token, 10% stay; predict the original tokens at the chosen positions only. The number of chosen
positions per sequence is fixed (round(0.15 T)) so shapes are static, and the model computes
logits only there (`Transformer(..., positions=...)`), which saves the (B, T, V) logits.
RTD (Clark et al. 2020): a small generator, trained by MLM on inputs whose chosen positions are
all `<mask>`, proposes a token at each chosen position by sampling its own distribution; the
discriminator reads the sequence with those samples in place and predicts, at every position,
whether its token is the original one. A sample that happens to equal the original counts as
original. The sampling passes no gradient, so the generator learns only from its MLM loss; the
loss is `mlm + weight * detection` (weight 50, the paper's). Every position teaches the
discriminator, not only the 15% MLM sees: the survey's example of a more sample-efficient
objective (at the 6,000 CPU steps the README measures, it is not: its detector stays near the
replaced share's log-loss and a probe of it scores below an untrained network's).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax


def clm_loss(logits: jax.Array, targets: jax.Array) -> jax.Array:
    """Mean next-token cross-entropy; `logits` (B, T, V) float, `targets` (B, T) int."""
    return optax.softmax_cross_entropy_with_integer_labels(
        logits.astype(jnp.float32), targets).mean()


def mlm_count(seq_len: int, rate: float = 0.15) -> int:
    """Positions chosen per sequence."""
    return max(1, round(rate * seq_len))


def mlm_inputs(key: jax.Array, ids: jax.Array, *, mask_id: int, vocab_size: int,
               rate: float = 0.15, protected: jax.Array | None = None,
               mask_share: float = 0.8, random_share: float = 0.1):
    """BERT's corruption of `ids` (B, T).

    Returns `(inputs, positions, targets)`: the corrupted ids (B, T), the chosen positions
    (B, M) and the original ids there (B, M). `protected` (B, T) bool marks positions never
    chosen (padding, `<cls>`); at least M positions per row must be unprotected. Of the chosen
    positions, `mask_share` become `mask_id`, `random_share` a random token and the rest stay
    (BERT: 0.8, 0.1; ELECTRA's generator: 1, 0).
    """
    b, t = ids.shape
    m = mlm_count(t, rate)
    k_pos, k_kind, k_rand = jax.random.split(key, 3)
    score = jax.random.uniform(k_pos, (b, t))
    if protected is not None:
        score = jnp.where(protected, 2.0, score)
    positions = jnp.argsort(score, axis=1)[:, :m]                          # (B, M)
    targets = jnp.take_along_axis(ids, positions, axis=1)
    kind = jax.random.uniform(k_kind, (b, m))
    random_ids = jax.random.randint(k_rand, (b, m), 0, vocab_size)
    new = jnp.where(kind < mask_share, mask_id,
                    jnp.where(kind < mask_share + random_share, random_ids, targets))
    rows = jnp.arange(b)[:, None]
    inputs = ids.at[rows, positions].set(new)
    return inputs, positions, targets


def replace_tokens(key: jax.Array, ids: jax.Array, positions: jax.Array,
                   generator_logits: jax.Array):
    """ELECTRA's corrupted input: a token sampled from `generator_logits` (B, M, V) at each
    chosen position (B, M) of `ids` (B, T), with no gradient through the sampling. Returns
    `(inputs, replaced)`: the ids the discriminator reads (B, T) and whether each differs from
    the original (B, T) bool, its labels."""
    sampled = jax.random.categorical(key, jax.lax.stop_gradient(
        generator_logits.astype(jnp.float32)), axis=-1).astype(ids.dtype)
    inputs = ids.at[jnp.arange(ids.shape[0])[:, None], positions].set(sampled)
    return inputs, inputs != ids


def detection_loss(logits: jax.Array, replaced: jax.Array) -> jax.Array:
    """Mean binary cross-entropy of replaced-token logits (B, T) against labels (B, T)."""
    return optax.sigmoid_binary_cross_entropy(logits.astype(jnp.float32),
                                              replaced.astype(jnp.float32)).mean()


class DetectionHead(nn.Module):
    """ELECTRA's discriminator head on the backbone's final states (B, T, D): dense, GELU, one
    logit per token (B, T)."""

    width: int

    @nn.compact
    def __call__(self, h: jax.Array) -> jax.Array:
        init = nn.initializers.normal(0.02)
        h = nn.gelu(nn.Dense(self.width, kernel_init=init, name="dense")(h), approximate=False)
        return nn.Dense(1, kernel_init=init, name="logit")(h)[..., 0]
