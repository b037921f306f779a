"""The whole study through the CLI on the built-in digits, and the stopping rule."""

import json

import jax
import numpy as np
import pytest

from jaxhin.cli import main
from jaxhin.data import load_images
from jaxhin.structure import GrowthConfig, SparseCodingConfig, grow


def test_structure_learn_on_digits_writes_results_masks_and_plot(tmp_path, capsys):
    out, masks, plot = tmp_path / "r.json", tmp_path / "m.npz", tmp_path / "p.png"
    assert main(["structure", "learn", "--epochs", "8", "--survey-atoms", "8", "32",
                 "--survey-penalties", "0.003", "0.03", "--quiet", "--out", str(out),
                 "--masks", str(masks), "--plot", str(plot)]) == 0
    results = json.loads(out.read_text())
    m = results["metrics"]
    assert results["config"]["dataset"] == "digits"
    assert results["config"]["study"]["train"]["epochs"] == 8
    assert 1 <= m["depth"] <= 2 and len(m["gains"]) >= m["depth"] + 1
    # A kept layer raised the probe by at least min_gain, and growth stopped for a stated reason.
    min_gain = results["config"]["study"]["growth"]["min_gain"]
    assert all(b - a >= min_gain for a, b in zip(m["gains"][:m["depth"]],
                                                 m["gains"][1:m["depth"] + 1], strict=True))
    assert m["stopped_because"]
    assert m["locality_ratio"] < 1.0                    # learned fields beat random ones
    assert m["survey_structures"] == 4 and -1 <= m["entropy_acc_spearman"] <= 1
    assert results["config"]["study"]["survey_atoms"] == [8, 32]
    for key in ("test_acc", "cnn_test_acc", "mlp_test_acc"):
        assert 0.5 < m[key] <= 1.0                      # ten classes: chance is 0.1
    assert abs(m["mlp_params"] - m["params"]) < 80       # the MLP has the structure's size
    saved = np.load(masks)
    assert saved["mask_1"].shape == (64, m["live_units"][0])
    assert saved["mask_1"].any(0).all()                 # only live units are kept
    assert plot.stat().st_size > 10000
    assert "learned structure: depth" in capsys.readouterr().out


@pytest.mark.parametrize("argv, expected", [
    (["--dataset", "nosuch"], "expected one of digits, mnist"),
    (["--max-depth", "0"], "--max-depth must be >= 1, got 0"),
    (["--epochs", "0"], "--epochs must be >= 1, got 0"),
    (["--survey-atoms", "8", "--survey-penalties", "0.01"], "at least 3 structures"),
])
def test_bad_input_exits_2(argv, expected, cli_exit_2):
    assert expected in cli_exit_2(["structure", "learn", *argv]).err


def test_a_malformed_idx_folder_exits_2_naming_the_file(tmp_path, cli_exit_2):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x01\x02")
    err = cli_exit_2(["structure", "learn", "--dataset", str(tmp_path)]).err
    assert "train-images-idx3-ubyte: not an IDX file" in err


def _digits_split():
    data = load_images("digits")
    x = data.train_images.reshape(len(data.train_labels), -1)
    return x[:900], x[900:], data.train_labels[:900], data.train_labels[900:]


def test_stopping_rule_decides_depth():
    x_learn, x_probe, y_learn, y_probe = _digits_split()
    layer = SparseCodingConfig(num_atoms=32, code_penalty=0.01, group_penalty=1e-4, epochs=2,
                               batch_size=64)
    # min_gain below any possible change: every layer is kept.
    deep = grow(jax.random.key(0), x_learn, x_probe, y_learn, y_probe, 10,
                GrowthConfig(layers=(layer,) * 3, min_gain=-1.0))
    assert deep.depth == 3 and "largest depth" in deep.stopped_because
    assert deep.criterion == "probe"
    # A gain no layer can reach: the first layer is refused and the error says why.
    with pytest.raises(ValueError, match="no layer was kept"):
        grow(jax.random.key(0), x_learn, x_probe, y_learn, y_probe, 10,
             GrowthConfig(layers=(layer,), min_gain=0.5))
