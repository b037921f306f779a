"""ELECTRA's replaced-token detection: the corruption and its labels, no gradient through the
generator's samples, the shared embeddings, training and the checkpoint it leaves."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxhin.cli import main
from jaxhin.data import synthetic_text
from jaxhin.ptm import (
    PretrainConfig,
    Transformer,
    TransformerConfig,
    init_params,
    load_jaxhin_checkpoint,
    loss_fn,
    pretrain,
    replace_tokens,
    train_tokenizer,
)

TEXT = synthetic_text(0, 30_000)
TOK = train_tokenizer("char", TEXT.text)
IDS = TOK.encode(TEXT.text)
MODEL = TransformerConfig(vocab_size=TOK.vocab_size, width=32, layers=2, heads=2, max_len=32,
                          causal=False)
RTD = PretrainConfig(objective="rtd", steps=80, batch=8, seq=32, warmup=10, eval_every=40,
                     eval_batches=4, checkpoint_every=1000)


def test_labels_mark_exactly_the_changed_tokens():
    ids = jnp.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    positions = jnp.array([[0, 2], [1, 3]])
    targets = jnp.take_along_axis(ids, positions, axis=1)
    certain = jax.nn.one_hot(targets, 10) * 1e4              # the generator is always right
    inputs, replaced = replace_tokens(jax.random.key(0), ids, positions, certain)
    assert (inputs == ids).all() and not replaced.any()      # a right guess is "original"
    wrong = jax.nn.one_hot((targets + 1) % 10, 10) * 1e4     # always a different token
    inputs, replaced = replace_tokens(jax.random.key(0), ids, positions, wrong)
    chosen = np.zeros((2, 4), bool)
    chosen[[0, 0, 1, 1], [0, 2, 1, 3]] = True
    np.testing.assert_array_equal(replaced, chosen)
    np.testing.assert_array_equal(np.where(chosen, 0, inputs), np.where(chosen, 0, ids))
    np.testing.assert_array_equal(inputs[chosen], (ids[chosen] + 1) % 10)


def test_detection_does_not_train_the_generator():
    """The samples pass no gradient: the generator's gradients are those of its MLM loss
    alone, whatever the detection weight; the discriminator's do depend on it."""
    params = init_params(jax.random.key(0), MODEL, RTD)
    assert not {"wte", "wpe"} & set(params["generator"])     # shared with the discriminator
    window = jnp.asarray(IDS[:8 * 33].reshape(8, 33))

    def grads(weight):
        cfg = PretrainConfig(**{**RTD.__dict__, "rtd_weight": weight})
        return jax.grad(loss_fn)(params, Transformer(MODEL), cfg, jax.random.key(1), window,
                                 train=True, mask_id=TOK.mask_id)

    light, heavy = grads(1.0), grads(50.0)
    for a, b in zip(jax.tree.leaves(light["generator"]), jax.tree.leaves(heavy["generator"]),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    kernel = light["params"]["blocks"]["mlp_out"]["kernel"]
    assert np.abs(kernel).max() > 0
    assert not np.allclose(kernel, heavy["params"]["blocks"]["mlp_out"]["kernel"])
    # the generator's MLM loss reaches the shared token table beyond the discriminator's share
    head = PretrainConfig(**{**RTD.__dict__, "rtd_weight": 1e-9})
    only_mlm = jax.grad(loss_fn)(params, Transformer(MODEL), head, jax.random.key(1), window,
                                 train=True, mask_id=TOK.mask_id)
    assert np.abs(only_mlm["params"]["wte"]["embedding"]).max() > 1e-4


def test_rtd_learns_and_leaves_a_backbone():
    result = pretrain(jax.random.key(0), IDS, MODEL, RTD, mask_id=TOK.mask_id,
                      show_progress=False)
    first, last = result.evals[0]["val_loss"], result.evals[-1]["val_loss"]
    chance = np.log(TOK.vocab_size) + RTD.rtd_weight * np.log(2)
    assert np.isfinite(result.losses).all() and last < first < chance
    assert set(result.params) == {"params", "generator", "rtd_head"}
    parts = result.evals[-1]            # the loss's parts, on the same validation windows
    assert parts["val_loss"] == pytest.approx(
        parts["generator_loss"] + RTD.rtd_weight * parts["detection_loss"], rel=1e-5)
    share = parts["replaced_share"]
    assert 0 < share < RTD.mask_rate + 1e-6        # replaced only where the generator missed
    assert parts["detection_base"] == pytest.approx(
        -share * np.log(share) - (1 - share) * np.log(1 - share), rel=1e-2)
    assert 0 <= parts["replaced_caught"] <= 1 and 0 <= parts["detection_accuracy"] <= 1


def test_rtd_cli_checkpoint_probes_and_cannot_sample(tmp_path, capsys, cli_exit_2):
    ck, out = tmp_path / "ck", tmp_path / "r.json"
    assert main(["ptm", "pretrain", "--objective", "rtd", "--steps", "20", "--layers", "2",
                 "--width", "32", "--heads", "2", "--seq", "32", "--batch", "4",
                 "--eval-every", "20", "--generator-layers", "1", "--checkpoint-dir", str(ck),
                 "--quiet", "--out", str(out)]) == 0
    rec = json.loads(out.read_text())
    assert rec["config"]["pretrain"]["objective"] == "rtd"
    assert rec["config"]["model"]["causal"] is False
    model = load_jaxhin_checkpoint(ck)
    assert set(model.params) == {"params"} and "blocks" in model.params["params"]
    assert main(["ptm", "finetune", "--task-file", "synthetic", "--init", str(ck), "--mode",
                 "probe", "--seeds", "0", "--max-len", "32", "--quiet", "--out",
                 str(tmp_path / "f.json")]) == 0
    capsys.readouterr()
    assert "bidirectional" in cli_exit_2(["ptm", "sample", "--ckpt", str(ck)]).err
    assert "need --objective rtd" in cli_exit_2(["ptm", "pretrain", "--objective", "mlm",
                                                 "--rtd-weight", "10"]).err


@pytest.mark.parametrize("bad, message", [({"objective": "xlm"}, "clm, mlm or rtd"),
                                          ({"rtd_weight": 0.0}, "rtd_weight"),
                                          ({"generator_layers": 0}, "generator_layers")])
def test_bad_rtd_settings_are_named(bad, message):
    with pytest.raises(ValueError, match=message):
        PretrainConfig(**{**RTD.__dict__, **bad})
