"""`jaxhin remat simulate | study | plan` end to end on small models."""

import json

from jaxhin.cli import main

USER_MODEL = '''
import flax.linen as nn, jax, jax.numpy as jnp, optax

class Net(nn.Module):
    @nn.compact
    def __call__(self, x):
        for _ in range(4):
            x = nn.relu(nn.Dense(128)(x))
        return nn.Dense(4)(x)

def factory():
    model, opt = Net(), optax.sgd(0.1)
    x = jax.ShapeDtypeStruct((256, 128), jnp.float32)
    params = jax.eval_shape(model.init, jax.random.key(0), x)
    state = jax.eval_shape(opt.init, params)

    def step(p, s, x):
        loss, g = jax.value_and_grad(lambda p: jnp.mean(model.apply(p, x) ** 2))(p)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, loss

    return step, (params, state, x)
'''


def _model(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(USER_MODEL)
    return f"{path}:factory"


def test_simulate_writes_the_paper_metrics(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["remat", "simulate", "--model", _model(tmp_path), "--budget", "0.9",
                 "--policy", "dtr", "--out", str(out), "--quiet"]) == 0
    record = json.loads(out.read_text())
    m = record["metrics"]
    for key in ("overhead", "feasible", "fragmentation", "search_s", "pieces_scanned",
                "evicted_used_share", "need_bytes"):
        assert key in m, key
    assert m["feasible"] is True
    assert record["config"]["sim"]["policy"] == "dtr"
    assert "jax" in json.dumps(record["env"])


def test_a_budget_below_the_minimum_states_the_minimum(tmp_path, cli_exit_2):
    _, err = cli_exit_2(["remat", "simulate", "--model", _model(tmp_path), "--budget", "0.05"])
    assert "lowest feasible budget found is" in err and "bytes" in err


def test_unknown_model_and_bad_budget_are_one_line_errors(tmp_path, cli_exit_2):
    _, err = cli_exit_2(["remat", "simulate", "--model", "vgg"])
    assert "expected one of" in err and "resnet50" in err
    _, err = cli_exit_2(["remat", "simulate", "--budget", "1.5"])
    assert "(0, 1]" in err
    _, err = cli_exit_2(["remat", "simulate", "--budget-bytes", "lots"])
    assert "3.5GiB" in err


def test_study_on_one_model_tallies(tmp_path):
    out = tmp_path / "s.json"
    assert main(["remat", "study", "--models", _model(tmp_path), "--ratios", "0.9", "--quiet",
                 "--out", str(out)]) == 0
    m = json.loads(out.read_text())["metrics"]
    (row,) = m["models"]
    assert {r["policy"] for r in row["runs"]} == {"dtr", "dte", "coop"}
    assert set(row["lowest"]) == {"dtr", "dte", "coop"}
    assert "0.9" in m["tallies"]["per_ratio"]


def test_plan_exports_and_compares(tmp_path, capsys):
    out = tmp_path / "p.json"
    assert main(["remat", "plan", "--model", "mlp", "--layers", "2", "--width", "32",
                 "--seq", "16", "--batch", "2", "--budget", "0.7", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "nothing_saveable" in printed and "plan saves" in printed
    m = json.loads(out.read_text())["metrics"]
    assert len(m["policies"]) == 2 + 4 and isinstance(m["names"], list)
