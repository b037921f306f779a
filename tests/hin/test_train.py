"""Baselines under the HGB protocol: test labels are used only for the final score, and the CLI
writes its metrics (that every model learns the synthetic graph is in test_models.py)."""

import dataclasses
import json

import jax
import numpy as np
import pytest

from jaxhin.cli import main
from jaxhin.data import SyntheticHinConfig, synthetic_hin
from jaxhin.hin import MODELS, GCNConfig, TrainConfig, run_seeds, setting_names, train_and_evaluate

SMALL = SyntheticHinConfig(num_authors=400, num_papers=800, num_venues=8, attr_dim=32)


@pytest.fixture(scope="module")
def small():
    return synthetic_hin(jax.random.key(0), SMALL)


def test_synthetic_ground_truth(small):
    data, disparate = small
    assert data.num_nodes == 400 + 800 + 8 and disparate.shape == (400,)
    assert 0.1 < disparate.mean() < 0.3
    authors = data.dense(0)
    block = SMALL.attr_dim // SMALL.num_classes
    labels = np.zeros(400, int)
    labels[data.labelled_ids], labels[data.test_ids] = data.labelled, data.test_labels
    own = authors.reshape(400, SMALL.num_classes, block).sum(-1).argmax(-1)
    # attributes point at the author's own class, disparate or not
    assert (own == labels)[~disparate].mean() > 0.75 and (own == labels)[disparate].mean() > 0.75
    # a disparate author's papers are mostly of another class, an ordinary author's of its own
    papers = data.type_offsets[1]
    paper_class = data.dense(1).reshape(-1, SMALL.num_classes, block).sum(-1).argmax(-1)
    written = (data.edge_type == 0)
    author, paper = data.src[written], data.dst[written] - papers
    same = paper_class[paper] == labels[author]
    share = np.bincount(author, same, 400) / np.bincount(author, minlength=400)
    assert share[~disparate].mean() > 0.6 and share[disparate].mean() < 0.3


def test_test_labels_do_not_influence_training(small):
    data, _ = small
    config = TrainConfig(GCNConfig(hidden=16), epochs=30, patience=30)
    shuffled = dataclasses.replace(data, test_labels=np.roll(data.test_labels, 7))
    a = train_and_evaluate(data, config, 0, show_progress=False)
    b = train_and_evaluate(shuffled, config, 0, show_progress=False)
    np.testing.assert_array_equal(a.test_logits, b.test_logits)
    assert a.best_epoch == b.best_epoch and a.micro_f1 != b.micro_f1


def test_seeds_share_one_compilation(small):
    from jaxhin.hin._train import _init, _train_step, logits

    data, _ = small
    config = TrainConfig(GCNConfig(hidden=13), epochs=3, patience=3)  # a width no other test
    before = [f._cache_size() for f in (_init, _train_step, logits)]
    run_seeds(data, config, [0, 1], show_progress=False)
    added = [f._cache_size() - b for f, b in zip((_init, _train_step, logits), before,
                                                 strict=True)]
    assert added == [1, 1, 2]  # logits: the validation and the test nodes


def test_cli_train_writes_metrics_and_submissions(tmp_path):
    out = tmp_path / "r.json"
    assert main(["hin", "train", "--model", "gcn", "--seeds", "0", "1", "--epochs", "20",
                 "--hidden", "16", "--quiet", "--pred-dir", str(tmp_path / "pred"),
                 "--out", str(out)]) == 0
    metrics = json.loads(out.read_text())["metrics"]
    for key in ("macro_f1_mean", "macro_f1_std", "micro_f1_mean", "micro_f1_std", "per_seed",
                "epoch_s"):
        assert key in metrics
    per_seed = metrics["per_seed"]
    assert len(per_seed) == 2
    for name in ("micro_f1", "macro_f1"):  # percent; the population std over seeds
        scores = [100 * r[name] for r in per_seed]
        assert metrics[f"{name}_mean"] == pytest.approx(np.mean(scores))
        assert metrics[f"{name}_std"] == pytest.approx(np.std(scores))
    assert per_seed[0]["micro_f1"] != per_seed[1]["micro_f1"]  # else the std check is empty
    assert sorted(p.name for p in (tmp_path / "pred").iterdir()) == ["synthetic_1.txt",
                                                                     "synthetic_2.txt"]


def test_disparity_known_answer(tmp_path, write_hgb):
    from jaxhin.data import load_hgb_folder
    from jaxhin.hin import disparity

    # a-nodes 0 and 1 share b-node 3; 1 and 2 share b-node 4; b-node 5 is alone
    folder = write_hgb(
        nodes="0\t\t0\t1,1,0\n1\t\t0\t1,0,0\n2\t\t0\t0,0,1\n3\t\t1\n4\t\t1\n5\t\t1\n",
        links="0\t3\t0\t1\n1\t3\t0\t1\n1\t4\t0\t1\n2\t4\t0\t1\n",
        labels="0\t\t0\t0\n", test="1\t\t0\t1\n2\t\t0\t1\n")
    data = load_hgb_folder(folder, cache=tmp_path / "c")
    d = disparity(data, np.array([0, 1, 2]), hops=2)
    # 0~1: J = 1/2 -> 0.5; 1~2: J = 0 -> 1; node 1 averages 0.5 and 1
    np.testing.assert_allclose(d, [0.5, 0.75, 1.0])


def test_label_agreement_by_disparity_known_answer(tmp_path, write_hgb):
    from jaxhin.data import load_hgb_folder
    from jaxhin.hin import label_agreement_by_disparity

    # labelled a-nodes 0~1 (via b 5, d = 1/2, same class), 1~2 (via b 6, d = 1, differ),
    # 2~3 (via b 7, d = 2/3, same); test-only node 4 shares b 5 and must not count
    folder = write_hgb(
        nodes="0\t\t0\t1,1,0\n1\t\t0\t1,0,0\n2\t\t0\t0,0,1\n3\t\t0\t1,1,1\n"
              "4\t\t0\t1,1,0\n5\t\t1\n6\t\t1\n7\t\t1\n",
        links="0\t5\t0\t1\n1\t5\t0\t1\n1\t6\t0\t1\n2\t6\t0\t1\n2\t7\t0\t1\n3\t7\t0\t1\n"
              "4\t5\t0\t1\n",
        labels="0\t\t0\t0\n1\t\t0\t0\n2\t\t0\t1\n3\t\t0\t1\n", test="4\t\t0\t1\n")
    data = load_hgb_folder(folder, cache=tmp_path / "c")
    rows = label_agreement_by_disparity(data, hops=2, bins=3)
    assert [r["pairs"] for r in rows] == [1, 1, 1]
    assert [r["agreement"] for r in rows] == [1.0, 1.0, 0.0]
    assert rows[0]["low"] == pytest.approx(0.5) and rows[-1]["high"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="bins must be >= 1"):
        label_agreement_by_disparity(data, bins=0)


def test_f1_falls_with_disparity_on_synthetic(small):
    data, _ = small
    metrics, _ = run_seeds(data, TrainConfig(GCNConfig(hidden=16), epochs=150, patience=20,
                                             learning_rate=5e-3), [0], show_progress=False)
    rows = metrics["disparity_quintiles"]
    assert len(rows) == 5 and sum(r["nodes"] for r in rows) <= len(data.test_ids)
    assert rows[0]["micro_f1"] > rows[-1]["micro_f1"]


@pytest.mark.parametrize("model", sorted(MODELS))
def test_cli_refuses_each_flag_the_model_lacks(model, capsys):
    from jaxhin.cli.hin import _settings

    defaults = _settings()
    foreign = sorted(set(defaults) - set(setting_names(model)))
    assert foreign  # every model lacks some other model's setting
    for setting in foreign:
        flag = "--" + setting.replace("_", "-")
        value = defaults[setting]
        with pytest.raises(SystemExit) as exit_:
            main(["hin", "train", "--model", model, flag, str(value).lower(), "--quiet"])
        assert exit_.value.code == 2, flag
        captured = capsys.readouterr()
        assert captured.out == ""
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and f"{flag}: not an option of --model {model}" in lines[0]


def test_cli_refuses_settings_of_an_ablated_module(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["hin", "train", "--model", "aghint", "--ablate", "agm", "--agm-gamma", "0.3",
              "--quiet"])
    assert exit_.value.code == 2
    assert "agm_gamma: a setting of aghint's AGM module, which is switched off" in (
        capsys.readouterr().err)


def test_cli_trains_on_a_bare_hgb_folder(tmp_path, small, cli_exit_2, capsys):
    """A folder without info.dat, with CRLF lines and no attributes at all (issue #34)."""
    from jaxhin.data import save_hgb_folder

    folder = save_hgb_folder(small[0], tmp_path / "bare", info=False, attributes=False,
                             newline="\r\n")
    for model in ("gcn", "rgcn", "simplehgn"):
        out = tmp_path / f"{model}.json"
        assert main(["hin", "train", "--dataset", str(folder), "--model", model, "--seeds", "0",
                     "--epochs", "5", "--quiet", "--out", str(out)]) == 0
        metrics = json.loads(out.read_text())["metrics"]
        assert 0 < metrics["micro_f1_mean"] <= 100 and "disparity_quintiles" not in metrics
    capsys.readouterr()
    _, err = cli_exit_2(["hin", "train", "--dataset", str(folder), "--model", "aghint",
                         "--quiet"])
    assert "has no attributes" in err and "'type0'" in err


def test_side_by_side_prints_the_paired_gain_per_quintile():
    from jaxhin.hin import side_by_side

    def run(micro, per_seed):
        rows = [{"quintile": q + 1, "low": 0.1 * q, "high": 0.1 * q + 0.1, "nodes": 10,
                 "micro_f1": sum(s) / len(s), "micro_f1_per_seed": s}
                for q, s in enumerate(per_seed)]
        return {"micro_f1_mean": micro, "micro_f1_std": 0.0, "macro_f1_mean": micro,
                "macro_f1_std": 0.0, "disparity_quintiles": rows}

    table = side_by_side({"a": run(90, [[90, 80], [70, 70]]), "b": run(80, [[85, 70], [70, 60]])})
    lines = table.splitlines()
    assert lines[0].split()[-3:] == ["a", "-", "b"]
    assert lines[-2].split()[-3:] == ["+7.50", "±", "2.50"]   # seeds: +5 and +10
    assert lines[-1].split()[-3:] == ["+5.00", "±", "5.00"]   # +0 and +10
