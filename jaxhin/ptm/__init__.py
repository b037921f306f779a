"""jaxhin.ptm: Transformer pre-training, fine-tuning and probing (pre-trained models survey).

Status: in progress (issue #32). What works: tokenizers that need no download (characters,
words, byte-level BPE via Hugging Face's `tokenizers`), the backbone (`Transformer`: pre-LN
GPT-2 or post-LN BERT layout, causal or bidirectional, learned or rotary positions, tied
embeddings, padding and head masks, `nn.scan` over layers, remat policies, bfloat16 compute,
attention maps and hidden states sown; a jaxhin.remat plan as the remat policy,
`remat_plan`), CLM, MLM (BERT's 80-10-10, logits at the masked positions only) and ELECTRA's
replaced-token detection (a one-layer MLM generator sharing the embeddings), `pretrain`
(AdamW with warm-up and cosine decay, clipping, accumulation, orbax checkpoints with exact
resume, on one device or data x tensor parallel over a `jaxhin.sbp` mesh with Megatron's or
the planner's placements, `planner_sbp`, multi-process), `generate`, published BERT-family
checkpoints (`load_bert`; the shipped all-MiniLM-L6-v2 is `load_minilm`), `finetune` for
sentence classification (full or linear probe), layer-wise probes (`pos_probe`) and
head-masking importance.

Also here, for `jaxhin.sbp`: the functional GPT written in its registered ops, that
`jaxhin sbp plan` places and `jaxhin sbp pipeline` runs (`benchmark`, `megatron_sbp`,
`train_spmd`, `pipeline_step_check`).

Example:
  >>> from jaxhin import ptm
  >>> minilm = ptm.load_minilm()                   # doctest: +SKIP
  >>> ptm.sentence_embeddings(minilm, ["a fine film"]).shape  # doctest: +SKIP
  (1, 384)
  >>> from jaxhin.data import load_text
  >>> text = load_text("synthetic")
  >>> tok = ptm.train_tokenizer("char", text)
  >>> result = ptm.pretrain(jax.random.key(0), tok.encode(text),
  ...                       ptm.TransformerConfig(vocab_size=tok.vocab_size),
  ...                       ptm.PretrainConfig(steps=300))  # doctest: +SKIP
"""

from jaxhin.ptm._backbone import (
    BLOCK_NAMES,
    REMAT_POLICIES,
    Transformer,
    TransformerConfig,
    count_params,
    rotary,
)
from jaxhin.ptm._finetune import (
    MODES,
    Classifier,
    FinetuneConfig,
    FinetuneResult,
    features,
    finetune,
)
from jaxhin.ptm._gpt import ModelConfig, benchmark, gpt, gpt_block, gpt_params
from jaxhin.ptm._objectives import (
    DetectionHead,
    clm_loss,
    detection_loss,
    mlm_count,
    mlm_inputs,
    replace_tokens,
)
from jaxhin.ptm._parallel import (
    TINY,
    PipelineResult,
    backbone_sbp,
    backbone_shardings,
    batch_sharding,
    megatron_sbp,
    param_shardings,
    pipeline_step_check,
    planner_sbp,
    reference_value_and_grad,
    stage_meshes,
    synthetic_tokens,
    train_spmd,
    window_sharding,
)
from jaxhin.ptm._pretrain import (
    OBJECTIVES,
    PretrainConfig,
    PretrainResult,
    generate,
    generator_config,
    init_params,
    loss_fn,
    optimizer,
    pretrain,
    split_tokens,
)
from jaxhin.ptm._pretrained import (
    MINILM_INSTALL,
    Pretrained,
    bert_config,
    bert_params,
    encode_texts,
    load_bert,
    load_jaxhin_checkpoint,
    load_minilm,
    load_pretrained,
    minilm_path,
    pad_ids,
    pool,
    pooled_states,
    sentence_embeddings,
    tokenize_texts,
)
from jaxhin.ptm._probe import (
    LinearProbe,
    ProbeCurve,
    head_importance,
    layer_features,
    linear_probe,
    pos_probe,
    simplify_brown_tag,
    word_inputs,
)
from jaxhin.ptm._remat import remat_plan
from jaxhin.ptm._tokenize import (
    KINDS,
    SPECIALS,
    BpeTokenizer,
    CharTokenizer,
    WordTokenizer,
    load_tokenizer,
    train_tokenizer,
)

__all__ = [
    "BLOCK_NAMES",
    "KINDS",
    "MINILM_INSTALL",
    "MODES",
    "OBJECTIVES",
    "REMAT_POLICIES",
    "SPECIALS",
    "TINY",
    "BpeTokenizer",
    "CharTokenizer",
    "Classifier",
    "DetectionHead",
    "FinetuneConfig",
    "FinetuneResult",
    "LinearProbe",
    "ModelConfig",
    "PipelineResult",
    "PretrainConfig",
    "PretrainResult",
    "Pretrained",
    "ProbeCurve",
    "Transformer",
    "TransformerConfig",
    "WordTokenizer",
    "backbone_sbp",
    "backbone_shardings",
    "batch_sharding",
    "benchmark",
    "bert_config",
    "bert_params",
    "clm_loss",
    "count_params",
    "detection_loss",
    "encode_texts",
    "features",
    "finetune",
    "generate",
    "generator_config",
    "gpt",
    "gpt_block",
    "gpt_params",
    "head_importance",
    "init_params",
    "layer_features",
    "linear_probe",
    "load_bert",
    "load_jaxhin_checkpoint",
    "load_minilm",
    "load_pretrained",
    "load_tokenizer",
    "loss_fn",
    "megatron_sbp",
    "minilm_path",
    "mlm_count",
    "mlm_inputs",
    "optimizer",
    "pad_ids",
    "param_shardings",
    "pipeline_step_check",
    "planner_sbp",
    "pool",
    "pooled_states",
    "pos_probe",
    "pretrain",
    "reference_value_and_grad",
    "remat_plan",
    "replace_tokens",
    "rotary",
    "sentence_embeddings",
    "simplify_brown_tag",
    "split_tokens",
    "stage_meshes",
    "synthetic_tokens",
    "tokenize_texts",
    "train_spmd",
    "train_tokenizer",
    "window_sharding",
    "word_inputs",
]
