"""Sentence-classification task files: parsing, label-only lines, seeded splits, errors."""

import numpy as np
import pytest

from jaxhin.data import DataError, TaskFormatError, load_task, read_task_file, synthetic_task


def _write(path, lines, newline="\n", encoding="utf-8"):
    path.write_bytes(newline.join(lines).encode(encoding) + newline.encode())
    return path


def _lines(n=40):
    return [f"{i % 2} sentence number {i} is {'good' if i % 2 else 'bad'}" for i in range(n)]


def test_crlf_file_with_label_only_and_blank_lines(tmp_path):
    f = _write(tmp_path / "t.txt", [*_lines(6), "0", "", "1 last one"], newline="\r\n")
    labels, texts, skipped = read_task_file(f)
    assert len(texts) == 7 and skipped == [7]
    assert texts[-1] == "last one" and all("\r" not in t for t in texts)
    assert labels[:2] == ["0", "1"]


def test_seeded_split_is_disjoint_complete_and_deterministic(tmp_path):
    f = _write(tmp_path / "t.txt", _lines(40))
    a, b, c = (load_task(f, seed=s) for s in (0, 0, 1))
    assert (len(a.train), len(a.dev), len(a.test)) == (32, 4, 4)
    every = a.train.texts + a.dev.texts + a.test.texts
    assert sorted(every) == sorted(t.partition(" ")[2] for t in _lines(40))
    assert a.test.texts == b.test.texts and a.test.texts != c.test.texts
    assert a.split == "seed 0" and a.label_names == ("0", "1")


def test_labels_are_indexed_in_numeric_order_and_files_split(tmp_path):
    lines = [f"{lab} text {i}" for i, lab in enumerate([10, 2, 10, 2, 7, 7])]
    f = _write(tmp_path / "train.txt", lines)
    dev = _write(tmp_path / "dev.txt", ["7 a", "2 b"])
    test = _write(tmp_path / "test.txt", ["10 c"])
    task = load_task(f, dev_file=dev, test_file=test)
    assert task.label_names == ("2", "7", "10") and task.split == "files"
    assert task.train.labels.tolist() == [2, 0, 2, 0, 1, 1]
    assert task.dev.labels.tolist() == [1, 0] and task.test.labels.tolist() == [2]


def test_errors_name_the_file_and_line(tmp_path):
    bad = _write(tmp_path / "bad.txt", ["1 fine", "positive not a label"])
    with pytest.raises(TaskFormatError, match=r"bad\.txt, line 2: expected `<integer label>"):
        read_task_file(bad)
    train = _write(tmp_path / "train.txt", _lines(10))
    dev = _write(tmp_path / "dev.txt", ["3 unseen label"])
    with pytest.raises(TaskFormatError, match=r"dev\.txt: label 3 .* never occurs"):
        load_task(train, dev_file=dev, test_file=dev)
    one = _write(tmp_path / "one.txt", ["1 a", "1 b"])
    with pytest.raises(TaskFormatError, match="one label"):
        load_task(one)
    with pytest.raises(DataError, match="expected one of synthetic, sst2"):
        load_task(tmp_path / "missing.txt")


def test_latin1_file_decodes(tmp_path):
    f = _write(tmp_path / "mr.txt", ["1 caf\xe9 society", "0 na\xefve"], encoding="latin-1")
    assert read_task_file(f)[1] == ["café society", "naïve"]


def test_synthetic_task_follows_its_rule():
    task = synthetic_task(0, sentences=500, noise=0.0)
    for label, text in zip(task.train.labels, task.train.texts, strict=True):
        words = text.split()
        pos = sum(int(w[1:]) < 20 for w in words)
        neg = sum(20 <= int(w[1:]) < 40 for w in words)
        assert label == int(pos > neg)
    assert (len(task.train), len(task.dev), len(task.test)) == (400, 50, 50)


def test_named_tasks_from_the_data_root(shared_data):
    sst2 = load_task("sst2", root=shared_data)
    assert (len(sst2.train), len(sst2.dev), len(sst2.test)) == (6920, 872, 1821)
    assert np.bincount(sst2.test.labels).tolist() == [912, 909]
    cr = load_task("cr", seed=0, root=shared_data)
    assert cr.skipped == 4 and len(cr.train) + len(cr.dev) + len(cr.test) == 3775 - 4
