"""HGB loader: the real datasets' statistics, the cache, feats_type, and errors naming lines."""

import shutil

import numpy as np
import pytest

from jaxhin.data import HgbFormatError, feature_specs, load_hgb, load_hgb_folder

# HGB's published statistics (and the shared data README).
STATS = {"DBLP": (26128, 239566, 4, 1217, 2840, False),
         "ACM": (10942, 547872, 3, 907, 2118, False),
         "IMDB": (21420, 86642, 5, 1371, 3202, True)}


@pytest.mark.parametrize("name", sorted(STATS))
def test_real_datasets_match_hgb_statistics(shared_data, tmp_path, name):
    data = load_hgb(name, shared_data, cache=tmp_path)
    nodes, links, classes, labelled, test, multi = STATS[name]
    assert (data.num_nodes, len(data.src), data.num_classes) == (nodes, links, classes)
    assert (len(data.labelled_ids), len(data.test_ids), data.multi_label) == (labelled, test,
                                                                             multi)
    assert not set(data.labelled_ids) & set(data.test_ids)
    target = slice(data.type_offsets[data.target_type], data.type_offsets[data.target_type + 1])
    assert np.all((data.test_ids >= target.start) & (data.test_ids < target.stop))
    cached = load_hgb(name, shared_data, cache=tmp_path)  # second load reads the .npz
    np.testing.assert_array_equal(cached.test_labels, data.test_labels)
    assert len(list((tmp_path / "hgb").glob("*.npz"))) == 1


def test_dblp_attributes(shared_data, tmp_path):
    data = load_hgb("DBLP", shared_data, cache=tmp_path)
    assert data.dims == (334, 4231, 50, 0)
    papers = data.dense(1)
    assert papers.shape == (14328, 4231)
    assert (papers >= 0).all() and np.array_equal(papers, papers.round())  # word counts
    assert [s.kind for s in feature_specs(data, 0)] == ["given", "given", "given", "embedding"]
    assert [s.kind for s in feature_specs(data, 1)] == ["given", "zeros", "zeros", "zeros"]
    assert [s.kind for s in feature_specs(data, 3)] == ["embedding"] * 4
    assert [(s.kind, s.dim) for s in feature_specs(data, 4)][2] == ("given", 50)
    with pytest.raises(ValueError, match="feats_type"):
        feature_specs(data, 6)


def test_tiny_folder_and_cache_invalidation(tmp_path, write_hgb):
    folder = write_hgb()
    data = load_hgb_folder(folder, cache=tmp_path / "c")
    assert data.num_nodes == 3 and data.labelled.tolist() == [0]
    np.testing.assert_array_equal(data.dense(0), [[1, 0], [0, 1]])
    (folder / "label.dat.test").write_text("1\tn1\t0\t0\n")  # new size+mtime -> new cache key
    assert load_hgb_folder(folder, cache=tmp_path / "c").test_labels.tolist() == [0]
    assert len(list((tmp_path / "c" / "hgb").glob("*.npz"))) == 2


@pytest.mark.parametrize("file, text, message", [
    ("node.dat", "0\tn0\t0\t1,0\n1\tn1\n2\t\t1\n", r"node.dat:2: expected 3 or 4"),
    ("node.dat", "0\tn0\t0\t1,0\n1\tn1\t0\t0,1,1\n2\t\t1\n", r"node.dat:2: 3 attributes"),
    ("node.dat", "0\tn0\t0\t1,0\n1\tn1\t7\t0,1\n2\t\t1\n", r"node.dat:2: node type 7"),
    ("link.dat", "0\t2\t0\t1.0\n1\tx\t0\t1.0\n", r"link.dat:2: expected 4 tab-separated"),
    ("link.dat", "0\t2\t0\t1.0\n1\t9\t0\t1.0\n", r"link.dat:2: node id out of range"),
    ("link.dat", "0\t2\t0\t1.0\n1\t0\t0\t1.0\n", r"link.dat:2: link type 0 joins types 0->1"),
    ("label.dat", "2\t\t1\t0\n", r"label.dat:1: labels must be on the target type 0, got "
                                  r"type 1"),
    ("label.dat", "2\t\t0\t0\n", r"label.dat:1: node 2 has type 1 in node.dat, not 0"),
    ("label.dat", "99999\tx\t0\t0\n", r"label.dat:1: node 99999 is not in node.dat \(ids 0..2\)"),
    ("label.dat", "", r"label.dat: no labelled nodes"),
    ("label.dat", "\n\n", r"label.dat: no labelled nodes"),
    ("label.dat.test", "", r"label.dat.test: no labelled nodes"),
    ("label.dat", "0\tn0\t0\t0\n0\tn0\t0\t1\n", r"label.dat:2: node 0 is labelled again \(first "
                                                r"on line 1\)"),
    ("label.dat.test", "1\tn1\t0\t1\n0\tn0\t0\t0\n", r"label.dat.test:2: node 0 is also "
                                                     r"labelled in label.dat \(line 1\)"),
    ("label.dat.test", "1\tn1\t0\t-1\n", r"label.dat.test:1: negative class id"),
    ("label.dat.test", "1\tn1\t0\tz\n", r"label.dat.test:1: expected integer"),
])
def test_malformed_lines_are_named_and_nothing_is_cached(tmp_path, write_hgb, file, text,
                                                         message):
    folder = write_hgb()
    (folder / file).write_text(text)
    with pytest.raises(HgbFormatError, match=message):
        load_hgb_folder(folder, cache=tmp_path / "c")
    assert not list((tmp_path / "c").rglob("*.npz*"))


@pytest.mark.parametrize("damage", ["truncated", "not gzip", "not utf-8"])
def test_corrupt_node_file_is_named(tmp_path, write_hgb, damage):
    import gzip

    folder = write_hgb()
    text = (folder / "node.dat").read_bytes()
    (folder / "node.dat").unlink()
    packed = gzip.compress(text * 50)
    (folder / "node.dat.gz").write_bytes({"truncated": packed[:len(packed) // 2],
                                          "not gzip": text,
                                          "not utf-8": gzip.compress(b"0\tn\xff\xfe\t0\n")}[damage])
    with pytest.raises(HgbFormatError, match=r"node.dat.gz:\d+: cannot be read as gzip-compressed"):
        load_hgb_folder(folder, cache=tmp_path / "c")


def test_crlf_label_files_load(tmp_path, write_hgb):
    folder = write_hgb(labels="0\tn0\t0\t0\r\n", test="1\tn1\t0\t1\r\n")
    data = load_hgb_folder(folder, cache=tmp_path / "c")
    assert (data.labelled.tolist(), data.test_labels.tolist()) == ([0], [1])


@pytest.mark.parametrize("damage", ["truncate", "garbage", "pickle"])
def test_unreadable_cache_is_rebuilt_with_a_warning(tmp_path, write_hgb, damage):
    folder = write_hgb()
    load_hgb_folder(folder, cache=tmp_path / "c")
    [entry] = (tmp_path / "c" / "hgb").glob("*.npz")
    if damage == "truncate":
        entry.write_bytes(entry.read_bytes()[:40])
    elif damage == "garbage":
        entry.write_bytes(b"not a zip file at all" * 10)
    else:  # an .npz whose arrays need pickle, which the loader refuses
        np.savez(entry.with_suffix(""), meta=np.array([{"a": 1}], dtype=object))
    with pytest.warns(UserWarning, match=r"unreadable .* rebuilding it"):
        data = load_hgb_folder(folder, cache=tmp_path / "c")
    assert data.test_labels.tolist() == [1]
    load_hgb_folder(folder, cache=tmp_path / "c")  # healed: no warning, same entry
    assert len(list((tmp_path / "c" / "hgb").glob("*.npz"))) == 1


def test_same_size_edit_with_mtime_restored_is_not_stale(tmp_path, write_hgb):
    import os

    folder = write_hgb()
    path = folder / "label.dat.test"
    stat = path.stat()
    assert load_hgb_folder(folder, cache=tmp_path / "c").test_labels.tolist() == [1]
    path.write_text("1\tn1\t0\t0\n")  # same size, another class
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert load_hgb_folder(folder, cache=tmp_path / "c").test_labels.tolist() == [0]


def test_missing_file_is_named(tmp_path, write_hgb):
    folder = write_hgb()
    (folder / "link.dat").unlink()
    with pytest.raises(FileNotFoundError, match=r"lacks link\.dat"):
        load_hgb_folder(folder, cache=tmp_path / "c")
    shutil.rmtree(folder)


def _small_synthetic():
    import jax

    from jaxhin.data import SyntheticHinConfig, synthetic_hin

    return synthetic_hin(jax.random.key(1), SyntheticHinConfig(
        num_authors=60, num_papers=90, num_venues=4, attr_dim=8))[0]


def test_saved_folder_loads_back_the_same_graph(tmp_path):
    from jaxhin.data import save_hgb_folder

    data = _small_synthetic()
    back = load_hgb_folder(save_hgb_folder(data, tmp_path / "syn"), cache=tmp_path / "c")
    assert (back.node_types, back.edge_types, back.class_names, back.target_type) == (
        data.node_types, data.edge_types, data.class_names, data.target_type)
    for name in ("type_offsets", "src", "dst", "edge_type", "weight", "labelled_ids",
                 "labelled", "test_ids", "test_labels"):
        np.testing.assert_array_equal(getattr(back, name), getattr(data, name), err_msg=name)
    for t in range(3):
        np.testing.assert_array_equal(back.dense(t), data.dense(t))


def test_folder_without_info_crlf_and_no_attributes_is_inferred(tmp_path):
    from jaxhin.data import save_hgb_folder

    data = _small_synthetic()
    folder = save_hgb_folder(data, tmp_path / "bare", info=False, attributes=False,
                             newline="\r\n")
    assert not (folder / "info.dat").exists()
    assert (folder / "link.dat").read_bytes().count(b"\r\n") == len(data.src)
    back = load_hgb_folder(folder, cache=tmp_path / "c")
    assert back.node_types == ("type0", "type1", "type2")
    assert [e[1:] for e in back.edge_types] == [e[1:] for e in data.edge_types]
    assert back.target_type == 0 and back.class_names == ("0", "1", "2", "3")
    assert back.features == (None, None, None) and back.dims == (0, 0, 0)
    np.testing.assert_array_equal(back.test_labels, data.test_labels)
    # a featureless target keeps its identity (a learned embedding) where a feats_type keeps
    # the target's features (1, 2) or embeds the rest; 5 zeroes all but type 2, as HGB's does
    for feats_type in range(5):
        assert feature_specs(back, feats_type)[0].kind == "embedding"


def test_inferred_link_type_must_join_the_same_types(tmp_path, write_hgb):
    folder = write_hgb(links="0\t2\t0\t1.0\n2\t1\t0\t1.0\n")
    (folder / "info.dat").unlink()
    with pytest.raises(HgbFormatError, match=r"link.dat:2: link type 0 joins types 0->1"):
        load_hgb_folder(folder, cache=tmp_path / "c")
