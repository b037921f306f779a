"""Interpretation tools: word-to-token alignment, layer-wise probes, the head mask and head
importance."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxhin.data import DataError, synthetic_tagged
from jaxhin.ptm import (
    Classifier,
    Transformer,
    TransformerConfig,
    encode_texts,
    head_importance,
    linear_probe,
    minilm_path,
    pos_probe,
    simplify_brown_tag,
    train_tokenizer,
    word_inputs,
)

TAGGED = synthetic_tagged(0, sentences=600)
TOK = train_tokenizer("word", " ".join(w for s in TAGGED for w, _ in s))
CFG = TransformerConfig(vocab_size=TOK.vocab_size, width=32, layers=2, heads=2, max_len=32,
                        causal=False)


def test_word_positions_point_at_each_words_first_token():
    words = [["w1", "w22", "w300"], ["w5"]]
    ids, mask, where, valid = word_inputs(TOK, words, 16)
    assert valid.tolist() == [[True, True, True], [True, False, False]]
    for i, sent in enumerate(words):
        for j, w in enumerate(sent):
            assert ids[i, where[i, j]] == TOK.encode(w)[0]
    assert ids[0, 0] == TOK.cls_id and mask.sum() == 4 + 2


def test_word_positions_with_word_pieces():
    try:
        folder = minilm_path()
    except DataError as err:
        pytest.skip(str(err))
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    words = [["Unbelievably", "good", "rematerialization"]]
    ids, _, where, valid = word_inputs(tok, words, 32)
    assert valid.all() and where[0, 0] == 1                 # after [CLS]
    pieces = [tok.id_to_token(int(i)) for i in ids[0]]
    assert pieces[where[0, 1]] == "good"
    assert not pieces[where[0, 2]].startswith("##") and pieces[where[0, 2] + 1].startswith("##")


def test_linear_probe_selects_on_dev_and_separates_separable_data():
    rng = np.random.default_rng(0)
    x = {k: rng.normal(size=(n, 5)) for k, n in (("train", 300), ("dev", 100), ("test", 100))}
    y = {k: (v[:, 0] + v[:, 1] > 0).astype(np.int32) for k, v in x.items()}
    probe = linear_probe(x, y, 2, learning_rate=0.1, steps=200)
    assert probe.dev_acc == max(probe.dev_curve) and probe.test_acc > 0.95


def test_pos_probe_curve_has_a_point_per_layer_and_a_lookup_baseline():
    params = Transformer(CFG).init(jax.random.key(0), jnp.zeros((1, 4), jnp.int32))
    curve = pos_probe(CFG, params, TOK, TAGGED, max_len=32, splits=(400, 100, 100), steps=50)
    assert len(curve.test_acc) == CFG.layers + 1 and set(curve.tags) == {"neg", "neutral",
                                                                          "other", "pos"}
    assert curve.majority_test_acc > 0.99          # each word's tag is fixed: lookup is exact
    assert all(0.5 < a <= 1 for a in curve.test_acc)       # "neutral" alone is ~80%
    assert simplify_brown_tag("np-tl") == "np" and simplify_brown_tag("--") == "--"


def test_head_mask_and_head_importance():
    net = Transformer(CFG)
    ids = jnp.asarray(np.arange(1, 9)[None] % CFG.vocab_size)
    params = net.init(jax.random.key(1), ids)
    plain = net.apply(params, ids, hidden=True)
    ones = net.apply(params, ids, hidden=True, head_mask=jnp.ones((2, 2)))
    np.testing.assert_allclose(ones, plain, atol=1e-6)
    off = net.apply(params, ids, hidden=True, head_mask=jnp.ones((2, 2)).at[1, 0].set(0))
    assert np.abs(off - plain).max() > 1e-3
    with pytest.raises(ValueError, match="head_mask must be"):
        net.apply(params, ids, head_mask=jnp.ones((3, 2)))
    model = Classifier(CFG, 2, "mean", 0.0)
    texts = [" ".join(w for w, _ in s) for s in TAGGED[:64]]
    ids, mask = encode_texts(TOK, texts, 32)
    labels = np.arange(64) % 2
    cls_params = model.init(jax.random.key(2), ids, mask)
    full, drop = head_importance(model, cls_params, ids, mask, labels)
    pred = np.asarray(jnp.argmax(model.apply(cls_params, ids, mask), -1))
    assert full == pytest.approx(np.mean(pred == labels)) and drop.shape == (2, 2)
