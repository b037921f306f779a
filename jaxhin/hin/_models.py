"""Homogeneous GNN baselines of HGB (Lv et al., KDD 2021) on typed graphs, in Flax Linen.

Both see the heterogeneous graph as one graph (all edge types, self-loops included) after a
per-type input projection, as HGB's GCN and GAT baselines do. Message passing is segment ops
over the edge list (jraph): no Python loop over nodes or edges.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph

from jaxhin.data._hgb import FeatureSpec
from jaxhin.hin._graph import HeteroGraph


class InputProjection(nn.Module):
    """Project every node type into a common width: h_v = x_v W_{type(v)} + b_{type(v)}.

    "given" types use their attributes (dense or BCOO), "embedding" types a learned table (HGB's
    identity features, without the identity matrix), "zeros" types only a bias.
    """

    specs: tuple[FeatureSpec, ...]
    width: int

    @nn.compact
    def __call__(self, features: Sequence) -> jax.Array:
        parts = []
        for t, (spec, x) in enumerate(zip(self.specs, features, strict=True)):
            bias = self.param(f"bias_{t}", nn.initializers.zeros, (1, self.width))
            if spec.kind == "given":
                kernel = self.param(f"kernel_{t}", nn.initializers.glorot_uniform(),
                                    (spec.dim, self.width))
                parts.append(x @ kernel + bias)  # BCOO @ dense stays sparse-dense
            elif spec.kind == "embedding":
                parts.append(nn.Embed(spec.dim, self.width, name=f"embed_{t}").embedding + bias)
            else:  # a zero vector times W is zero: only the bias remains
                parts.append(jnp.broadcast_to(bias, (spec.count, self.width)))
        return jnp.concatenate(parts, axis=0)


class GCN(nn.Module):
    """Kipf & Welling (2017): h' = act(D^-1/2 A D^-1/2 h W), A with self-loops, symmetric."""

    specs: tuple[FeatureSpec, ...]
    hidden: int = 64
    layers: int = 2
    num_classes: int = 2
    dropout: float = 0.5

    @nn.compact
    def __call__(self, g: HeteroGraph, features, *, train: bool) -> jax.Array:
        h = InputProjection(self.specs, self.hidden)(features)
        n = g.num_nodes
        src, dst = g.graph.senders, g.graph.receivers
        degree = jraph.segment_sum(jnp.ones_like(dst, jnp.float32), dst, n)
        norm = jax.lax.rsqrt(jnp.maximum(degree, 1.0))
        coef = (norm[src] * norm[dst])[:, None]
        for layer in range(self.layers):
            h = nn.Dropout(self.dropout, deterministic=not train)(h)
            width = self.num_classes if layer == self.layers - 1 else self.hidden
            h = nn.Dense(width, name=f"dense_{layer}")(h)
            h = jraph.segment_sum(h[src] * coef, dst, n)
            if layer < self.layers - 1:
                h = nn.elu(h)
        return h


class GATLayer(nn.Module):
    """Velickovic et al. (2018): alpha_ij = softmax_j(LeakyReLU(a^T [W h_i || W h_j]))."""

    width: int
    heads: int
    dropout: float
    negative_slope: float = 0.2
    residual: bool = True

    @nn.compact
    def __call__(self, h, src, dst, n, *, train: bool):
        z = nn.Dense(self.width * self.heads, use_bias=False)(h).reshape(n, self.heads, self.width)
        a_src = self.param("a_src", nn.initializers.glorot_uniform(), (1, self.heads, self.width))
        a_dst = self.param("a_dst", nn.initializers.glorot_uniform(), (1, self.heads, self.width))
        logits = nn.leaky_relu((z * a_src).sum(-1)[src] + (z * a_dst).sum(-1)[dst],
                               self.negative_slope)
        alpha = jraph.segment_softmax(logits, dst, n)
        alpha = nn.Dropout(self.dropout, deterministic=not train)(alpha)
        out = jraph.segment_sum(z[src] * alpha[..., None], dst, n)
        if self.residual:
            out = out + nn.Dense(self.width * self.heads, use_bias=False)(h).reshape(out.shape)
        return out


class GAT(nn.Module):
    """HGB's GAT baseline: `layers` GAT layers (heads concatenated), a 1-head output layer."""

    specs: tuple[FeatureSpec, ...]
    hidden: int = 64
    heads: int = 8
    layers: int = 2
    num_classes: int = 2
    dropout: float = 0.5

    @nn.compact
    def __call__(self, g: HeteroGraph, features, *, train: bool) -> jax.Array:
        h = InputProjection(self.specs, self.hidden)(features)
        n = g.num_nodes
        src, dst = g.graph.senders, g.graph.receivers
        for _ in range(self.layers):
            h = nn.Dropout(self.dropout, deterministic=not train)(h)
            h = GATLayer(self.hidden, self.heads, self.dropout)(h, src, dst, n, train=train)
            h = nn.elu(h.reshape(n, -1))
        h = nn.Dropout(self.dropout, deterministic=not train)(h)
        out = GATLayer(self.num_classes, 1, self.dropout)(h, src, dst, n, train=train)
        return out.reshape(n, self.num_classes)


MODELS = {"gcn": GCN, "gat": GAT}
