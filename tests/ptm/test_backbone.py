"""The backbone: causality, masks, positions, remat and bfloat16 against the plain model."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxhin.ptm import Transformer, TransformerConfig, clm_loss, count_params, mlm_inputs

SMALL = dict(vocab_size=50, width=32, layers=2, heads=4, max_len=16)


def _init(cfg, t=16):
    model = Transformer(cfg)
    ids = jax.random.randint(jax.random.key(1), (2, t), 0, cfg.vocab_size)
    return model, model.init(jax.random.key(0), ids), ids


@pytest.mark.parametrize("positions", ["learned", "rotary"])
def test_causal_model_does_not_see_the_future(positions):
    model, params, ids = _init(TransformerConfig(**SMALL, positions=positions))
    changed = ids.at[:, 10:].set((ids[:, 10:] + 1) % 50)
    a, b = model.apply(params, ids), model.apply(params, changed)
    np.testing.assert_allclose(a[:, :10], b[:, :10], atol=1e-6)
    assert not np.allclose(a[:, 10:], b[:, 10:])


def test_bidirectional_model_sees_both_ways():
    model, params, ids = _init(TransformerConfig(**SMALL, causal=False))
    changed = ids.at[:, 12].set((ids[:, 12] + 1) % 50)
    assert not np.allclose(model.apply(params, ids)[:, :5], model.apply(params, changed)[:, :5])


def test_rotary_scores_depend_on_relative_position_only():
    from jaxhin.ptm import rotary

    q = jax.random.normal(jax.random.key(0), (1, 1, 1, 8))
    k = jax.random.normal(jax.random.key(1), (1, 1, 1, 8))

    def score(i, j):
        qs = rotary(jnp.zeros((1, 12, 1, 8)).at[:, i].set(q[:, 0]))[:, i]
        ks = rotary(jnp.zeros((1, 12, 1, 8)).at[:, j].set(k[:, 0]))[:, j]
        return float(jnp.sum(qs * ks))

    assert score(5, 3) == pytest.approx(score(9, 7), abs=1e-5)
    assert score(5, 3) != pytest.approx(score(5, 1), abs=1e-3)


def test_tied_embeddings_and_parameter_count():
    cfg = TransformerConfig(vocab_size=65, width=128, layers=4, heads=4, max_len=64)
    _, params, _ = _init(cfg, t=8)
    # nanoGPT's shakespeare_char model: 4 x 12 D^2 blocks + V D embedding + T D positions
    # + LayerNorm scales (no biases); the output layer is the embedding.
    d = 128
    expected = 4 * (12 * d * d + 2 * d) + 65 * d + 64 * d + d
    assert count_params(params["params"]) == expected


def test_attention_maps_are_sown_per_layer_and_head():
    model, params, ids = _init(TransformerConfig(**SMALL))
    _, state = model.apply(params, ids, mutable=["intermediates"])
    (maps,) = state["intermediates"]["blocks"]["attention"]
    assert maps.shape == (2, 2, 4, 16, 16)          # layers, batch, heads, query, key
    np.testing.assert_allclose(maps.sum(-1), 1.0, atol=1e-5)
    assert float(jnp.abs(jnp.triu(maps, 1)).max()) == 0.0


@pytest.mark.parametrize("remat", ["full", "dots"])
def test_remat_changes_no_gradient(remat):
    base, params, ids = _init(TransformerConfig(**SMALL))
    other = Transformer(TransformerConfig(**SMALL, remat=remat))

    def grads(model):
        return jax.grad(lambda p: clm_loss(model.apply(p, ids[:, :-1]), ids[:, 1:]))(params)

    for a, b in zip(jax.tree.leaves(grads(base)), jax.tree.leaves(grads(other)), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_unrolled_layer_loop_gives_the_rolled_loss_gradients_and_maps():
    cfg = TransformerConfig(**SMALL)
    assert cfg.scan_unroll == 2 and TransformerConfig(**SMALL, remat="full").scan_unroll == 1
    rolled, params, ids = _init(TransformerConfig(**SMALL, unroll=1))
    unrolled = Transformer(cfg)

    def run(model):
        loss, grads = jax.value_and_grad(
            lambda p: clm_loss(model.apply(p, ids[:, :-1]), ids[:, 1:]))(params)
        _, state = model.apply(params, ids, mutable=["intermediates"])
        return loss, grads, state["intermediates"]["blocks"]["attention"][0]

    (la, ga, ma), (lb, gb, mb) = run(rolled), run(unrolled)
    np.testing.assert_allclose(la, lb, rtol=1e-6)
    np.testing.assert_allclose(ma, mb, atol=1e-6)
    for a, b in zip(jax.tree.leaves(ga), jax.tree.leaves(gb), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_remat_plan_changes_no_gradient_and_saves_what_the_budget_allows():
    from jaxhin.ptm import BLOCK_NAMES, remat_plan

    big = TransformerConfig(vocab_size=65, width=128, layers=4, heads=4, max_len=64)
    everything, info = remat_plan(big, batch=12, seq=64, budget=1.0)
    assert everything == tuple(sorted(BLOCK_NAMES)) and info["overhead"] == 0
    some, info = remat_plan(big, batch=12, seq=64, budget=0.6)
    assert 0 < len(some) < len(BLOCK_NAMES) and info["overhead"] > 0
    with pytest.raises(ValueError, match="budget must be in"):
        remat_plan(big, batch=12, seq=64, budget=1.5)
    with pytest.raises(ValueError, match="remat_names"):
        TransformerConfig(vocab_size=65, remat_names=("qkv",))     # without remat="names"
    base, params, ids = _init(TransformerConfig(**SMALL))
    planned = Transformer(TransformerConfig(**SMALL, remat="names", remat_names=some))

    def grads(model):
        return jax.grad(lambda p: clm_loss(model.apply(p, ids[:, :-1]), ids[:, 1:]))(params)

    for a, b in zip(jax.tree.leaves(grads(base)), jax.tree.leaves(grads(planned)), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_remat_lowers_compiled_temp_memory():
    cfg = dict(vocab_size=64, width=64, layers=4, heads=4, max_len=128)
    ids = jnp.zeros((16, 128), jnp.int32)
    from jaxhin.ptm import remat_plan

    names, _ = remat_plan(TransformerConfig(**cfg), batch=16, seq=128, budget=0.6)
    temps = {}
    for remat in ("none", "full", "names"):
        model = Transformer(TransformerConfig(**cfg, remat=remat,
                                              remat_names=names if remat == "names" else ()))
        params = jax.eval_shape(model.init, jax.random.key(0), ids)
        step = jax.jit(jax.grad(lambda p, m=model: clm_loss(m.apply(p, ids), ids)))
        temps[remat] = step.lower(params).compile().memory_analysis().temp_size_in_bytes
    # the plan saves part of what "none" keeps: between the two extremes
    assert temps["full"] <= temps["names"] < temps["none"], (names, temps)


def test_bfloat16_compute_stays_close_to_float32():
    base, params, ids = _init(TransformerConfig(**SMALL))
    low = Transformer(TransformerConfig(**SMALL, dtype="bfloat16"))
    loss32 = clm_loss(base.apply(params, ids[:, :-1]), ids[:, 1:])
    loss16 = clm_loss(low.apply(params, ids[:, :-1]), ids[:, 1:])
    assert abs(float(loss32) - float(loss16)) < 0.02 * float(loss32)
    g32 = jax.grad(lambda p: clm_loss(base.apply(p, ids[:, :-1]), ids[:, 1:]))(params)
    g16 = jax.grad(lambda p: clm_loss(low.apply(p, ids[:, :-1]), ids[:, 1:]))(params)
    a, b = (jnp.concatenate([x.ravel() for x in jax.tree.leaves(g)]) for g in (g32, g16))
    cos = float(a @ b / (jnp.linalg.norm(a) * jnp.linalg.norm(b)))
    assert cos > 0.99


def test_mlm_corruption_follows_bert():
    ids = jnp.full((400, 100), 7, jnp.int32)
    inputs, positions, targets = mlm_inputs(jax.random.key(0), ids, mask_id=2, vocab_size=50)
    assert positions.shape == (400, 15) and (targets == 7).all()
    chosen = np.asarray(jnp.take_along_axis(inputs, positions, axis=1))
    masked, kept = (chosen == 2).mean(), (chosen == 7).mean()
    assert 0.77 < masked < 0.83 and 0.09 < kept < 0.12       # 80% mask, 10% + 1/50 kept
    assert (np.sort(np.asarray(positions), 1)[:, 1:] != np.sort(np.asarray(positions), 1)[:, :-1]).all()
    untouched = np.ones((400, 100), bool)
    untouched[np.arange(400)[:, None], np.asarray(positions)] = False
    assert (np.asarray(inputs)[untouched] == 7).all()


def test_mlm_logits_only_at_the_chosen_positions():
    model, params, ids = _init(TransformerConfig(**SMALL, causal=False))
    positions = jnp.array([[1, 5], [0, 15]])
    full = model.apply(params, ids)
    at = model.apply(params, ids, positions=positions)
    np.testing.assert_allclose(at, jnp.take_along_axis(full, positions[..., None], 1), atol=1e-5)


def test_config_validates():
    with pytest.raises(ValueError, match="divisible"):
        TransformerConfig(vocab_size=10, width=30, heads=4)
    with pytest.raises(ValueError, match="remat"):
        TransformerConfig(vocab_size=10, remat="some")
    with pytest.raises(ValueError, match="unroll must be None or in"):
        TransformerConfig(vocab_size=10, layers=4, unroll=5)
