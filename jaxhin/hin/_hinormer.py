"""HINormer (Mao et al., WWW 2023): a graph Transformer over each target node's context.

For a target node v: a context sequence s(v) = [v, neighbours of v, neighbours of the next
node in the sequence, ...] of fixed length S (`context_sequences`, sampled once per seed);

- local structure encoder: `gnn_layers` GCN layers over the whole graph, h = GCN^k(x W_type);
- heterogeneous relation encoder: r^0 = onehot(type), r^{l+1} = ELU(D^-1/2 A D^-1/2 (w_type
  * r^l) W + b), so r encodes the type mix of a node's neighbourhood;
- heterogeneity-aware Transformer layers on [h_u for u in s(v)]: per head
  score_ij = a_l^T LeakyReLU(W_l h_i) + a_r^T LeakyReLU(W_r h_j) + beta (W_s r_i) . (W_t r_j),
  softmax_j(score / temperature), h <- LayerNorm(h + W_o sum_j alpha_ij W_r h_j);
- readout: the first token (v itself), a linear layer, L2-normalised logits.

The Transformer layers' linear maps start from PyTorch's nn.Linear initialisation, as in the
reference code (Ffffffffire/HINormer); Flax's default has three times the variance, and with
it the README's DBLP-HGB line scored 92.6 instead of 94.7 validation Micro-F1 (seed 0). The
LayerNorm epsilon (1e-5) and the readout's bias initialisation are PyTorch's too.

The first Transformer layer applies its linear maps to node rows and gathers the tokens after
(exact, and cheaper when there are more tokens than nodes: a DBLP training step went from 2.33
to 1.89 s on 2 CPU cores), the last computes only the first token's output (the readout reads
nothing else), and dropout draws byte-granular masks (`jaxhin.train.ByteDropout`): on CPU the
(batch, heads, S, S) attention-dropout mask otherwise costs more than the attention.
The three score terms are one (T + 2)-deep product per head, <u_i, v_j> with
u = [a_l^T LeakyReLU(W_l h), 1, beta W_s r] and v = [1, a_r^T LeakyReLU(W_r h), W_t r], whose
backward needs no (batch, heads, S, S, T) array, and the linear maps' backward materialises the
output gradient before its two products (`jaxhin.train.dense_dot`). Together these took a DBLP
training step from 3.89 to 2.75 s (ACM 0.57 to 0.48 s, IMDB 1.72 to 1.57 s; medians of 7 steps
on 2 CPU cores, losses equal within 1e-6): `scripts/bench_hinormer.py --baseline 2141406`.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxhin.data import FeatureSpec
from jaxhin.hin._aggregate import aggregate
from jaxhin.hin._graph import HeteroGraph
from jaxhin.hin._models import InputProjection, sym_norm, xavier_relu
from jaxhin.train import ByteDropout, dense_dot


def context_sequences(key: jax.Array, g: HeteroGraph, nodes: np.ndarray, length: int
                      ) -> np.ndarray:
    """(len(nodes), length) int32 context sequences: each row starts with its node and is
    filled breadth-first with the shuffled neighbours (self-loops excluded) of its entries in
    order; a node with no neighbours repeats itself.

    Vectorised over rows; the Python loop is over sequence positions (at most `length`).
    """
    n = g.num_nodes
    src, dst = np.asarray(g.graph.senders), np.asarray(g.graph.receivers)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))])
    degree = np.diff(indptr)
    rows = len(nodes)
    seq = np.repeat(np.asarray(nodes, np.int64)[:, None], length, axis=1)
    filled = np.ones(rows, np.int64)
    offsets = np.arange(length)
    for step in range(length - 1):
        active = (filled < length) & (step < filled)
        if not active.any():
            break
        order = np.lexsort((np.asarray(jax.random.uniform(jax.random.fold_in(key, step),
                                                          (len(src),))), src))
        shuffled = dst[order]
        start = seq[active, step]
        take = np.minimum(degree[start], length - filled[active])
        valid = offsets[None, :] < take[:, None]
        r, c = np.nonzero(valid)
        seq[np.flatnonzero(active)[r], filled[active][r] + c] = shuffled[
            np.minimum(indptr[start][r] + c, len(shuffled) - 1)]
        filled[active] += take
    return seq.astype(np.int32)


class RelationConv(nn.Module):
    """HINormer's relation encoder layer: ELU(D^-1/2 A D^-1/2 (w_{type(u)} r_u) W + b)."""

    width: int
    num_types: int

    @nn.compact
    def __call__(self, r, g: HeteroGraph, coef):
        w_type = self.param("w_type", nn.initializers.ones, (self.num_types,))
        r = nn.Dense(self.width, use_bias=False, kernel_init=nn.initializers.glorot_uniform())(
            r) * w_type[g.node_type][:, None]
        r = aggregate(r, coef, g.graph.senders, g.graph.receivers, g.num_nodes,
                      src_order=g.sender_order)
        return nn.elu(r + self.param("bias", nn.initializers.zeros, (1, self.width)))


# PyTorch's default nn.Linear kernel: uniform(+-1/sqrt(fan_in)) (a third of lecun_normal's variance)
torch_linear = nn.initializers.variance_scaling(1 / 3, "fan_in", "uniform")


def torch_bias(fan_in: int):
    """PyTorch's default nn.Linear bias: uniform(+-1/sqrt(fan_in))."""
    bound = 1 / np.sqrt(fan_in)
    return lambda key, shape, dtype=jnp.float32: jax.random.uniform(key, shape, dtype, -bound,
                                                                     bound)


# The linear maps' backward materialises the output gradient before its two products: left to
# itself, XLA on CPU fuses the whole elementwise chain that produces it (dropout masks, the
# attention backward) into a loop that writes it transposed for the kernel product,
# cache-unfriendly (in a DBLP step one such loop over 97,400 x 256 took 452 ms; a transpose of
# an array that size takes ~45 ms). The kernel product contracts the rows directly: an
# explicit x.T is a copy (55 against 9 ms when the kernel has one column, as the attention
# vectors' do).
_LINEAR_DOT = dense_dot(barrier=True)


class HeteroTransformerLayer(nn.Module):
    """One heterogeneity-aware Transformer layer over sequences (see the module docstring).

    Tokens come either as (B, S, d) features with (B, S, T) relation encodings, or, with
    `seq` (B, S) node ids, as (N, d) and (N, T) node rows, the tokens being their rows at
    `seq`. Everything before the attention is per token and linear in it, so the second form
    applies the maps to the N node rows and gathers after, which is exact (dropout acts on
    nodes before the gather) and cheaper whenever B * S > N: on DBLP's training batch, 97,400
    tokens against 26,128 nodes.
    """

    width: int
    heads: int
    dropout: float
    temperature: float
    beta: float

    @nn.compact
    def __call__(self, h, r, seq=None, *, train: bool, first_only: bool = False):
        """-> (B, S, d); with `first_only`, (B, 1, d): only the first token's output (exactly
        what the full layer gives at position 0; the readout needs nothing else)."""
        heads, t = self.heads, r.shape[-1]
        # PyTorch's nn.Linear initialisation, as the reference code's layers have
        linear = functools.partial(nn.Dense, use_bias=False, kernel_init=torch_linear,
                                   dot_general=_LINEAR_DOT)
        w_l, w_r, a_l, a_r = linear(self.width), linear(self.width), linear(1), linear(1)
        w_s, w_t, w_o = linear(t * heads), linear(t * heads), linear(self.width)

        def tokens(f, first: bool, *xs):
            """f applied per row of `xs`, at the tokens (first tokens only if `first`)."""
            if seq is None:
                return f(*(x[:, :1] if first else x for x in xs))
            at = seq[:, :1] if first else seq
            if xs[0].shape[0] < at.size:  # per node, then gathered
                return jax.tree.map(lambda y: y[at], f(*xs))
            return f(*(x[at] for x in xs))

        def split(y):  # (..., heads * k) -> (..., heads, k)
            return y.reshape(*y.shape[:-1], heads, -1)

        # score_ij = <u_i, v_j> with u = [a_l . LeakyReLU(W_l h), 1, beta W_s r] and
        # v = [1, a_r . LeakyReLU(W_r h), W_t r] per head: one (T + 2)-deep batched product
        # whose backward needs no (b, heads, q, s, T) array (see the module docstring)
        def query(x, rr):
            att = a_l(nn.leaky_relu(split(w_l(x)), 0.2))  # (..., heads, 1)
            return jnp.concatenate([att, jnp.ones_like(att), self.beta * split(w_s(rr))], -1)

        def keys(x, rr):
            fr = split(w_r(x))
            att = a_r(nn.leaky_relu(fr, 0.2))
            return fr, jnp.concatenate([jnp.ones_like(att), att, split(w_t(rr))], -1)

        q = tokens(lambda x: x, first_only, h)
        u = tokens(query, first_only, h, r)  # (b, q, heads, T + 2)
        fr, v = tokens(keys, False, h, r)  # (b, s, heads, d), (b, s, heads, T + 2)
        b = fr.shape[0]
        score = jnp.einsum("bihk,bjhk->bhij", u, v)
        alpha = jax.nn.softmax(score / self.temperature, axis=-1)
        alpha = ByteDropout(self.dropout, deterministic=not train)(alpha)
        context = jnp.einsum("bhij,bhjd->bhid", alpha, fr.transpose(0, 2, 1, 3))
        context = context.transpose(0, 2, 1, 3).reshape(b, -1, self.width)
        out = ByteDropout(self.dropout, deterministic=not train)(w_o(context))
        return nn.LayerNorm(epsilon=1e-5)(q + out)  # PyTorch's nn.LayerNorm epsilon


@dataclasses.dataclass(frozen=True)
class HINormerConfig:
    """HINormer (`HINormer`).

    Attributes:
      hidden, heads, layers: Transformer width, heads and depth.
      gnn_layers: depth of the local structure and relation encoders.
      seq_len: context sequence length S (`context_sequences`).
      dropout: everywhere.
      temperature: attention temperature.
      relation_beta: weight of the relation-encoding score term.
    """

    hidden: int = 32
    heads: int = 2
    layers: int = 2
    gnn_layers: int = 2
    seq_len: int = 200
    dropout: float = 0.5
    temperature: float = 1.0
    relation_beta: float = 1.0
    name: ClassVar[str] = "hinormer"


class HINormer(nn.Module):
    """HINormer: the Transformer runs only on the sequences of the nodes asked for."""

    specs: tuple[FeatureSpec, ...]
    num_classes: int
    config: HINormerConfig = HINormerConfig()
    self_loops: ClassVar[bool] = True
    # the Transformer layer class; a subclass may set another (scripts/bench_hinormer.py), and
    # being another class, it never shares the jit caches of jaxhin.hin._train with this one
    transformer: ClassVar[type[nn.Module]] = HeteroTransformerLayer

    @property
    def hp(self) -> HINormerConfig:
        """The Transformer, sequence and encoder settings (AGHINT's sit in its config)."""
        return self.config

    def local_encoder(self, g: HeteroGraph, features, coef, *, train: bool):
        """(h, r): every node's local structure encoding (`gnn_layers` GCN layers with edge
        coefficients `coef`) and relation encoding. Called from `__call__` (compact)."""
        h = InputProjection(self.specs, self.hp.hidden)(features)
        for layer in range(self.hp.gnn_layers):
            h = nn.Dense(self.hp.hidden, use_bias=False,
                         kernel_init=nn.initializers.glorot_uniform(),
                         name=f"gcn_{layer}")(h)
            h = aggregate(h, coef, g.graph.senders, g.graph.receivers, g.num_nodes,
                          src_order=g.sender_order)
            h = h + self.param(f"gcn_bias_{layer}", nn.initializers.zeros, (1, self.hp.hidden))
            h = ByteDropout(self.hp.dropout, deterministic=not train)(nn.elu(h))
        return h, self.relation_encoder(g)

    def relation_encoder(self, g: HeteroGraph):
        """(N, T) relation encodings: `gnn_layers` RelationConv layers from one-hot node types
        (independent of the features). Called from `__call__` (compact)."""
        num_types = len(g.node_types)
        r = jax.nn.one_hot(g.node_type, num_types)
        coef = sym_norm(g)
        for _ in range(self.hp.gnn_layers):
            r = RelationConv(num_types, num_types)(r, g, coef)
        return r

    def readout(self, first_tokens):
        """L2-normalised logits from the (B, D) first-token outputs."""
        logits = nn.Dense(self.num_classes, kernel_init=xavier_relu,
                          bias_init=torch_bias(self.hp.hidden))(first_tokens)
        return logits / (jnp.linalg.norm(logits, axis=-1, keepdims=True) + 1e-12)

    @nn.compact
    def __call__(self, g: HeteroGraph, features, context, nodes, *, train: bool) -> jax.Array:
        h, r = self.local_encoder(g, features, sym_norm(g), train=train)
        seq = context.sequences[nodes - context.first]
        r_tokens = r[seq]  # the layers after the first take tokens
        if not self.hp.layers:
            h = h[seq]
        hp = self.hp
        for layer in range(hp.layers):  # the first layer gathers the tokens itself
            h = self.transformer(hp.hidden, hp.heads, hp.dropout, hp.temperature,
                                 hp.relation_beta)(
                h, r if layer == 0 else r_tokens, seq if layer == 0 else None, train=train,
                first_only=layer == self.hp.layers - 1)
        return self.readout(h[:, 0])
