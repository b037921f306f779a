"""Sparse coding with a global group-sparse dictionary, in JAX.

One layer is a dictionary D (P inputs x M atoms). An input x (P,) is coded by

    a*(x) = argmin_a  1/2 ||x - D a||^2 + lambda ||a||_1      (a >= 0 when `nonneg`)   (1)

solved by FISTA (Beck and Teboulle 2009). The dictionary is learned from minibatches with
Mairal et al.'s online scheme (JMLR 2010): running statistics A = E[a a^T], B = E[x a^T] define a
surrogate of the expected loss, minimised over D by proximal gradient steps on

    1/2 tr(D^T D A) - tr(D^T B) + mu sum_j sum_g ||D[g, j]||_2,   ||D[:, j]||_2 <= 1      (2)

The second term is the *global group-sparse* penalty: groups g partition the layer's inputs
(pixels for a first layer, units of the layer below for the next), and its proximal step, block
soft-thresholding, zeroes whole groups of an atom at once. Each atom (an output unit) therefore
keeps connections to few input groups: its receptive field, which the data must make local,
since every atom sees the whole input. mu = 0 gives ordinary dictionary learning (the problem
scikit-learn's MiniBatchDictionaryLearning solves), which the benchmark uses to compare.

Written here rather than taken from scikit-learn because scikit-learn has no group penalty on
the dictionary and codes each minibatch with LARS or coordinate descent in Python-driven loops;
FISTA is a fixed sequence of dense matmuls that jit and vmap compile into one program.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxhin.train import check_at_least


@dataclasses.dataclass(frozen=True)
class SparseCodingConfig:
    """Hyper-parameters of one sparse-coding layer.

    Attributes:
      num_atoms: M, the layer's output units.
      code_penalty: lambda in (1), the L1 weight on the codes.
      group_penalty: mu in (2), the weight of the global group-sparse penalty on the dictionary.
        Both depend on the inputs' scale; `learn_layer` (structure growth) first scales inputs
        to unit mean squared norm, which the defaults of `GrowthConfig` assume.
      nonneg: codes constrained to a >= 0 (units that fire or not, like rectified units).
      fista_steps: FISTA iterations per code.
      batch_size: inputs per minibatch of dictionary learning.
      epochs: passes over the data.
      dict_steps: proximal gradient steps on the surrogate (2) per minibatch.
      forget: the running statistics weigh a new minibatch at least this much (1/t before), so
        the early codes of a poor dictionary are forgotten.
    """

    num_atoms: int = 256
    code_penalty: float = 0.1
    group_penalty: float = 0.0
    nonneg: bool = True
    fista_steps: int = 40
    batch_size: int = 256
    epochs: int = 1
    dict_steps: int = 2
    forget: float = 0.02

    def __post_init__(self):
        check_at_least(self, 1, "num_atoms", "fista_steps", "batch_size", "epochs", "dict_steps")
        if self.code_penalty < 0 or self.group_penalty < 0:
            raise ValueError(f"SparseCodingConfig penalties must be >= 0, got code_penalty="
                             f"{self.code_penalty}, group_penalty={self.group_penalty}")
        if not 0 < self.forget <= 1:
            raise ValueError(f"SparseCodingConfig.forget must be in (0, 1], got {self.forget}")


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class DictionaryState:
    """Online dictionary learning state. Arrays are leaves; `num_groups` is static."""

    dictionary: jax.Array   # (P, M) float32, unit-ball columns
    code_cov: jax.Array     # (M, M) running E[a a^T]
    input_code: jax.Array   # (P, M) running E[x a^T]
    step: jax.Array         # () int32 minibatches seen
    groups: jax.Array       # (P,) int32 group of each input
    num_groups: int = dataclasses.field(metadata={"static": True})


def _lipschitz(gram: jax.Array, iters: int = 30) -> jax.Array:
    """Largest eigenvalue of a PSD matrix by power iteration (cheaper than eigvalsh for M ~ 1e3)."""
    v = jnp.ones(gram.shape[0], gram.dtype) / jnp.sqrt(gram.shape[0])

    def body(_, v):
        w = gram @ v
        return w / jnp.maximum(jnp.linalg.norm(w), 1e-12)

    v = jax.lax.fori_loop(0, iters, body, v)
    return jnp.maximum(v @ gram @ v, 1e-8) * 1.01  # a little above: power iteration undershoots


@functools.partial(jax.jit, static_argnames=("steps", "nonneg"))
def encode(x: jax.Array, dictionary: jax.Array, code_penalty: float, steps: int = 40,
           nonneg: bool = True) -> jax.Array:
    """Sparse codes (1) of a batch by FISTA.

    Args:
      x: (B, P) inputs.
      dictionary: (P, M).
      code_penalty: lambda.
      steps: FISTA iterations.
      nonneg: constrain a >= 0.

    Returns:
      (B, M) codes.

    Example:
      >>> a = encode(x, d, 0.1)   # x (B, P), d (P, M)
    """
    if x.ndim != 2 or x.shape[1] != dictionary.shape[0]:
        raise ValueError(f"encode: x must be (B, P) with P = dictionary.shape[0] = "
                         f"{dictionary.shape[0]}, got x {x.shape}")
    gram = dictionary.T @ dictionary                 # (M, M)
    xd = x @ dictionary                              # (B, M)
    step = 1.0 / _lipschitz(gram)

    def prox(v):
        shrunk = v - step * code_penalty
        return jnp.maximum(shrunk, 0.0) if nonneg else jnp.sign(v) * jnp.maximum(
            jnp.abs(v) - step * code_penalty, 0.0)

    def body(_, carry):
        a, y, t = carry
        a_next = prox(y - step * (y @ gram - xd))
        t_next = 0.5 * (1 + jnp.sqrt(1 + 4 * t * t))
        y = a_next + ((t - 1) / t_next) * (a_next - a)
        return a_next, y, t_next

    a0 = jnp.zeros_like(xd)
    a, _, _ = jax.lax.fori_loop(0, steps, body, (a0, a0, jnp.float32(1.0)))
    return a


def encode_all(x: np.ndarray | jax.Array, dictionary: jax.Array, config: SparseCodingConfig,
               batch: int = 4096) -> jax.Array:
    """Codes of a whole dataset, `batch` rows at a time (bounded memory)."""
    x = jnp.asarray(x, jnp.float32)
    parts = [encode(x[i:i + batch], dictionary, config.code_penalty, config.fista_steps,
                    config.nonneg) for i in range(0, len(x), batch)]
    return jnp.concatenate(parts) if parts else jnp.zeros((0, dictionary.shape[1]))


def group_norms(dictionary: jax.Array, groups: jax.Array, num_groups: int) -> jax.Array:
    """(G, M) the L2 norm of each atom's weights on each input group."""
    return jnp.sqrt(jax.ops.segment_sum(dictionary**2, groups, num_groups))


def group_shrink(dictionary: jax.Array, groups: jax.Array, num_groups: int,
                 threshold: jax.Array) -> jax.Array:
    """Block soft-threshold: the proximal step of threshold * sum_j sum_g ||D[g, j]||_2.
    A group whose norm is below `threshold` becomes exactly zero in that atom."""
    norms = group_norms(dictionary, groups, num_groups)                  # (G, M)
    scale = jnp.maximum(1.0 - threshold / jnp.maximum(norms, 1e-12), 0.0)
    return dictionary * scale[groups]


def objective(x: jax.Array, dictionary: jax.Array, codes: jax.Array, config: SparseCodingConfig,
              groups: jax.Array | None = None, num_groups: int = 0) -> jax.Array:
    """Mean over inputs of 1/2 ||x - D a||^2 + lambda ||a||_1, plus the group penalty of D."""
    fit = 0.5 * jnp.mean(jnp.sum((x - codes @ dictionary.T) ** 2, 1))
    value = fit + config.code_penalty * jnp.mean(jnp.sum(jnp.abs(codes), 1))
    if config.group_penalty > 0 and groups is not None:
        value = value + config.group_penalty * group_norms(dictionary, groups, num_groups).sum()
    return value


def init_dictionary(key: jax.Array, x: np.ndarray | jax.Array, config: SparseCodingConfig,
                    groups: np.ndarray | jax.Array | None = None) -> DictionaryState:
    """Start from M random inputs scaled to unit norm (whole inputs: no locality imposed).

    Args:
      key: PRNG key.
      x: (N, P) training inputs.
      config: the layer's config.
      groups: (P,) group id of each input (default: each input its own group).
    """
    x = jnp.asarray(x, jnp.float32)
    n, p = x.shape
    m = config.num_atoms
    pick = jax.random.choice(key, n, (m,), replace=m > n)
    atoms = x[pick].T + 1e-3 * jax.random.normal(jax.random.fold_in(key, 1), (p, m))
    atoms = atoms / jnp.maximum(jnp.linalg.norm(atoms, axis=0, keepdims=True), 1e-12)
    groups = jnp.arange(p, dtype=jnp.int32) if groups is None else jnp.asarray(groups, jnp.int32)
    if groups.shape != (p,):
        raise ValueError(f"init_dictionary: groups must be ({p},), one per input, got "
                         f"{groups.shape}")
    return DictionaryState(atoms, jnp.zeros((m, m)), jnp.zeros((p, m)), jnp.int32(0), groups,
                           int(groups.max()) + 1)


@functools.partial(jax.jit, static_argnames=("config",))
def dictionary_step(state: DictionaryState, x: jax.Array,
                    config: SparseCodingConfig) -> tuple[DictionaryState, jax.Array]:
    """One minibatch of online dictionary learning: code x, update the statistics, and take
    `dict_steps` proximal gradient steps on the surrogate (2).

    Returns:
      (new state, the minibatch objective before the dictionary update).
    """
    d = state.dictionary
    a = encode(x, d, config.code_penalty, config.fista_steps, config.nonneg)
    loss = objective(x, d, a, config)
    w = jnp.maximum(1.0 / (state.step + 1.0), config.forget)
    code_cov = (1 - w) * state.code_cov + w * (a.T @ a) / x.shape[0]
    input_code = (1 - w) * state.input_code + w * (x.T @ a) / x.shape[0]
    lr = 1.0 / _lipschitz(code_cov)

    def prox_step(_, d):
        d = d - lr * (d @ code_cov - input_code)
        d = group_shrink(d, state.groups, state.num_groups, lr * config.group_penalty)
        return d / jnp.maximum(jnp.linalg.norm(d, axis=0, keepdims=True), 1.0)  # unit ball

    d = jax.lax.fori_loop(0, config.dict_steps, prox_step, d)
    return dataclasses.replace(state, dictionary=d, code_cov=code_cov, input_code=input_code,
                               step=state.step + 1), loss


@functools.partial(jax.jit, static_argnames=("config",))
def _epoch(state: DictionaryState, batches: jax.Array, config: SparseCodingConfig):
    return jax.lax.scan(lambda s, xb: dictionary_step(s, xb, config), state, batches)


def learn_dictionary(key: jax.Array, x: np.ndarray | jax.Array, config: SparseCodingConfig,
                     groups: np.ndarray | jax.Array | None = None,
                     state: DictionaryState | None = None,
                     callback=None) -> tuple[DictionaryState, np.ndarray]:
    """Learn a layer's dictionary from (N, P) inputs with minibatches, one jitted scan per epoch.

    Args:
      key: PRNG key (initial atoms, minibatch order).
      x: (N, P) inputs.
      config: the layer's config.
      groups: (P,) input groups for the group-sparse penalty (default: one per input).
      state: continue from this state instead of a fresh one.
      callback: called as `callback(epoch, state)` after each epoch (progress, timing).

    Returns:
      (state, (epochs * batches,) minibatch objectives).
    """
    x = jnp.asarray(x, jnp.float32)
    if x.ndim != 2:
        raise ValueError(f"learn_dictionary: x must be (N, P), got shape {x.shape}")
    n = x.shape[0]
    per_epoch = max(n // config.batch_size, 1)
    if state is None:
        state = init_dictionary(jax.random.fold_in(key, 0), x, config, groups)
    losses = []
    for epoch in range(config.epochs):
        order = jax.random.permutation(jax.random.fold_in(key, epoch + 1), n)
        take = order[:per_epoch * config.batch_size] if n >= config.batch_size else order
        batches = x[take].reshape(per_epoch, -1, x.shape[1])
        state, loss = _epoch(state, batches, config)
        losses.append(np.asarray(loss))
        if callback is not None:
            callback(epoch, state)
    return state, np.concatenate(losses)


def connectivity(dictionary: jax.Array, groups: jax.Array | None = None,
                 num_groups: int | None = None) -> np.ndarray:
    """(G, M) bool: which input groups each atom is connected to (a non-zero group norm).
    With no groups, (P, M) non-zero weights."""
    if groups is None:
        return np.asarray(dictionary != 0)
    return np.asarray(group_norms(dictionary, groups, num_groups) > 0)
