"""Fine-tuning and linear probes: they learn a task with a known rule, select on dev only, and
the probe's returned head classifies raw pooled vectors as it was scored; the CLI."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxhin.data import synthetic_task
from jaxhin.ptm import (
    Classifier,
    FinetuneConfig,
    TransformerConfig,
    encode_texts,
    finetune,
    train_tokenizer,
)

TASK = synthetic_task(0, sentences=800, noise=0.0)
TOK = train_tokenizer("word", " ".join(TASK.train.texts))
BACKBONE = TransformerConfig(vocab_size=TOK.vocab_size, width=32, layers=1, heads=2,
                             max_len=32, causal=False)


def test_full_fine_tuning_learns_the_rule_and_selects_on_dev():
    cfg = FinetuneConfig(epochs=3, learning_rate=3e-3, max_len=32, dropout=0.0)
    r = finetune(jax.random.key(0), TASK, BACKBONE, TOK, cfg, show_progress=False)
    assert len(r.dev_acc) == 3 and r.best == int(np.argmax(r.dev_acc)) + 1
    assert r.best_dev_acc == max(r.dev_acc) > 0.8 and r.test_acc > 0.8


def test_probe_head_classifies_raw_pooled_vectors_as_scored():
    cfg = FinetuneConfig(mode="probe", learning_rate=1e-2, max_len=32, probe_steps=200)
    r = finetune(jax.random.key(1), TASK, BACKBONE, TOK, cfg)
    assert r.best % cfg.probe_every == 0 and len(r.dev_acc) == 20
    model = Classifier(BACKBONE, 2, "mean", 0.0)
    ids, mask = encode_texts(TOK, TASK.test.texts, 32)
    pred = np.asarray(jnp.argmax(model.apply(r.params, ids, mask), -1))
    assert np.mean(pred == TASK.test.labels) == pytest.approx(r.test_acc, abs=1e-6)
    assert r.best_dev_acc == max(r.dev_acc)


def test_pretrained_parameters_must_fit_the_backbone():
    other = {"params": {"wte": {"embedding": np.zeros((3, 3))}}}
    with pytest.raises(ValueError, match="do not fit"):
        finetune(jax.random.key(0), TASK, BACKBONE, TOK, FinetuneConfig(max_len=32),
                 params=other)
    with pytest.raises(ValueError, match="longer than the backbone"):
        finetune(jax.random.key(0), TASK, BACKBONE, TOK, FinetuneConfig(max_len=64))
    with pytest.raises(ValueError, match="mode must be full or probe"):
        FinetuneConfig(mode="lora")


def test_finetune_cli_from_a_pretrain_checkpoint(tmp_path, cli_exit_2, capsys):
    from jaxhin.cli import main

    ck, out = tmp_path / "ck", tmp_path / "r.json"
    assert main(["ptm", "pretrain", "--objective", "mlm", "--steps", "20", "--layers", "1",
                 "--width", "32", "--heads", "2", "--seq", "32", "--batch", "4",
                 "--tokenizer", "word", "--checkpoint-dir", str(ck), "--quiet",
                 "--out", str(tmp_path / "p.json")]) == 0
    lines = [f"{i % 2} {'w1 w2' if i % 2 else 'w3 w4'} filler {i}" for i in range(60)]
    task = tmp_path / "task.txt"
    task.write_text("\n".join(lines) + "\n")
    # The full fine-tuning path is the library's (tested above); here the CLI's own parts:
    # a jaxhin checkpoint as --init, several seeds, the record.
    argv = ["ptm", "finetune", "--task-file", str(task), "--init", str(ck), "--mode", "probe",
            "--seeds", "0", "1", "--max-len", "16", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    rec = json.loads(out.read_text())
    m = rec["metrics"]
    assert [r["seed"] for r in m["per_seed"]] == [0, 1]
    assert m["test_acc_mean"] == pytest.approx(np.mean([r["test_acc"] for r in m["per_seed"]]))
    assert rec["config"]["finetune"]["mode"] == "probe" and rec["config"]["init"] == str(ck)
    assert main(["ptm", "probe", "--init", str(ck), "--sentences", "100", "30", "30",
                 "--steps", "20", "--quiet", "--out", str(out)]) == 0
    m = json.loads(out.read_text())["metrics"]
    assert len(m["test_acc"]) == 2 and m["best_layer_by_dev"] in (0, 1)     # embeddings, block
    capsys.readouterr()
    assert "expected one of synthetic" in cli_exit_2(
        ["ptm", "finetune", "--task-file", str(tmp_path / "none.txt"), "--init", str(ck),
         "--max-len", "16"]).err
    assert "longer than the backbone's 32" in cli_exit_2(
        ["ptm", "finetune", "--task-file", str(task), "--init", str(ck)]).err
    assert "not a folder" in cli_exit_2(
        ["ptm", "finetune", "--init", str(tmp_path / "nowhere")]).err
