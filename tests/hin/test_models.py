"""The HGB baselines: each against a direct reference computation where the layer is small
enough to write out, and every model learning the synthetic graph."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxhin.data import SyntheticHinConfig, synthetic_hin
from jaxhin.hin import (
    MODELS,
    RGCN,
    AttentionConv,
    HeteroTransformerLayer,
    HGTLayer,
    HinContext,
    HINormerConfig,
    InputProjection,
    RGCNConfig,
    SimpleHGNConfig,
    TrainConfig,
    build_context,
    build_model,
    context_sequences,
    flat_settings,
    from_hgb,
    override,
    recipe,
    run_seeds,
    setting_names,
)
from jaxhin.hin._models import layer_edges, relation_rows
from jaxhin.hin._train import _init

# no disparate authors: whether a model learns at all is clearest where neighbourhoods agree
SMALL = SyntheticHinConfig(num_authors=300, num_papers=600, num_venues=6, attr_dim=32,
                           disparate=0.0)


@pytest.fixture(scope="module")
def small():
    return synthetic_hin(jax.random.key(0), SMALL)[0]


FAST = {"gcn": {}, "gat": {"heads": 2}, "rgcn": {}, "simplehgn": {"heads": 2},
        "hgt": {"heads": 2, "learning_rate": 5e-3, "layer_norm": True},  # as on DBLP, IMDB
        "hinormer": {"heads": 2, "gnn_layers": 2, "seq_len": 12, "learning_rate": 2e-3,
                     "lr_plateau": 0, "dropout": 0.2},
        "aghint": {"heads": 2, "gnn_layers": 2, "seq_len": 8, "top_k": 4, "learning_rate": 2e-3,
                   "dropout": 0.2}}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_learns_the_synthetic_graph(small, model):
    assert set(FAST) == set(MODELS)
    config = override(recipe(model, "synthetic"), **{"hidden": 16, "epochs": 80, "patience": 15,
                                                      "learning_rate": 5e-3, **FAST[model]})
    metrics, results = run_seeds(small, config, [0], show_progress=False)
    assert metrics["micro_f1_mean"] > 80.0, metrics  # chance is 25
    assert results[0].best_epoch < results[0].epochs_run


def test_rgcn_layer_matches_a_loop_over_relations(small):
    model, g, features = build_model(small, TrainConfig(RGCNConfig(hidden=8, layers=0)))
    assert isinstance(model, RGCN) and model.target_type == small.target_type
    model = model.clone(target_type=None)  # every node's output
    nodes = jnp.arange(g.num_nodes)
    params = model.init(jax.random.key(0), g, features, HinContext(), nodes, train=False)
    out = np.asarray(model.apply(params, g, features, HinContext(), nodes, train=False))
    p = params["params"]
    h = np.asarray(InputProjection(model.specs, 8).apply(
        {"params": p["InputProjection_0"]}, features))
    src, dst = np.asarray(g.graph.senders), np.asarray(g.graph.receivers)
    etype = np.asarray(g.graph.edges)
    expected = h @ np.asarray(p["w_self_0"]["kernel"]) + np.asarray(p["w_self_0"]["bias"])
    with pytest.raises(ValueError, match="self-loops"):
        RGCN(model.specs, 4, len(g.edge_types) + 1).init(
            jax.random.key(0), from_hgb(small), features, HinContext(), nodes, train=False)
    for r in range(len(g.edge_types)):
        mask = etype == r
        total = np.zeros((g.num_nodes, 8))
        np.add.at(total, dst[mask], h[src[mask]])
        count = np.bincount(dst[mask], minlength=g.num_nodes)[:, None]
        expected += np.where(count > 0, total / np.maximum(count, 1), 0) @ np.asarray(
            p["w_rel_0"][r])
    np.testing.assert_allclose(out, expected, rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("name", ["rgcn", "hgt"])
def test_pruning_to_the_target_type_gives_the_same_logits_and_gradients(small, name):
    heads = {"heads": 2} if name == "hgt" else {}
    config = override(TrainConfig(MODELS[name]()), hidden=8, layers=2, dropout=0.0, **heads)
    model, g, features = build_model(small, config)
    assert model.target_type == small.target_type
    full = model.clone(target_type=None)
    key = jax.random.key(0)
    ctx = build_context(key, small, g, config.model)
    full_ctx = HinContext(layer_edges=tuple(layer_edges(g, 2)) if name == "hgt" else None)
    if name == "hgt":  # the last layer reads only the edges into the target type
        assert len(ctx.layer_edges[-1].dst) < len(full_ctx.layer_edges[-1].dst)
        types = np.asarray(g.node_type)[np.asarray(ctx.layer_edges[-1].dst)]
        assert set(types.tolist()) == {small.target_type}
    nodes = jnp.asarray(small.labelled_ids)
    params = _init(full, key, g, features, full_ctx, nodes)

    def loss(m, p, c):
        logits = m.apply(p, g, features, c, nodes, train=False)
        return (logits * jnp.arange(1, logits.shape[1] + 1)[None, :]).sum(), logits

    # jitted, as `_init` is: op by op, thousands of small ops would take ~4x longer
    grad = jax.jit(jax.value_and_grad(loss, argnums=1, has_aux=True), static_argnums=0)
    (_, pruned), grads = grad(model, params, ctx)
    (_, logits), full_grads = grad(full, params, full_ctx)
    np.testing.assert_allclose(pruned, logits, rtol=1e-4, atol=1e-5)
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(full_grads), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_attention_is_a_softmax_per_target_and_residual_mixes(small):
    g = from_hgb(small)
    h = jax.random.normal(jax.random.key(1), (g.num_nodes, 8))
    conv = AttentionConv(4, 3, 0.0, 0.0, num_edge_types=len(g.edge_types), edge_dim=5, beta=0.25)
    params = conv.init(jax.random.key(0), h, g, train=False)
    _, alpha = conv.apply(params, h, g, train=False)
    per_target = jax.ops.segment_sum(alpha, g.graph.receivers, g.num_nodes)
    np.testing.assert_allclose(per_target, 1.0, rtol=1e-5)
    prev = jnp.full_like(alpha, 7.0)
    _, mixed = conv.apply(params, h, g, prev, train=False)
    np.testing.assert_allclose(mixed, 0.75 * alpha + 0.25 * 7.0, rtol=1e-5)


def test_attention_vectors_start_from_pytorch_xavier_fans(small):
    # HGB's GATConv: xavier_normal_(gain sqrt 2) on a (1, heads, width) tensor, whose PyTorch
    # fans are heads * width and width: std sqrt(2) * sqrt(2 / (heads * width + width))
    g = from_hgb(small)
    heads, width, edge_dim = 8, 64, 32
    conv = AttentionConv(width, heads, 0.0, 0.0, num_edge_types=len(g.edge_types),
                         edge_dim=edge_dim)
    params = conv.init(jax.random.key(0), jnp.zeros((g.num_nodes, 4)), g, train=False)["params"]
    for name, size in (("attn_src", width), ("attn_dst", width), ("attn_edge", edge_dim)):
        a = np.asarray(params[name])
        assert a.shape == (1, heads, size)
        expected = np.sqrt(2.0) * np.sqrt(2.0 / (heads * size + size))
        np.testing.assert_allclose(a.std(), expected, rtol=0.15, err_msg=name)


def test_simplehgn_logits_are_unit_vectors_and_see_edge_types(small):
    config = TrainConfig(SimpleHGNConfig(hidden=8, heads=2))
    model, g, features = build_model(small, config)
    nodes = jnp.asarray(small.test_ids)
    params = model.init(jax.random.key(0), g, features, HinContext(), nodes, train=False)
    logits = model.apply(params, g, features, HinContext(), nodes, train=False)
    np.testing.assert_allclose(jnp.linalg.norm(logits, axis=-1), 1.0, rtol=1e-5)
    # another edge-type embedding changes the output: the edge term is used
    bumped = jax.tree_util.tree_map_with_path(
        lambda path, x: x + 1.0 if "edge_emb" in jax.tree_util.keystr(path) else x, params)
    assert not np.allclose(model.apply(bumped, g, features, HinContext(), nodes, train=False),
                           logits)


def test_hgt_relation_rows_gather_each_edges_source(small):
    g = from_hgb(small, self_loops=False)
    rows = np.asarray(relation_rows(g))
    off = np.asarray(g.type_offsets)
    stack = np.concatenate([np.arange(off[s], off[s + 1]) for _, s, _ in g.edge_types])
    np.testing.assert_array_equal(stack[rows], np.asarray(g.graph.senders))
    with pytest.raises(ValueError, match="self-loops"):
        relation_rows(from_hgb(small))
    (edges,) = layer_edges(g, 1)  # every edge
    np.testing.assert_array_equal(np.asarray(edges.row), rows)
    np.testing.assert_array_equal(np.diff(rows[np.asarray(edges.order)]) >= 0, True)
    layer = HGTLayer(16, 4, 0.0)
    h = jax.random.normal(jax.random.key(0), (g.num_nodes, 16))
    params = layer.init(jax.random.key(1), h, g, edges, train=False)
    out = layer.apply(params, h, g, edges, train=False)
    assert out.shape == h.shape and np.isfinite(np.asarray(out)).all()


def _transformer_layer_directly(params, h, r, heads, temperature, beta):
    """HINormer's Transformer layer written out term by term (the module docstring's score)."""
    p = {k: v["kernel"] for k, v in params["params"].items() if "Dense" in k}
    (b, s, width), t = h.shape, r.shape[-1]
    d = width // heads
    fl, fr = (h @ p["Dense_0"]).reshape(b, s, heads, d), (h @ p["Dense_1"]).reshape(b, s, heads, d)
    rs = (r @ p["Dense_4"]).reshape(b, s, heads, t)
    rt = (r @ p["Dense_5"]).reshape(b, s, heads, t)
    score = ((jax.nn.leaky_relu(fl, 0.2) @ p["Dense_2"])[..., 0][:, :, None, :]  # (b, i, 1, heads)
             + (jax.nn.leaky_relu(fr, 0.2) @ p["Dense_3"])[..., 0][:, None, :, :]  # (b, 1, j, heads)
             + beta * jnp.einsum("bihk,bjhk->bijh", rs, rt)) / temperature
    alpha = jax.nn.softmax(score, axis=2)
    context = jnp.einsum("bijh,bjhd->bihd", alpha, fr).reshape(b, s, width)
    x = h + context @ p["Dense_6"]
    ln = params["params"]["LayerNorm_0"]
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    # PyTorch's nn.LayerNorm epsilon, as the reference
    return (x - mean) / jnp.sqrt(var + 1e-5) * ln["scale"][None, None] + ln["bias"][None, None]


@pytest.mark.parametrize("scale", [1.0, 1e-3])  # at 1e-3 the LayerNorm epsilon matters
def test_hetero_transformer_layer_matches_a_direct_computation(scale):
    b, s, width, heads, t, temperature, beta = 3, 7, 8, 2, 4, 0.5, 0.3
    h = scale * jax.random.normal(jax.random.key(0), (b, s, width))
    r = jax.random.normal(jax.random.key(1), (b, s, t))
    layer = HeteroTransformerLayer(width, heads, 0.0, temperature, beta)
    params = layer.init(jax.random.key(2), h, r, train=False)
    out = np.asarray(layer.apply(params, h, r, train=False))
    expected = _transformer_layer_directly(params, h, r, heads, temperature, beta)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    first = layer.apply(params, h, r, train=False, first_only=True)
    assert first.shape == (b, 1, width)
    np.testing.assert_allclose(first[:, 0], out[:, 0], rtol=1e-5, atol=1e-5)
    # gradients too: the layer's custom backward (`jaxhin.train.dense_dot`) against autodiff of
    # the direct form; a_l and W_l get zero (a term constant over the keys cancels in the
    # softmax), so an absolute tolerance covers their rounding noise
    c = jax.random.normal(jax.random.key(3), out.shape)
    got = jax.jit(jax.grad(lambda p, h: (layer.apply(p, h, r, train=False) * c).sum(),
                           (0, 1)))(params, h)
    want = jax.jit(jax.grad(lambda p, h: (_transformer_layer_directly(
        p, h, r, heads, temperature, beta) * c).sum(), (0, 1)))(params, h)
    assert jax.tree.structure(got) == jax.tree.structure(want)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("num_nodes", [5, 40])  # fewer nodes than tokens, and more
@pytest.mark.parametrize("first_only", [False, True])
def test_hetero_transformer_layer_on_node_rows_matches_the_gathered_tokens(num_nodes, first_only):
    b, s, width, t = 3, 7, 8, 4
    h = jax.random.normal(jax.random.key(0), (num_nodes, width))
    r = jax.random.normal(jax.random.key(1), (num_nodes, t))
    seq = jax.random.randint(jax.random.key(2), (b, s), 0, num_nodes)
    layer = HeteroTransformerLayer(width, 2, 0.5, 0.5, 0.3)
    params = layer.init(jax.random.key(3), h[seq], r[seq], train=False)
    assert jax.tree.structure(params) == jax.tree.structure(
        layer.init(jax.random.key(3), h, r, seq, train=False))
    for train in (False, True):  # with dropout too: the masks have the tokens' shapes
        rngs = {"dropout": jax.random.key(4)}
        expected = layer.apply(params, h[seq], r[seq], train=train, first_only=first_only,
                               rngs=rngs)
        got = layer.apply(params, h, r, seq, train=train, first_only=first_only, rngs=rngs)
        assert got.shape == (b, 1 if first_only else s, width)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_hetero_transformer_layer_starts_from_pytorch_linear_init():
    # the reference's nn.Linear layers: uniform(+-1/sqrt(fan_in)), variance 1/(3 fan_in);
    # Flax's default (lecun_normal, variance 1/fan_in) changed DBLP's validation F1 by 2 points
    width, t = 256, 4
    h = jnp.zeros((2, 5, width))
    params = HeteroTransformerLayer(width, 2, 0.0, 1.0, 1.0).init(
        jax.random.key(0), h, jnp.zeros((2, 5, t)), train=False)["params"]
    kernels = {k: np.asarray(v["kernel"]) for k, v in params.items() if "Dense" in k}
    assert len(kernels) == 7
    for name, kernel in kernels.items():
        bound = 1 / np.sqrt(kernel.shape[0])
        assert np.abs(kernel).max() <= bound, name
        if kernel.size >= 1000:  # enough entries for the spread to be a test
            np.testing.assert_allclose(kernel.std(), bound / np.sqrt(3), rtol=0.1, err_msg=name)


def test_hinormer_readout_bias_starts_from_pytorch_linear_init(small):
    config = TrainConfig(HINormerConfig(hidden=64, seq_len=6, gnn_layers=1, layers=1))
    model, g, features = build_model(small, config)
    context = build_context(jax.random.key(0), small, g, config.model)
    nodes = jnp.arange(small.type_offsets[0], small.type_offsets[0] + 4)
    params = model.init(jax.random.key(1), g, features, context, nodes, train=False)["params"]
    bias = np.asarray(params["Dense_0"]["bias"])
    assert np.abs(bias).max() <= 1 / 8 and np.abs(bias).min() > 0  # uniform(+-1/sqrt(64))


def test_context_sequences_are_breadth_first(small):
    g = from_hgb(small)
    nodes = np.arange(0, 40)
    seq = context_sequences(jax.random.key(0), g, nodes, 10)
    assert seq.shape == (40, 10) and (seq[:, 0] == nodes).all()
    src, dst = np.asarray(g.graph.senders), np.asarray(g.graph.receivers)
    for i, v in enumerate(nodes):
        neighbours = set(dst[(src == v) & (dst != v)].tolist())
        first = seq[i, 1:1 + min(len(neighbours), 9)]
        assert set(first.tolist()) <= neighbours  # first the node's own neighbours
        if len(neighbours) <= 9:
            assert set(first.tolist()) == neighbours
    again = context_sequences(jax.random.key(0), g, nodes, 10)
    np.testing.assert_array_equal(seq, again)  # the key decides


def test_recipes_set_the_reference_settings():
    def flat(model, dataset):
        return flat_settings(recipe(model, dataset))

    assert flat("simplehgn", "DBLP")["feats_type"] == 3
    # the README's HGB lines' width and depth, as chosen on validation
    assert {k: flat("hinormer", "IMDB")[k] for k in ("hidden", "gnn_layers", "relation_beta")
            } == {"hidden": 256, "gnn_layers": 4, "relation_beta": 0.5}
    assert recipe("gcn", "synthetic") == recipe("gcn", "anything else")
    # IMDB runs HGB's run_multi.py, whose defaults are not run.py's
    assert {k: flat("gat", "IMDB")[k] for k in ("layers", "negative_slope")
            } == {"layers": 4, "negative_slope": 0.1}  # its learning rate chosen on validation
    assert {k: flat("simplehgn", "IMDB")[k] for k in ("layers", "learning_rate",
                                                        "weight_decay", "negative_slope")
            } == {"layers": 5, "learning_rate": 1e-3, "weight_decay": 2e-4, "negative_slope": 0.1}
    assert flat("gcn", "IMDB")["weight_decay"] == 1e-4 and flat("gcn", "ACM")[
        "weight_decay"] == 1e-6
    for model in MODELS:
        for dataset in ("DBLP", "ACM", "IMDB"):
            config = recipe(model, dataset)
            assert config.model_name == model and isinstance(config.model, MODELS[model])
            assert set(flat_settings(config)) == {"model", *setting_names(model)}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_a_model_takes_only_its_own_settings(model):
    config = recipe(model, "ACM")
    others = {s for m in MODELS for s in setting_names(m)} - set(setting_names(model))
    assert others or model == "aghint"  # AGHINT has every setting some model has
    for setting in sorted(others):
        with pytest.raises(ValueError, match=f"{setting}: not a setting of model '{model}'"):
            override(config, **{setting: 1})
    # and every own setting round-trips through its flat name
    for setting, value in flat_settings(config).items():
        if setting != "model":
            assert flat_settings(override(config, **{setting: value}))[setting] == value


@pytest.mark.parametrize("heads", [None, 3])
def test_chunked_aggregate_matches_segment_sum_with_gradients(heads):
    from jaxhin.hin._aggregate import aggregate

    k = jax.random.split(jax.random.key(0), 4)
    n, e = 50, 700  # 700 is not a multiple of the chunk: padding is exercised
    shape = (n, heads, 4) if heads else (n, 4)
    values = jax.random.normal(k[0], shape)
    weights = jax.random.uniform(k[1], (e, heads) if heads else (e,))
    src = jax.random.randint(k[2], (e,), 0, n)
    dst = jax.random.randint(k[3], (e,), 0, n - 5)  # the last rows get nothing

    def loss(chunk):
        return lambda v, w: (aggregate(v, w, src, dst, n, chunk=chunk) ** 2 * jnp.arange(
            n).reshape(n, *([1] * (len(shape) - 1)))).sum()

    np.testing.assert_allclose(aggregate(values, weights, src, dst, n, chunk=64),
                               aggregate(values, weights, src, dst, n, chunk=None),
                               rtol=1e-5, atol=1e-5)
    for plain, chunked in zip(jax.grad(loss(None), argnums=(0, 1))(values, weights),
                              jax.grad(loss(64), argnums=(0, 1))(values, weights), strict=True):
        np.testing.assert_allclose(chunked, plain, rtol=1e-4, atol=1e-4)
