"""The backbone: a pre-LayerNorm Transformer (GPT-2 / nanoGPT layout) in Flax Linen.

    h_0 = E[x] (+ P[pos] with learned positions)
    h_l = h_{l-1} + Attn(LN(h_{l-1})),  h_l = h_l + W_2 gelu(W_1 LN(h_l))
    logits = LN(h_L) E^T                 (tied input and output embeddings)

as GPT-2 and nanoGPT define it: exact (erf) GELU, LayerNorm epsilon 1e-5, N(0, 0.02) weights
with the residual projections scaled by 1 / sqrt(2 N). With `norm="post"` the same blocks take
BERT's post-LayerNorm order, so published BERT-family weights load into it (`load_bert`):

    h_0 = LN(E[x] + P[pos] + T[0])
    h_l = LN(h_{l-1} + Attn(h_{l-1})),  h_l = LN(h_l + W_2 gelu(W_1 h_l))      (no final LN)

Attention is causal (GPT, CLM) or bidirectional (BERT, MLM); positions are learned or rotary
(RoPE: q and k rotated by position-dependent angles, no position table). Layers run under
`nn.scan` (parameters stacked on a leading axis; the loop unrolled unless remat is asked)
and, when asked, under `nn.remat` with a `jax.checkpoint` policy. Each block `sow`s its
attention probabilities and its output in the "intermediates" collection for analysis, and a
head mask can switch heads off. Parameters are float32; `dtype="bfloat16"` computes in bfloat16 where the device gains
from it (logits and the loss stay float32).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax.ad_checkpoint import checkpoint_name

from jaxhin.train import check_at_least, dense_dot

# The block intermediates tagged with `checkpoint_name`, in the order a block makes them.
BLOCK_NAMES = ("ln_1", "qkv", "scores", "probs", "context", "attn_proj", "ln_2", "mlp_in",
               "mlp_act")

# The kernels' gradients as products over the token rows (`jaxhin.train.dense_dot`): the 4 x 128
# recipe's training step, 51.0 -> 45.9 ms on 2 CPU cores (medians of 9 in one process, same
# losses).
_DENSE_DOT = dense_dot()

REMAT_POLICIES: dict[str, Callable | None] = {
    "none": None,
    "full": jax.checkpoint_policies.nothing_saveable,
    "dots": jax.checkpoint_policies.dots_saveable,
    "dots_no_batch": jax.checkpoint_policies.dots_with_no_batch_dims_saveable,
}


@dataclasses.dataclass(frozen=True)
class TransformerConfig:
    """Hyper-parameters of the backbone (defaults: nanoGPT's shakespeare_char CPU recipe).

    Attributes:
      vocab_size: tokens (V).
      width: model width (D); heads: attention heads (H); hidden: MLP width (4 D if None).
      layers: blocks (N); max_len: longest sequence (T).
      causal: GPT's causal mask (True) or BERT's bidirectional attention (False).
      positions: "learned" (a T x D table) or "rotary".
      dropout: on attention probabilities and residual branches, when training.
      bias: biases in Dense layers and LayerNorms (nanoGPT's CPU recipe has none).
      dtype: compute dtype, "float32" or "bfloat16" (parameters stay float32).
      remat: `REMAT_POLICIES` key: "none", "full", "dots", "dots_no_batch", or "names": save
        only the block intermediates `remat_names` (of `BLOCK_NAMES`), recompute the rest
        (`ptm.remat_plan` chooses them with jaxhin.remat's Coop simulator).
      scan: blocks under `nn.scan` (parameters stacked on a leading axis); False builds
        them one by one (parameters `block_0`, ...), the eager program jaxhin.remat traces.
      unroll: blocks per iteration of the scanned loop (`lax.scan`'s `unroll`); None unrolls
        all of them unless a remat policy is set, where the loop stays rolled (1). The
        parameters and the function are the same either way (to float rounding); unrolled,
        XLA fuses and schedules across blocks (8-13% less time per step for the 4 x 128
        recipe on XLA:CPU), and on XLA:CPU a rolled loop is what keeps remat's
        recomputation from being merged back.
      norm: "pre" (GPT-2: LayerNorm before each branch, one after the last block) or "post"
        (BERT: LayerNorm after each residual sum and over the embeddings, none at the end).
      ln_eps: LayerNorm epsilon (GPT-2 1e-5, BERT 1e-12).
      type_vocab: BERT's segment-embedding rows (0: none); sentences use segment 0.
    """

    vocab_size: int
    width: int = 128
    layers: int = 4
    heads: int = 4
    hidden: int | None = None
    max_len: int = 64
    causal: bool = True
    positions: str = "learned"
    dropout: float = 0.0
    bias: bool = False
    dtype: str = "float32"
    remat: str = "none"
    norm: str = "pre"
    ln_eps: float = 1e-5
    type_vocab: int = 0
    remat_names: tuple[str, ...] = ()
    scan: bool = True
    unroll: int | None = None

    def __post_init__(self):
        # a tuple, also when read back from model.json (a list): the config is a jit static
        object.__setattr__(self, "remat_names", tuple(self.remat_names))
        check_at_least(self, 1, "vocab_size", "width", "layers", "heads", "max_len")
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if self.positions not in ("learned", "rotary"):
            raise ValueError(f"positions must be learned or rotary, got {self.positions!r}")
        if self.positions == "rotary" and (self.width // self.heads) % 2:
            raise ValueError("rotary positions need an even head size")
        if self.dtype not in ("float32", "bfloat16"):
            raise ValueError(f"dtype must be float32 or bfloat16, got {self.dtype!r}")
        if self.remat not in (*REMAT_POLICIES, "names"):
            raise ValueError(f"remat must be one of {', '.join(REMAT_POLICIES)} or names, "
                             f"got {self.remat!r}")
        if set(self.remat_names) - set(BLOCK_NAMES) or (self.remat_names
                                                        and self.remat != "names"):
            raise ValueError(f"remat_names {self.remat_names!r}: expected names from "
                             f"{BLOCK_NAMES} with remat='names'")
        if self.norm not in ("pre", "post"):
            raise ValueError(f"norm must be pre or post, got {self.norm!r}")
        if self.ln_eps <= 0 or self.type_vocab < 0:
            raise ValueError(f"ln_eps must be > 0 and type_vocab >= 0, got {self.ln_eps}, "
                             f"{self.type_vocab}")
        if self.unroll is not None and not 1 <= self.unroll <= self.layers:
            raise ValueError(f"unroll must be None or in [1, layers={self.layers}], "
                             f"got {self.unroll}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def mlp_width(self) -> int:
        return self.hidden or 4 * self.width

    @property
    def scan_unroll(self) -> int:
        """Blocks per iteration of the scanned loop (`unroll` resolved)."""
        if self.unroll is not None:
            return self.unroll
        return 1 if self.remat != "none" else self.layers


def _init(std: float = 0.02):
    return nn.initializers.normal(std)


def rotary(x: jax.Array) -> jax.Array:
    """Rotate pairs of features of `x` (B, T, H, d) by angles pos / 10000^(2i/d) (RoPE)."""
    _, t, _, d = x.shape
    inv = 1.0 / (10000 ** (jnp.arange(0, d, 2, dtype=jnp.float32) / d))
    angles = jnp.arange(t, dtype=jnp.float32)[:, None] * inv[None, :]      # (T, d/2)
    cos = jnp.cos(angles)[None, :, None, :].astype(x.dtype)
    sin = jnp.sin(angles)[None, :, None, :].astype(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return jnp.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1).reshape(x.shape)


class Block(nn.Module):
    """One block; a scan body `(h, (mask, head_mask)) -> (h, None)`: `mask` (B, T) marks real
    tokens (or None) and is the same for every layer; `head_mask` (H,) is this layer's row of
    the (N, H) head mask (or None), which scales each head's output (Michel et al. 2019)."""

    config: TransformerConfig
    train: bool = False

    @nn.compact
    def __call__(self, h, masks=(None, None)):
        mask, head_mask = masks
        cfg = self.config
        dtype = jnp.dtype(cfg.dtype)
        b, t, d = h.shape
        heads, hd = cfg.heads, d // cfg.heads
        proj_init = _init(0.02 / (2 * cfg.layers) ** 0.5)  # GPT-2's scaled residual init
        pre = cfg.norm == "pre"

        def dense(features, name, init=None):
            return nn.Dense(features, use_bias=cfg.bias, dtype=dtype,
                            kernel_init=init or _init(), name=name,
                            dot_general=_DENSE_DOT)

        def norm(x, name):
            return nn.LayerNorm(epsilon=cfg.ln_eps, use_bias=cfg.bias, dtype=dtype, name=name)(x)

        def drop(x):
            return nn.Dropout(cfg.dropout, deterministic=not self.train)(x)

        x = checkpoint_name(norm(h, "ln_1"), "ln_1") if pre else h
        qkv = checkpoint_name(dense(3 * d, "attn_qkv")(x), "qkv").reshape(b, t, 3, heads, hd)
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        if cfg.positions == "rotary":
            q, k = rotary(q), rotary(k)
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k).astype(jnp.float32) * hd ** -0.5
        keep = jnp.ones((1, 1, t, t), bool)
        if cfg.causal:
            keep = jnp.tril(keep)
        if mask is not None:
            keep = keep & mask[:, None, None, :]
        if cfg.causal or mask is not None:
            scores = jnp.where(keep, scores, jnp.finfo(jnp.float32).min)
        probs = checkpoint_name(jax.nn.softmax(checkpoint_name(scores, "scores"), axis=-1),
                                "probs")
        self.sow("intermediates", "attention", probs)
        out = jnp.einsum("bhqk,bkhd->bqhd", drop(probs).astype(dtype), v)
        if head_mask is not None:
            out = out * head_mask.astype(dtype)[None, None, :, None]
        out = checkpoint_name(out.reshape(b, t, d), "context")
        h = h + drop(checkpoint_name(dense(d, "attn_out", proj_init)(out), "attn_proj")
                     ).astype(h.dtype)
        if pre:
            x = checkpoint_name(norm(h, "ln_2"), "ln_2")
        else:
            h = x = norm(h, "ln_1").astype(h.dtype)
        x = checkpoint_name(dense(cfg.mlp_width, "mlp_in")(x), "mlp_in")
        x = dense(d, "mlp_out", proj_init)(checkpoint_name(nn.gelu(x, approximate=False),
                                                           "mlp_act"))
        h = h + drop(x).astype(h.dtype)
        if not pre:
            h = norm(h, "ln_2").astype(h.dtype)
        self.sow("intermediates", "hidden", h)
        return h, None


class Transformer(nn.Module):
    """`Transformer(config)(ids)` -> logits (B, T, V); with `positions` (B, M), the logits at
    those positions only (B, M, V), as MLM needs; with `hidden=True`, the final hidden states
    (B, T, D) (after the last LayerNorm). `mask` (B, T) marks real tokens: padded keys get no
    attention (BERT's attention mask). `head_mask` (N, H) scales each head's output (1 keeps,
    0 removes a head). With `mutable=["intermediates"]`, the embedding layer's output
    (B, T, D), each block's attention probabilities (N, B, H, T, T) and each block's output
    (N, B, T, D) come back as "embedded", "attention" and "hidden"."""

    config: TransformerConfig

    @nn.compact
    def __call__(self, ids, *, train: bool = False, positions=None, hidden: bool = False,
                 mask=None, head_mask=None):
        cfg = self.config
        t = ids.shape[1]
        if t > cfg.max_len:
            raise ValueError(f"sequence of {t} tokens is longer than max_len {cfg.max_len}")
        embed = nn.Embed(cfg.vocab_size, cfg.width, embedding_init=_init(), name="wte")
        h = embed(ids)
        if cfg.positions == "learned":
            table = self.param("wpe", _init(), (cfg.max_len, cfg.width))
            h = h + table[None, :t]
        if cfg.type_vocab:
            h = h + self.param("wtt", _init(), (cfg.type_vocab, cfg.width))[0][None, None]
        if cfg.norm == "post":
            h = nn.LayerNorm(epsilon=cfg.ln_eps, use_bias=cfg.bias, name="ln_e")(h)
        self.sow("intermediates", "embedded", h)
        h = nn.Dropout(cfg.dropout, deterministic=not train)(h)
        block = Block
        policy = (jax.checkpoint_policies.save_only_these_names(*cfg.remat_names)
                  if cfg.remat == "names" else REMAT_POLICIES[cfg.remat])
        if cfg.remat != "none":
            block = nn.remat(Block, policy=policy, prevent_cse=False, static_argnums=())
        if head_mask is not None and head_mask.shape != (cfg.layers, cfg.heads):
            raise ValueError(f"head_mask must be (layers, heads) = ({cfg.layers}, {cfg.heads}), "
                             f"got {head_mask.shape}")
        if cfg.scan:
            blocks = nn.scan(block, variable_axes={"params": 0, "intermediates": 0},
                             split_rngs={"params": True, "dropout": True},
                             in_axes=((nn.broadcast, 0),), length=cfg.layers,
                             unroll=cfg.scan_unroll)
            h, _ = blocks(cfg, train, name="blocks")(h, (mask, head_mask))
        else:
            for i in range(cfg.layers):
                h, _ = block(cfg, train, name=f"block_{i}")(
                    h, (mask, None if head_mask is None else head_mask[i]))
        h = h.astype(jnp.float32)
        if cfg.norm == "pre":
            h = nn.LayerNorm(epsilon=cfg.ln_eps, use_bias=cfg.bias, name="ln_f")(h)
        if hidden:
            return h
        if positions is not None:
            h = jnp.take_along_axis(h, positions[..., None], axis=1)
        return embed.attend(h)


def count_params(params) -> int:
    """Number of parameters (tied embeddings counted once)."""
    return int(sum(x.size for x in jax.tree.leaves(params)))
