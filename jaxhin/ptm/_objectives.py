"""Self-supervised objectives: causal LM (GPT) and masked LM (BERT).

CLM: predict token t+1 from tokens <= t, mean cross-entropy over every position.
MLM (Devlin et al. 2019): choose 15% of positions; of those, 80% become `<mask>`, 10% a random
token, 10% stay; predict the original tokens at the chosen positions only. The number of chosen
positions per sequence is fixed (round(0.15 T)) so shapes are static, and the model computes
logits only there (`Transformer(..., positions=...)`), which saves the (B, T, V) logits.
"""

from __future__ import annotations

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
               rate: float = 0.15, protected: jax.Array | None = None):
    """BERT's corruption of `ids` (B, T).

    Returns `(inputs, positions, targets)`: the corrupted ids (B, T), the chosen positions
    (B, M) and the original ids there (B, M). `protected` (B, T) bool marks positions never
    chosen (padding, `<cls>`); at least M positions per row must be unprotected.
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
    new = jnp.where(kind < 0.8, mask_id, jnp.where(kind < 0.9, random_ids, targets))
    rows = jnp.arange(b)[:, None]
    inputs = ids.at[rows, positions].set(new)
    return inputs, positions, targets
