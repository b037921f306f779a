"""A jaxhin.remat plan as the backbone's rematerialization policy.

`remat_plan` traces one unrolled training step of the backbone (no execution: shapes only),
replays it with Coop's eviction (`jaxhin.remat.simulate`) in a pool of `budget` times the memory
the step needs without rematerialization, and returns the block intermediates (`BLOCK_NAMES`)
the simulation kept resident from the forward pass to their backward use
(`jaxhin.remat.plan_names`). `TransformerConfig(remat="names", remat_names=names)` then saves
exactly those under `nn.remat` inside the scanned blocks, and XLA recomputes the rest.

Example:
  >>> names, info = remat_plan(TransformerConfig(vocab_size=65), batch=12, seq=64, budget=0.6)
  >>> cfg = TransformerConfig(vocab_size=65, remat="names", remat_names=names)
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxhin.ptm._backbone import Transformer, TransformerConfig
from jaxhin.ptm._objectives import clm_loss


def remat_plan(model_cfg: TransformerConfig, *, batch: int, seq: int, budget: float = 0.6
               ) -> tuple[tuple[str, ...], dict]:
    """`(names, info)`: the block intermediates a Coop run of one CLM training step keeps at
    `budget` (a fraction of the step's need); `info` has `need_bytes`, `budget_bytes` and the
    simulated `overhead` (recomputed share of compute).

    Raises:
      ValueError: `budget` outside (0, 1], or too small for the step to run at all.
    """
    from jaxhin.remat import peak_memory, plan_names, policy_config, simulate, trace

    if not 0 < budget <= 1:
        raise ValueError(f"budget must be in (0, 1], got {budget}")
    unrolled = dataclasses.replace(model_cfg, scan=False, remat="none", remat_names=())
    model = Transformer(unrolled)
    ids = jax.ShapeDtypeStruct((batch, seq + 1), jnp.int32)
    params = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, seq), jnp.int32))

    def step(p, window):
        return jax.value_and_grad(lambda q: clm_loss(model.apply(q, window[:, :-1]),
                                                     window[:, 1:]))(p)

    tr = trace(step, params, ids, name=f"backbone {model_cfg.layers}x{model_cfg.width}")
    need = peak_memory(tr)
    budget_bytes = int(need * budget)
    result = simulate(tr, policy_config("coop"), budget_bytes)
    if not result.feasible:
        raise ValueError(f"budget {budget} ({budget_bytes:,} of {need:,} bytes) is too small "
                         f"for one training step: {result.reason}")
    names = plan_names(tr, result.evicted)
    return names, {"need_bytes": need, "budget_bytes": budget_bytes,
                   "overhead": result.overhead}
