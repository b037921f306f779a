"""The capability table: one row per system, with an honest status.

The README's table is checked against this one by `tests/test_readme.py`, so every issue that
changes a system's status updates both.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Capability:
    """One system of jaxhin.

    Attributes:
      system: subpackage name, also the CLI group (`jaxhin <system> ...`).
      paper: the paper the system reimplements.
      status: what works today, in a few words; "planned" when nothing does yet.
    """

    system: str
    paper: str
    status: str


CAPABILITIES: tuple[Capability, ...] = (
    Capability("hin", "AGHINT: attribute-guided heterogeneous graph transformer",
               "in progress (issues #4, #34): HGB loader (any HGB-format folder), typed graphs, "
               "HGB protocol, GCN, GAT, RGCN, Simple-HGN, HGT, HINormer, AGHINT (AGM, AGT, "
               "ablations), `hin train`, bench of five models vs PyTorch"),
    Capability("lda", "LightLDA: O(1) Metropolis-Hastings topic sampler",
               "works (issue #5): O(1) MH sampling with no per-iteration tables, hybrid storage, "
               "mesh + multi-host, perplexity/coherence, `lda train`, bench vs tomotopy; issue #35 in "
               "progress: MH steps counted as the reference counts them, the proposals' "
               "own-token and stale-table biases fixed (KOS K=100 within 0.1% of exact Gibbs), "
               "perplexity curves against exact Gibbs and tomotopy (`--curves`; 20news K=100 "
               "within 2%), documents read off their tokens and sparse evaluation at large K "
               "(KOS K=1e5 in 630 MB), `--optimize-alpha`, corpora streamed in blocks with kill "
               "and resume (`--block-tokens`), `lda make-corpus`"),
    Capability("remat", "Coop: tensor rematerialization planner",
               "works (issue #31): jaxpr traces of 8 DNNs, address-ordered allocator, DTR/DTE/"
               "Coop eviction with ablations, lowest budgets, plans exported as "
               "`jax.checkpoint` policies, `remat simulate`, `study`, `plan`"),
    Capability("sbp", "OneFlow: SBP placements, boxing, auto-parallel, actor pipeline",
               "works: placements, HLO-checked boxing, op signatures, planner, actor pipeline, "
               "multi-host (issue #6)"),
    Capability("ptm", "Pre-trained models survey: pre-training, fine-tuning, probing",
               "in progress (issue #32): char/word/BPE tokenizers, backbone (GPT-2 or BERT "
               "layout, causal or bidirectional, learned or rotary, scan, remat, bf16, attention "
               "maps), CLM, MLM and ELECTRA (replaced-token detection) pre-training with exact "
               "resume, data x tensor parallel and "
               "multi-process, Megatron or planner placements, checkpoints from a mesh, remat "
               "plans from jaxhin.remat, BERT checkpoints (shipped MiniLM), fine-tuning, probes, "
               "head importance, `ptm pretrain`, `sample`, `finetune`, `probe`"),
    Capability("structure", "Learning structures for DNNs by efficient coding",
               "works (issue #33): entropy estimators, group-sparse dictionary learning, "
               "layer-wise growth with a stopping rule, masked network vs LeNet and MLP, "
               "`structure learn`, bench vs scikit-learn"),
)


def capability(system: str) -> Capability:
    """Return the row of `system`, raising `KeyError` naming the known systems."""
    for row in CAPABILITIES:
        if row.system == system:
            return row
    known = ", ".join(r.system for r in CAPABILITIES)
    raise KeyError(f"unknown system {system!r}; known systems: {known}")


def format_table() -> str:
    """Return the capability table as aligned plain text."""
    header = ("system", "paper", "status")
    rows = [header, *((r.system, r.paper, r.status) for r in CAPABILITIES)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
