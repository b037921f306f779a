"""jaxhin.ptm: Transformer pre-training, fine-tuning and probing (pre-trained models survey).

Status: planned (issue #32). What is here so far is the functional GPT, written in
`jaxhin.sbp`'s registered ops, that `jaxhin sbp plan` places and `jaxhin sbp pipeline` runs:
the benchmark graphs (`benchmark`), Megatron's placements (`megatron_sbp`), SPMD training on a
("data", "model") mesh (`train_spmd`) and a data x tensor x pipeline step checked against one
device (`pipeline_step_check`). Pre-training, fine-tuning and probing are not implemented yet;
the `jaxhin ptm` CLI group says so.

Example:
  >>> from jaxhin import ptm, sbp
  >>> fn, shapes, data_inputs = ptm.benchmark("gpt-block", ptm.ModelConfig())
  >>> plan = sbp.plan(sbp.trace_graph(fn, *shapes), sbp.make_mesh("data=2,model=4"))
"""

from jaxhin.ptm._gpt import ModelConfig, benchmark, gpt, gpt_block, gpt_params
from jaxhin.ptm._parallel import (
    TINY,
    PipelineResult,
    batch_sharding,
    megatron_sbp,
    param_shardings,
    pipeline_step_check,
    reference_value_and_grad,
    stage_meshes,
    synthetic_tokens,
    train_spmd,
)

__all__ = [
    "TINY",
    "ModelConfig",
    "PipelineResult",
    "batch_sharding",
    "benchmark",
    "gpt",
    "gpt_block",
    "gpt_params",
    "megatron_sbp",
    "param_shardings",
    "pipeline_step_check",
    "reference_value_and_grad",
    "stage_meshes",
    "synthetic_tokens",
    "train_spmd",
]
