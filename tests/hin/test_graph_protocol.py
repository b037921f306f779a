"""Typed graphs and the HGB protocol pieces."""

import numpy as np
import pytest
from jax.experimental import sparse

from jaxhin.data import load_hgb
from jaxhin.hin import (
    from_hgb,
    node_features,
    score_test_set,
    split_train_val,
    write_submission,
)


@pytest.fixture(scope="module")
def acm(shared_data, tmp_path_factory):
    return load_hgb("ACM", shared_data, cache=tmp_path_factory.mktemp("cache"))


def test_graph_edges_reverses_and_self_loops(acm):
    plain = from_hgb(acm, reverse=False, self_loops=False)
    assert plain.num_edges == 547872 and plain.num_nodes == 10942
    full = from_hgb(acm)
    # ACM declares every reverse (cite/ref, paper-author/author-paper, ...): only self-loops add.
    assert full.num_edges == 547872 + 10942
    assert full.edge_types[-1] == ("self", -1, -1)
    etype = np.asarray(full.graph.edges)
    src, dst = np.asarray(full.graph.senders), np.asarray(full.graph.receivers)
    node_type = np.asarray(full.node_type)
    for e, (_, s, t) in enumerate(full.edge_types[:-1]):
        mask = etype == e
        assert set(node_type[src[mask]]) == {s} and set(node_type[dst[mask]]) == {t}
    loops = etype == len(full.edge_types) - 1
    np.testing.assert_array_equal(src[loops], dst[loops])


def test_reverse_edges_added_when_missing(tmp_path, write_hgb):
    from jaxhin.data import load_hgb_folder

    g = from_hgb(load_hgb_folder(write_hgb(), cache=tmp_path / "c"), self_loops=False)
    assert g.edge_types == (("a-b", 0, 1), ("rev:a-b", 1, 0))
    edges = zip(np.asarray(g.graph.senders).tolist(), np.asarray(g.graph.receivers).tolist(),
                np.asarray(g.graph.edges).tolist(), strict=True)
    assert sorted(edges) == [(0, 2, 0), (1, 2, 0), (2, 0, 1), (2, 1, 1)]
    assert np.all(np.diff(np.asarray(g.graph.receivers)) >= 0)  # sorted by target


def test_features_sparse_where_large(acm, shared_data, tmp_path):
    specs, feats = node_features(acm, 0)
    assert [s.kind for s in specs] == ["given", "given", "given", "embedding"]
    assert feats[3] is None
    dblp = load_hgb("DBLP", shared_data, cache=tmp_path)
    _, dblp_feats = node_features(dblp, 0)
    assert isinstance(dblp_feats[1], sparse.BCOO) and dblp_feats[1].shape == (14328, 4231)
    np.testing.assert_array_equal(np.asarray(dblp_feats[1].todense())[:50], dblp.dense(1)[:50])


def test_split_is_seeded_and_disjoint(acm):
    train, val = split_train_val(acm, 0)
    again, _ = split_train_val(acm, 0)
    other, _ = split_train_val(acm, 1)
    assert np.array_equal(train, again) and not np.array_equal(train, other)
    assert len(val) == round(0.2 * len(acm.labelled_ids))
    assert not set(train) & set(val) and len(train) + len(val) == len(acm.labelled_ids)


def test_scores_and_submission_round_trip(acm, tmp_path):
    num = len(acm.test_ids)
    perfect = np.eye(acm.num_classes)[acm.test_labels] * 10
    assert score_test_set(acm, perfect) == {"macro_f1": 1.0, "micro_f1": 1.0}
    path = write_submission(tmp_path, acm, 0, perfect)
    assert path.name == "ACM_1.txt"
    lines = path.read_text().splitlines()
    assert len(lines) == num
    ids, names, types, labels = zip(*(line.split("\t") for line in lines), strict=True)
    assert list(map(int, ids)) == acm.test_ids.tolist() and set(names) == {""}
    assert set(types) == {"0"} and list(map(int, labels)) == acm.test_labels.tolist()
    with pytest.raises(ValueError, match="test nodes"):
        score_test_set(acm, perfect[:-1])
