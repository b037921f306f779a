"""Benchmark graphs for the planner, written only with registered SBP ops.

They are plain functions over parameter dicts rather than Flax modules: the planner places
individual ops, so each must appear as one registered op in the traced jaxpr.
  mlp            x (N, D) -> gelu(x W1) W2
  gpt_block      pre-LayerNorm Transformer block on x (B, L, D)
  embedding_mlp  ids (N,) -> embedding -> MLP -> vocabulary logits -> mean cross-entropy
  gpt            embedding, `layers` blocks, final LayerNorm, logits, mean cross-entropy
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxhin.sbp import (
    add,
    cross_entropy,
    embedding,
    gelu,
    layernorm,
    matmul,
    mean,
    self_attention,
)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Sizes of the benchmark models.

    Attributes:
      batch: sequences (B); mlp/embedding-mlp use batch * seq tokens.
      seq: sequence length (L).
      width: model width (D).
      heads: attention heads (H); head size is width // heads.
      hidden: MLP hidden width (4 D in GPT).
      vocab: vocabulary size (V).
      layers: GPT blocks.
    """

    batch: int = 8
    seq: int = 256
    width: int = 1024
    heads: int = 16
    hidden: int = 4096
    vocab: int = 8192
    layers: int = 12


def _normal(key, shape, scale):
    return scale * jax.random.normal(key, shape, jnp.float32)


def mlp_params(key, cfg: ModelConfig) -> dict:
    k1, k2 = jax.random.split(key)
    return {"w1": _normal(k1, (cfg.width, cfg.hidden), cfg.width ** -0.5),
            "w2": _normal(k2, (cfg.hidden, cfg.width), cfg.hidden ** -0.5)}


def mlp(params: dict, x: jax.Array) -> jax.Array:
    """x (N, D) -> (N, D)."""
    return matmul(gelu(matmul(x, params["w1"])), params["w2"])


def gpt_block_params(key, cfg: ModelConfig) -> dict:
    k1, k2, k3 = jax.random.split(key, 3)
    d, h = cfg.width, cfg.heads
    return {"ln1_scale": jnp.ones((d,)), "ln1_bias": jnp.zeros((d,)),
            "w_qkv": _normal(k1, (d, 3, h, d // h), d ** -0.5),
            "w_o": _normal(k2, (h, d // h, d), d ** -0.5),
            "ln2_scale": jnp.ones((d,)), "ln2_bias": jnp.zeros((d,)),
            **mlp_params(k3, cfg)}


def gpt_block(params: dict, x: jax.Array) -> jax.Array:
    """Pre-LN block: x + attn(ln(x)), then + mlp(ln(x)); x (B, L, D)."""
    h = layernorm(x, params["ln1_scale"], params["ln1_bias"])
    x = add(x, self_attention(h, params["w_qkv"], params["w_o"]))
    h = layernorm(x, params["ln2_scale"], params["ln2_bias"])
    return add(x, mlp(params, h))


def embedding_mlp_params(key, cfg: ModelConfig) -> dict:
    k1, k2, k3 = jax.random.split(key, 3)
    return {"table": _normal(k1, (cfg.vocab, cfg.width), 1.0), **mlp_params(k2, cfg),
            "w_out": _normal(k3, (cfg.width, cfg.vocab), cfg.width ** -0.5)}


def embedding_mlp(params: dict, ids: jax.Array, labels: jax.Array) -> jax.Array:
    """ids, labels (N,) int32 -> mean cross-entropy of next-token logits."""
    h = mlp(params, embedding(params["table"], ids))
    return mean(cross_entropy(matmul(h, params["w_out"]), labels))


def gpt_params(key, cfg: ModelConfig) -> dict:
    keys = jax.random.split(key, cfg.layers + 2)
    return {"wte": _normal(keys[0], (cfg.vocab, cfg.width), 0.02),
            "blocks": [gpt_block_params(k, cfg) for k in keys[2:]],
            "lnf_scale": jnp.ones((cfg.width,)), "lnf_bias": jnp.zeros((cfg.width,)),
            "w_out": _normal(keys[1], (cfg.width, cfg.vocab), cfg.width ** -0.5)}


def gpt(params: dict, ids: jax.Array, labels: jax.Array) -> jax.Array:
    """ids, labels (B, L) int32 -> mean next-token cross-entropy."""
    x = embedding(params["wte"], ids)
    for block in params["blocks"]:
        x = gpt_block(block, x)
    x = layernorm(x, params["lnf_scale"], params["lnf_bias"])
    return mean(cross_entropy(matmul(x, params["w_out"]), labels))


def benchmark(name: str, cfg: ModelConfig, key=None):
    """Return `(fn, args, data_inputs)` of a benchmark graph; `data_inputs` are the pytree
    paths of the batch arguments (the rest are parameters).

    Args are `jax.ShapeDtypeStruct`s unless `key` is given (then real arrays).
    """
    tokens = cfg.batch * cfg.seq
    real = key is not None
    key = key if real else jax.random.key(0)
    kp, kx, ky = jax.random.split(key, 3)

    def data(shape, dtype=jnp.float32, high=None):
        if not real:
            return jax.ShapeDtypeStruct(shape, dtype)
        if high is not None:
            return jax.random.randint(kx if dtype is jnp.int32 else ky, shape, 0, high)
        return jax.random.normal(kx, shape, dtype)

    def params(init):
        return init(kp, cfg) if real else jax.eval_shape(lambda k: init(k, cfg), kp)

    if name == "mlp":
        return mlp, (params(mlp_params), data((tokens, cfg.width))), ("[1]",)
    if name == "gpt-block":
        return (gpt_block, (params(gpt_block_params), data((cfg.batch, cfg.seq, cfg.width))),
                ("[1]",))
    if name == "embedding-mlp":
        ids = data((tokens,), jnp.int32, cfg.vocab)
        labels = (jax.random.randint(ky, (tokens,), 0, cfg.vocab) if real
                  else jax.ShapeDtypeStruct((tokens,), jnp.int32))
        return embedding_mlp, (params(embedding_mlp_params), ids, labels), ("[1]", "[2]")
    if name == "gpt":
        ids = data((cfg.batch, cfg.seq), jnp.int32, cfg.vocab)
        labels = (jax.random.randint(ky, (cfg.batch, cfg.seq), 0, cfg.vocab) if real
                  else jax.ShapeDtypeStruct((cfg.batch, cfg.seq), jnp.int32))
        return gpt, (params(gpt_params), ids, labels), ("[1]", "[2]")
    raise ValueError(f"unknown model {name!r}; expected mlp, gpt-block, embedding-mlp or gpt")
