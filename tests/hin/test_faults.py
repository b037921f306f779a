"""Faults in `jaxhin hin train`: bad label files (silent wrong results before), a corrupt node
file, bad settings, unwritable outputs, and seed records that make a killed run resumable.
Each asserts the message, the exit code and that nothing is lost or mixed."""

import json

import jax
import pytest

GCN = ["hin", "train", "--model", "gcn", "--epochs", "3", "--seeds", "0", "--quiet"]


def _exit_2(cli_exit_2, argv) -> str:
    captured = cli_exit_2(argv)
    assert "Macro-F1" not in captured.out  # stopped before any training
    return captured.err


@pytest.mark.parametrize("file, text, message", [
    ("label.dat", "", r"label.dat: no labelled nodes"),
    ("label.dat.test", "1\tn1\t0\t1\n0\tn0\t0\t0\n",
     r"label.dat.test:2: node 0 is also labelled in label.dat \(line 1\)"),
    ("label.dat", "0\tn0\t0\t0\n0\tn0\t0\t1\n", r"label.dat:2: node 0 is labelled again"),
    ("label.dat", "99999\tx\t0\t0\n", r"label.dat:1: node 99999 is not in node.dat"),
    ("node.dat.gz", b"\x1f\x8b\x08\x00 truncated", r"node.dat.gz:1: cannot be read as gzip"),
])
def test_bad_graph_files_exit_2_naming_file_and_line(tmp_path, cli_exit_2, monkeypatch, write_hgb,
                                                     file, text, message):
    monkeypatch.setenv("JAXHIN_CACHE", str(tmp_path / "cache"))
    folder = write_hgb()
    if file == "node.dat.gz":
        (folder / "node.dat").unlink()
        (folder / file).write_bytes(text)
    else:
        (folder / file).write_text(text)
    err = _exit_2(cli_exit_2, [*GCN, "--dataset", str(folder)])
    assert __import__("re").search(message, err), err
    assert not list((tmp_path / "cache").rglob("*.npz"))


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "epochs must be >= 1, got 0"),
    (["--learning-rate", "-1"], "learning_rate must be > 0, got -1.0"),
    (["--pred-dir", "{file}/preds"], "argument --pred-dir: .*: cannot create it"),
    (["--checkpoint-dir", "{file}"], "argument --checkpoint-dir: .*: exists and is not a folder"),
    (["--out", "missing/r.json"], "argument --out: missing/r.json: folder .* does not exist"),
    (["--dataset", "no-such-graph"], "no-such-graph"),
])
def test_bad_arguments_exit_2_before_training(tmp_path, cli_exit_2, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("")
    err = _exit_2(cli_exit_2, [*GCN, *[a.format(file="a-file") for a in argv]])
    assert __import__("re").search(message, err), err


def test_seed_records_resume_a_multi_seed_run_with_the_same_figures(tmp_path):
    from jaxhin.data import SyntheticHinConfig, synthetic_hin
    from jaxhin.hin import GCNConfig, TrainConfig, run_seeds
    from jaxhin.train import CheckpointError

    data, _ = synthetic_hin(jax.random.key(0), SyntheticHinConfig(
        num_authors=200, num_papers=400, num_venues=6, attr_dim=16))
    config, ck = TrainConfig(GCNConfig(hidden=8), epochs=4, patience=4), tmp_path / "ck"
    run_seeds(data, config, [0], show_progress=False, checkpoint_dir=ck)  # killed after seed 0
    (ck / "seed-1.npy").write_bytes(b"half")  # seed 1's logits, cut short before its record
    resumed, _ = run_seeds(data, config, [0, 1], show_progress=False, checkpoint_dir=ck)
    straight, _ = run_seeds(data, config, [0, 1], show_progress=False)
    assert resumed == {**straight, "epoch_s": resumed["epoch_s"],
                       "per_seed": [{**s, "epoch_s": r["epoch_s"]} for s, r in
                                    zip(straight["per_seed"], resumed["per_seed"], strict=True)]}
    assert sorted(json.loads((ck / "run.json").read_text())["log"]["seeds"]) == ["0", "1"]
    with pytest.raises(CheckpointError, match=r"train\.epochs: 4 there, 5 now"):
        run_seeds(data, TrainConfig(GCNConfig(hidden=8), epochs=5, patience=4), [0],
                  show_progress=False, checkpoint_dir=ck)
