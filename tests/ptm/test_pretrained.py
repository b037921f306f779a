"""Published BERT-family checkpoints in the backbone: MiniLM against transformers' outputs,
the padding mask, and loader errors that name the file."""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxhin.data import DataError
from jaxhin.ptm import (
    Transformer,
    TransformerConfig,
    load_bert,
    load_minilm,
    minilm_path,
    sentence_embeddings,
)

REFERENCE = Path(__file__).parent / "data" / "minilm_reference.npz"


def _minilm_or_skip():
    try:
        minilm_path()
    except DataError as err:
        pytest.skip(str(err))
    return load_minilm()


def test_minilm_sentence_embeddings_match_transformers():
    """20 sentences (one truncated at 128 tokens) against embeddings that
    `scripts/minilm_reference.py` computed with transformers (PyTorch)."""
    model = _minilm_or_skip()
    ref = np.load(REFERENCE)
    ours = sentence_embeddings(model, ref["sentences"].tolist(), batch=8)
    assert ours.shape == ref["embeddings"].shape == (20, 384)
    np.testing.assert_allclose(ours, ref["embeddings"], atol=1e-4)
    assert model.pooling == "mean" and model.normalize and model.config.norm == "post"


def test_padding_is_masked_in_a_post_ln_backbone():
    cfg = TransformerConfig(vocab_size=20, width=16, layers=2, heads=2, max_len=16,
                            causal=False, bias=True, norm="post", ln_eps=1e-12, type_vocab=2)
    net = Transformer(cfg)
    ids = jnp.asarray([[3, 4, 5, 6, 0, 0, 0, 0]])
    params = net.init(jax.random.key(0), ids)
    short = net.apply(params, ids[:, :4], hidden=True)
    mask = ids > 0
    padded = net.apply(params, ids, hidden=True, mask=mask)
    np.testing.assert_allclose(padded[:, :4], short, atol=1e-5)
    unmasked = net.apply(params, ids, hidden=True)
    assert np.abs(unmasked[:, :4] - short).max() > 1e-3       # the mask is what makes it so


def _tiny_bert(folder: Path, width=8, layers=1, vocab=12) -> Path:
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer, models, pre_tokenizers

    rng = np.random.default_rng(0)
    w = {}

    def put(name, *shape):
        w[name] = rng.normal(size=shape).astype(np.float32)

    put("embeddings.word_embeddings.weight", vocab, width)
    put("embeddings.position_embeddings.weight", 16, width)
    put("embeddings.token_type_embeddings.weight", 2, width)
    put("embeddings.LayerNorm.weight", width)
    put("embeddings.LayerNorm.bias", width)
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for n in ("query", "key", "value"):
            put(p + f"attention.self.{n}.weight", width, width)
            put(p + f"attention.self.{n}.bias", width)
        put(p + "attention.output.dense.weight", width, width)
        put(p + "attention.output.dense.bias", width)
        put(p + "intermediate.dense.weight", 2 * width, width)
        put(p + "intermediate.dense.bias", 2 * width)
        put(p + "output.dense.weight", width, 2 * width)
        put(p + "output.dense.bias", width)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            put(p + ln + ".weight", width)
            put(p + ln + ".bias", width)
    folder.mkdir()
    save_file(w, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({
        "model_type": "bert", "vocab_size": vocab, "hidden_size": width,
        "num_hidden_layers": layers, "num_attention_heads": 2, "intermediate_size": 2 * width,
        "max_position_embeddings": 16, "type_vocab_size": 2, "hidden_act": "gelu"}))
    words = {f"w{i}": i for i in range(vocab - 1)} | {"[UNK]": vocab - 1}
    tok = Tokenizer(models.WordLevel(words, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(folder / "tokenizer.json"))
    return folder


def test_a_bert_folder_loads_and_its_weights_land_where_bert_uses_them(tmp_path):
    from safetensors.numpy import load_file

    folder = _tiny_bert(tmp_path / "bert")
    model = load_bert(folder)
    w = load_file(str(folder / "model.safetensors"))
    blocks = model.params["params"]["blocks"]
    q = w["encoder.layer.0.attention.self.query.weight"]
    v = w["encoder.layer.0.attention.self.value.weight"]
    np.testing.assert_array_equal(blocks["attn_qkv"]["kernel"][0][:, :8], q.T)
    np.testing.assert_array_equal(blocks["attn_qkv"]["kernel"][0][:, 16:], v.T)
    np.testing.assert_array_equal(blocks["ln_1"]["scale"][0],
                                  w["encoder.layer.0.attention.output.LayerNorm.weight"])
    assert model.pooling == "cls" and not model.normalize       # no sentence-transformers files
    emb = sentence_embeddings(model, ["w1 w2 w3", "w4"])
    assert emb.shape == (2, 8) and np.isfinite(emb).all()


def test_loader_errors_name_the_file(tmp_path):
    folder = _tiny_bert(tmp_path / "bert")
    cfg = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**cfg, "hidden_size": 16}))
    with pytest.raises(DataError, match=r"model\.safetensors: tensor shapes"):
        load_bert(folder)
    (folder / "config.json").write_text(json.dumps({**cfg, "model_type": "gpt2"}))
    with pytest.raises(DataError, match=r"config\.json: model_type 'gpt2'"):
        load_bert(folder)
    (folder / "config.json").unlink()
    with pytest.raises(DataError, match=r"config\.json: missing"):
        load_bert(folder)
    with pytest.raises(DataError, match="not a folder"):
        load_bert(tmp_path / "nowhere")
