"""AGHINT: AGM's edge weights and AGT's similar nodes against brute-force references, the model's
context and ablation switches, and the CLI."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxhin.cli import main
from jaxhin.data import SyntheticHinConfig, synthetic_hin
from jaxhin.hin import (
    AgmConfig,
    agm_edge_weights,
    build_context,
    build_model,
    from_hgb,
    logits,
    override,
    recipe,
    similar_nodes,
)
from jaxhin.hin._models import AttentionConv
from jaxhin.hin._train import _init

SMALL = SyntheticHinConfig(num_authors=120, num_papers=200, num_venues=5, attr_dim=24)


@pytest.fixture(scope="module")
def small():
    return synthetic_hin(jax.random.key(3), SMALL)[0]


def _real_valued(data):
    """`data` with its target attributes scaled by per-entry random factors (cosine, not
    Jaccard), and one all-zero row."""
    t = data.target_type
    values, indices, indptr = data.features[t]
    values = values * (1 + np.arange(len(values)) % 3).astype(np.float32)
    values[indptr[5]:indptr[6]] = 0.0
    features = list(data.features)
    features[t] = (values, indices, indptr)
    return dataclasses.replace(data, features=tuple(features))


def _similarity(x, binary):
    if binary:
        inter = x @ x.T
        size = x.sum(1)
        union = size[:, None] + size[None, :] - inter
        return np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
    norm = np.linalg.norm(x, axis=1)
    denom = norm[:, None] * norm[None, :]
    return np.divide(x @ x.T, denom, out=np.zeros_like(denom), where=denom > 0)


def _brute_force_weights(data, g, config):
    t = data.target_type
    lo, hi = data.type_offsets[t], data.type_offsets[t + 1]
    x = data.dense(t)
    sim = _similarity(x, np.isin(x, (0, 1)).all())
    neighbours = {v: set() for v in range(data.num_nodes)}
    for a, b in zip(data.src, data.dst, strict=True):
        if a != b:
            neighbours[a].add(b)
            neighbours[b].add(a)

    def target(v):
        return lo <= v < hi

    out = []
    for s, r in zip(np.asarray(g.graph.senders), np.asarray(g.graph.receivers), strict=True):
        paths = []
        if s != r:
            if target(s) and target(r):
                paths.append(sim[s - lo, r - lo])
            if config.hops == 2:
                for end, mid in ((s, r), (r, s)):
                    if target(end):
                        paths += [sim[end - lo, v - lo] for v in neighbours[mid]
                                  if target(v) and v != end]
        out.append(np.mean(config.weight(np.asarray(paths))) if paths else 1.0)
    return np.asarray(out)


@pytest.mark.parametrize("config", [AgmConfig(), AgmConfig(gamma=0.8, hops=1),
                                    AgmConfig(gamma=0.3, mode="threshold", threshold=0.6)])
@pytest.mark.parametrize("real_valued", [False, True])
def test_agm_weights_match_a_loop_over_paths(small, config, real_valued):
    data = _real_valued(small) if real_valued else small
    g = from_hgb(data)
    got = agm_edge_weights(data, g, config, block=32)  # several blocks, the last one padded
    want = _brute_force_weights(data, g, config)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # weighted paths and edges on none (the synthetic graph has no author-author edges)
    assert (got < 1).any() == (config.hops == 2) and (got == 1).any()


def test_agm_weights_see_target_to_target_edges(small):
    # link some authors directly (author-author, a length-1 path), so that each edge is also
    # on length-2 paths through the other end
    data = dataclasses.replace(small, src=np.concatenate([small.src, [0, 1, 2]]).astype(np.int32),
                               dst=np.concatenate([small.dst, [1, 2, 3]]).astype(np.int32),
                               edge_type=np.concatenate([small.edge_type, [4, 4, 4]]),
                               weight=np.concatenate([small.weight, np.ones(3, np.float32)]),
                               edge_types=(*small.edge_types, ("author-author", 0, 0)))
    g = from_hgb(data)
    config = AgmConfig(gamma=0.9)
    np.testing.assert_allclose(agm_edge_weights(data, g, config, block=50),
                               _brute_force_weights(data, g, config), rtol=1e-5, atol=1e-6)


def test_relative_agm_weights_reweight_within_each_receiver_and_type(small):
    g = from_hgb(small)
    absolute = agm_edge_weights(small, g, AgmConfig(gamma=0.9), block=50)
    got = agm_edge_weights(small, g, AgmConfig(gamma=0.9, relative=True), block=50)
    senders, receivers = np.asarray(g.graph.senders), np.asarray(g.graph.receivers)
    types = np.asarray(g.graph.edges)
    loops = senders == receivers
    np.testing.assert_array_equal(got[loops], 1.0)
    groups = {}
    for e in np.flatnonzero(~loops):
        groups.setdefault((receivers[e], types[e]), []).append(e)
    assert any(len(set(np.round(absolute[e], 6))) > 1 for e in groups.values())
    for edges in groups.values():
        # geometric mean 1 in every group, and the absolute weights' ratios within it
        np.testing.assert_allclose(np.exp(np.log(got[edges]).mean()), 1.0, rtol=1e-5)
        np.testing.assert_allclose(got[edges] / got[edges[0]],
                                   absolute[edges] / absolute[edges[0]], rtol=1e-5)


@pytest.mark.parametrize("real_valued", [False, True])
def test_similar_nodes_are_the_top_k_of_the_full_matrix(small, real_valued):
    data = _real_valued(small) if real_valued else small
    x = data.dense(data.target_type)
    sim = _similarity(x, not real_valued)
    np.fill_diagonal(sim, -np.inf)
    got = similar_nodes(data, 5, block=32) - data.type_offsets[data.target_type]
    assert got.shape == (len(x), 5)
    assert (got != np.arange(len(x))[:, None]).all()  # never the node itself
    picked = np.take_along_axis(sim, got, 1)
    kth = -np.sort(-sim, 1)[:, 4]
    assert (np.diff(picked, axis=1) <= 1e-6).all()  # most similar first
    np.testing.assert_allclose(picked[:, -1], kth, atol=1e-6)  # the k best (ties aside)
    with pytest.raises(ValueError, match="top_k=120 must be smaller"):
        similar_nodes(data, 120)


def test_agm_config_checks_its_fields():
    with pytest.raises(ValueError, match="agm_mode must be one of"):
        AgmConfig(mode="steep")
    with pytest.raises(ValueError, match="agm_hops must be 1 or 2"):
        AgmConfig(hops=3)


def _model(data, **changes):
    top_k = {"top_k": 3} if changes.get("agt", True) else {}
    config = override(recipe("aghint", "synthetic"), hidden=16, seq_len=6, **top_k, **changes)
    model, g, features = build_model(data, config)
    context = build_context(jax.random.key(0), data, g, config.model)
    nodes = jnp.arange(4, dtype=jnp.int32)
    params = _init(model, jax.random.key(1), g, features, context, nodes)  # jitted: faster
    return model, g, features, context, nodes, params


@pytest.mark.parametrize("local", ["gcn", "simplehgn"])
def test_ablations_remove_what_they_name(small, local):
    model, g, features, context, nodes, params = _model(small, local=local)
    assert context.similar is not None and context.edge_weight is not None
    base = logits(model, params, g, features, context, nodes)  # jitted, one compile
    # AGM: the edge weights reach the logits; AGT: so do the similar nodes
    bent = dataclasses.replace(context, edge_weight=jnp.ones_like(context.edge_weight))
    assert not np.allclose(logits(model, params, g, features, bent, nodes), base)
    swapped = dataclasses.replace(context, similar=context.similar[::-1])
    assert not np.allclose(logits(model, params, g, features, swapped, nodes), base)
    for ablate, gone in (("agm", "edge_weight"), ("agt", "similar")):
        model, g, features, context, nodes, params = _model(small, local=local,
                                                            **{ablate: False})
        assert getattr(context, gone) is None
        assert jax.tree.structure(params) == jax.tree.structure(_model(small, local=local)[-1])


@pytest.mark.parametrize("local", ["gcn", "simplehgn"])
def test_aghint_without_agm_weights_all_one_equals_with_them(small, local):
    # with every AGM weight 1 the weighted normalisation is the plain one, and the attention
    # logits gain log 1 = 0
    model, g, features, context, nodes, params = _model(small, local=local)
    off = _model(small, local=local, agm=False)[0]
    ones = dataclasses.replace(context, edge_weight=jnp.ones_like(context.edge_weight))
    np.testing.assert_allclose(model.apply(params, g, features, ones, nodes, train=False),
                               off.apply(params, g, features, context, nodes, train=False),
                               rtol=1e-5, atol=1e-6)


def test_attention_edge_bias_multiplies_the_attention_by_the_weights(small):
    # AGM in the attention logits: alpha_ij ~ w_ij exp(e_ij), i.e. the unweighted attention
    # times w, renormalised over each node's incoming edges
    g = from_hgb(small)
    conv = AttentionConv(4, 2, 0.0, 0.0, num_edge_types=len(g.edge_types), edge_dim=3)
    h = jax.random.normal(jax.random.key(0), (g.num_nodes, 5))
    params = conv.init(jax.random.key(1), h, g, train=False)
    w = jax.random.uniform(jax.random.key(2), (g.num_edges,), minval=0.1, maxval=1.0)
    _, plain = conv.apply(params, h, g, train=False)
    _, weighted = conv.apply(params, h, g, train=False, edge_bias=jnp.log(w))
    scaled = plain * w[:, None]
    expected = scaled / jax.ops.segment_sum(scaled, g.graph.receivers, g.num_nodes)[
        g.graph.receivers]
    np.testing.assert_allclose(weighted, expected, rtol=1e-5, atol=1e-7)
    assert not np.allclose(weighted, plain)


def test_learned_agm_scale_starts_at_the_fixed_weights_and_scales_each_head(small):
    model, g, features, context, nodes, _ = _model(small, local="simplehgn")
    learned, _, _, _, _, lparams = _model(small, local="simplehgn", agm_learn_scale=True)
    scales = {k: v for k, v in lparams["params"].items() if k.startswith("agm_scale_")}
    assert sorted(scales) == ["agm_scale_0", "agm_scale_1"]
    assert all(v.shape == (model.config.gnn_heads,) for v in scales.values())
    # at initialisation softplus(theta) = 1: the same logits as the fixed weights
    shared = {"params": {k: v for k, v in lparams["params"].items() if k not in scales}}
    np.testing.assert_allclose(learned.apply(lparams, g, features, context, nodes, train=False),
                               model.apply(shared, g, features, context, nodes, train=False),
                               rtol=1e-5, atol=1e-6)
    # a scale of 0 in every head of every layer is AGHINT without AGM
    off = {"params": {**lparams["params"],
                      **{k: jnp.full_like(v, -1e4) for k, v in scales.items()}}}
    no_agm = _model(small, local="simplehgn", agm=False)[0]
    np.testing.assert_allclose(learned.apply(off, g, features, context, nodes, train=False),
                               no_agm.apply(shared, g, features, context, nodes, train=False),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="agm_learn_scale needs local='simplehgn'"):
        _model(small, local="gcn", agm_learn_scale=True)


def test_aghint_rejects_an_unknown_local_encoder(small):
    with pytest.raises(ValueError, match="local='gin': expected one of"):
        _model(small, local="gin")
    with pytest.raises(SystemExit) as exit_:
        main(["hin", "train", "--model", "aghint", "--local", "gin", "--quiet"])
    assert exit_.value.code == 2


def test_cli_aghint_needs_target_attributes(write_hgb, capsys):
    folder = write_hgb(nodes="0\tn0\t0\n1\tn1\t0\n2\t\t1\n")  # the target type has none
    with pytest.raises(SystemExit) as exit_:
        main(["hin", "train", "--dataset", str(folder), "--model", "aghint", "--quiet"])
    assert exit_.value.code == 2
    assert "target type 'a' has no attributes" in capsys.readouterr().err


def test_cli_ablates_a_module_and_compares_on_the_same_seeds(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["hin", "train", "--model", "aghint", "--ablate", "agt", "--compare", "gcn",
                 "--seeds", "0", "--epochs", "3", "--hidden", "8", "--seq-len", "4", "--quiet",
                 "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    train = record["config"]["train"]
    assert train["model"] == "aghint" and train["agt"] is False and train["agm"] is True
    compared = record["metrics"]["compare"]["gcn"]
    assert [r["seed"] for r in compared["per_seed"]] == [0]
    assert record["config"]["compare"]["gcn"]["model"] == "gcn"
    table = capsys.readouterr().out
    assert "aghint - gcn" in table and "disparity quintile" in table
    with pytest.raises(SystemExit) as exit_:  # only AGHINT has modules to ablate
        main(["hin", "train", "--model", "gat", "--ablate", "agm", "--quiet"])
    assert exit_.value.code == 2
