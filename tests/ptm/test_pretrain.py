"""Pre-training: it learns, MLM runs, a killed run resumes onto the same loss curve, the CLI."""

import json

import jax
import numpy as np
import pytest

from jaxhin.cli import main
from jaxhin.data import synthetic_text
from jaxhin.ptm import PretrainConfig, TransformerConfig, generate, pretrain, train_tokenizer

TEXT = synthetic_text(0, 30_000)
TOK = train_tokenizer("char", TEXT.text)
IDS = TOK.encode(TEXT.text)
MODEL = TransformerConfig(vocab_size=TOK.vocab_size, width=32, layers=2, heads=2, max_len=32)
FAST = PretrainConfig(steps=120, batch=8, seq=32, warmup=10, eval_every=60, eval_batches=4,
                      checkpoint_every=1000)


@pytest.fixture(scope="module")
def trained():
    return pretrain(jax.random.key(0), IDS, MODEL, FAST, show_progress=False)


def test_clm_learns_toward_the_entropy_rate(trained):
    result = trained
    first, last = result.evals[0]["val_loss"], result.evals[-1]["val_loss"]
    assert last < first < np.log(TOK.vocab_size)
    assert last < TEXT.entropy_rate + 0.5          # near the chain's 1.88 nats per character
    assert len(result.losses) == FAST.steps and result.tokens_per_s > 0


def test_mlm_runs_and_learns():
    cfg = PretrainConfig(**{**FAST.__dict__, "objective": "mlm", "steps": 40, "eval_every": 20})
    model = TransformerConfig(**{**MODEL.__dict__, "causal": False})
    result = pretrain(jax.random.key(0), IDS, model, cfg, mask_id=TOK.mask_id,
                      show_progress=False)
    assert result.evals[-1]["val_loss"] < np.log(TOK.vocab_size)


def test_accumulation_matches_a_bigger_batch_in_shape_and_learns():
    cfg = PretrainConfig(**{**FAST.__dict__, "steps": 30, "batch": 4, "accumulate": 2,
                            "eval_every": 30})
    result = pretrain(jax.random.key(0), IDS, MODEL, cfg, show_progress=False)
    assert np.isfinite(result.losses).all() and result.losses[-1] < result.losses[0]


class Killed(Exception):
    pass


def test_a_killed_run_resumes_onto_the_same_loss_curve(tmp_path):
    cfg = PretrainConfig(**{**FAST.__dict__, "steps": 40, "eval_every": 10,
                            "checkpoint_every": 20})
    whole = pretrain(jax.random.key(3), IDS, MODEL, cfg, show_progress=False)

    def die_at_30(line):
        if line.startswith("step 30"):
            raise Killed

    with pytest.raises(Killed):
        pretrain(jax.random.key(3), IDS, MODEL, cfg, checkpoint_dir=tmp_path / "ck",
                 log=die_at_30, show_progress=False)
    resumed = pretrain(jax.random.key(3), IDS, MODEL, cfg, checkpoint_dir=tmp_path / "ck",
                       show_progress=False)
    assert resumed.resumed_from == 20
    assert resumed.losses == whole.losses            # bit-identical, steps 1 to 40
    assert [e["val_loss"] for e in resumed.evals] == [e["val_loss"] for e in whole.evals]


@pytest.mark.devices(8)
def test_a_killed_run_on_a_mesh_resumes_onto_the_same_curve(tmp_path):
    """Checkpoints of placed parameters: a run on a data=2 x model=4 mesh killed after its
    step-10 checkpoint resumes, placed again, onto the uninterrupted run's losses."""
    from jaxhin import sbp

    mesh = sbp.make_mesh("data=2,model=4")
    model = TransformerConfig(vocab_size=TOK.vocab_size, width=32, layers=1, heads=4, max_len=32)
    cfg = PretrainConfig(**{**FAST.__dict__, "steps": 20, "eval_every": 5,
                            "checkpoint_every": 10})
    whole = pretrain(jax.random.key(3), IDS, model, cfg, show_progress=False, mesh=mesh)

    def die_at_15(line):
        if line.startswith("step 15"):
            raise Killed

    with pytest.raises(Killed):
        pretrain(jax.random.key(3), IDS, model, cfg, checkpoint_dir=tmp_path / "ck",
                 log=die_at_15, show_progress=False, mesh=mesh)
    resumed = pretrain(jax.random.key(3), IDS, model, cfg, checkpoint_dir=tmp_path / "ck",
                       show_progress=False, mesh=mesh)
    assert resumed.resumed_from == 10
    assert resumed.losses == whole.losses
    kernel = resumed.params["params"]["blocks"]["mlp_in"]["kernel"]
    assert kernel.sharding.spec[2] == "model"       # restored placed, not on one device


def test_generate_continues_a_prompt(trained):
    out = generate(jax.random.key(0), trained.params, MODEL, TOK.encode("ab"), 50)
    assert len(out) == 50 and set(TOK.decode(out)) <= set(TEXT.alphabet)


def test_pretrain_and_sample_cli(tmp_path, capsys):
    out, ck = tmp_path / "r.json", tmp_path / "ck"
    argv = ["ptm", "pretrain", "--steps", "40", "--layers", "1", "--width", "32", "--heads",
            "2", "--seq", "32", "--batch", "4", "--eval-every", "20", "--checkpoint-dir",
            str(ck), "--remat", "plan", "--remat-budget", "0.7", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    rec = json.loads(out.read_text())
    assert rec["config"]["model"]["remat"] == "names"          # the plan, as names to save
    assert set(rec["config"]["model"]["remat_names"]) < {"ln_1", "qkv", "scores", "probs",
                                                          "context", "attn_proj", "ln_2",
                                                          "mlp_in", "mlp_act"}
    from jaxhin.ptm import load_jaxhin_checkpoint

    assert load_jaxhin_checkpoint(ck).config.remat_names == tuple(
        rec["config"]["model"]["remat_names"])           # read back hashable, as jit needs
    m = rec["metrics"]
    assert m["steps"] == 40 and m["val_loss"] > 0 and m["tokens_per_s"] > 0
    assert m["entropy_rate"] == pytest.approx(synthetic_text(0).entropy_rate)
    assert (ck / "tokenizer.json").is_file() and (ck / "model.json").is_file()
    capsys.readouterr()
    assert main(["ptm", "sample", "--ckpt", str(ck), "--prompt", "ab", "--tokens", "30"]) == 0
    assert len(capsys.readouterr().out.strip()) >= 2


@pytest.mark.devices(8)
def test_pretraining_on_a_mesh_follows_the_one_device_curve(tmp_path):
    """`ptm pretrain --mesh data=2,model=4` (Megatron's placements through jaxhin.sbp) gives the
    one-device run's losses to 1e-5."""
    argv = ["ptm", "pretrain", "--steps", "6", "--layers", "1", "--width", "32", "--heads", "4",
            "--seq", "32", "--batch", "8", "--eval-every", "6", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "one.json")]) == 0
    assert main([*argv, "--mesh", "data=2,model=4", "--checkpoint-dir", str(tmp_path / "ck"),
                 "--out", str(tmp_path / "mesh.json")]) == 0
    # a checkpoint saved from the mesh samples on one device
    assert main(["ptm", "sample", "--ckpt", str(tmp_path / "ck"), "--prompt", "ab",
                 "--tokens", "5"]) == 0
    assert main([*argv, "--mesh", "data=2,model=4", "--placements", "planner",
                 "--out", str(tmp_path / "planner.json")]) == 0
    one, many, planned = (json.loads((tmp_path / f"{n}.json").read_text())
                          for n in ("one", "mesh", "planner"))
    assert many["config"]["mesh"] == {"data": 2, "model": 4} and many["metrics"]["steps"] == 6
    assert (many["config"]["placements"], planned["config"]["placements"]) == ("megatron",
                                                                              "planner")
    for run in (many, planned):
        np.testing.assert_allclose(run["metrics"]["losses"], one["metrics"]["losses"], rtol=1e-5)
        assert run["metrics"]["val_loss"] == pytest.approx(one["metrics"]["val_loss"], rel=1e-5)


@pytest.mark.devices(8)
def test_planner_placements_are_megatrons_at_scale_and_data_parallel_when_small():
    from jaxhin import sbp
    from jaxhin.ptm import Transformer, backbone_sbp, planner_sbp

    mesh = sbp.make_mesh("data=2,model=4")
    for width, vocab, heads, seq in ((1024, 8192, 16, 256), (32, 64, 4, 32)):
        cfg = TransformerConfig(vocab_size=vocab, width=width, layers=2, heads=heads,
                                max_len=seq, bias=True)
        place, _ = planner_sbp(cfg, mesh, 8, seq)
        shapes = jax.eval_shape(lambda c=cfg: Transformer(c).init(
            jax.random.key(0), jax.numpy.zeros((1, 8), jax.numpy.int32)))
        for path, leaf in jax.tree_util.tree_flatten_with_path(shapes)[0]:
            got = place(path, leaf.shape, mesh)
            if width == 1024:  # the planner finds Megatron-LM's splits, tied table included
                assert got == backbone_sbp(path, leaf.shape, mesh), path
            else:  # collectives would cost more than the compute they split
                assert got == (sbp.B, sbp.B), path


def test_cli_errors_are_one_line(tmp_path, cli_exit_2):
    assert "divisible" in cli_exit_2(["ptm", "pretrain", "--width", "30"]).err
    assert "expected the axes data and model" in cli_exit_2(
        ["ptm", "pretrain", "--mesh", "x=2"]).err
    assert "needs --mesh" in cli_exit_2(["ptm", "pretrain", "--placements", "planner"]).err
    assert "no model.json" in cli_exit_2(["ptm", "sample", "--ckpt", str(tmp_path)]).err
    assert "expected one of shakespeare" in cli_exit_2(
        ["ptm", "pretrain", "--corpus", str(tmp_path / "none.txt")]).err


def test_weight_decay_spares_layernorm_scales():
    from jaxhin.ptm import Transformer, optimizer

    params = {"params": Transformer(MODEL).init(jax.random.key(0), IDS[None, :8])["params"]}
    opt = optimizer(PretrainConfig(learning_rate=0.1, warmup=0, weight_decay=0.5))
    state = opt.init(params)
    zero = jax.tree.map(np.zeros_like, params)
    updates, _ = opt.update(zero, state, params)       # zero gradient: only decay moves
    moved = jax.tree_util.tree_map_with_path(
        lambda path, u: (path[-1].key, bool(np.abs(u).max() > 0)), updates)
    flat = dict(jax.tree.leaves(moved, is_leaf=lambda x: isinstance(x, tuple)))
    assert flat["scale"] is False and flat["kernel"] is True and flat["embedding"] is True


@pytest.mark.devices(8)
def test_data_x_tensor_step_matches_one_device():
    """Loss and gradients of a CLM step with Megatron's placements from jaxhin.sbp on a
    data=2 x model=4 mesh equal the one-device step's (1e-5)."""
    from jaxhin import sbp
    from jaxhin.ptm import Transformer, backbone_shardings, clm_loss, window_sharding

    cfg = TransformerConfig(vocab_size=20, width=32, layers=2, heads=4, max_len=16)
    net = Transformer(cfg)
    window = jax.numpy.asarray(IDS[:8 * 17].reshape(8, 17))     # ids < 19
    params = {"params": net.init(jax.random.key(0), window[:, :-1])["params"]}

    def loss(p, w):
        return clm_loss(net.apply(p, w[:, :-1]), w[:, 1:])

    ref_loss, ref_grads = jax.jit(jax.value_and_grad(loss))(params, window)
    mesh = sbp.make_mesh("data=2,model=4")
    placed = jax.device_put(params, backbone_shardings(params, mesh))
    def split(x):       # the dims split over "model"
        return [d for d, axis in enumerate(x.sharding.spec) if axis == "model"]

    assert split(placed["params"]["blocks"]["mlp_in"]["kernel"]) == [2]
    assert split(placed["params"]["wte"]["embedding"]) == [0]
    value, grads = jax.jit(jax.value_and_grad(loss))(
        placed, jax.device_put(window, window_sharding(mesh)))
    assert split(grads["params"]["blocks"]["attn_out"]["kernel"]) == [1]
    np.testing.assert_allclose(value, ref_loss, rtol=1e-5)
    for got, want in zip(jax.tree.leaves(grads), jax.tree.leaves(ref_grads), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)
