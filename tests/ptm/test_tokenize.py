"""Tokenizers: round trips, specials, save and load, errors."""

import pytest

from jaxhin.data import DataError
from jaxhin.ptm import SPECIALS, load_tokenizer, train_tokenizer

TEXT = "To be, or not to be: that is the question.\nWhether 'tis nobler in the mind to suffer\n" * 20


@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
def test_round_trip_and_specials(kind, tmp_path):
    tok = train_tokenizer(kind, TEXT, vocab_size=300)
    ids = tok.encode("to be or not to be")
    assert ids.dtype.kind == "i" and len(ids) > 0 and ids.max() < tok.vocab_size
    if kind == "char":
        assert tok.decode(ids) == "to be or not to be"
    elif kind == "word":
        assert tok.decode(ids) == "to be or not to be"
    else:
        assert tok.decode(ids).strip() == "to be or not to be"
    assert sorted(tok.special_ids) == sorted({tok.pad_id, tok.unk_id, tok.mask_id, tok.cls_id,
                                              tok.sep_id})
    assert [tok.tokens[i] for i in tok.special_ids] == list(SPECIALS)
    path = tmp_path / "tok.json"
    tok.save(path)
    again = load_tokenizer(path)
    assert type(again) is type(tok) and again.vocab_size == tok.vocab_size
    assert (again.encode(TEXT[:200]) == tok.encode(TEXT[:200])).all()


def test_unknown_characters_and_words_map_to_unk():
    char = train_tokenizer("char", "abc")
    assert char.encode("az").tolist() == [char.index["a"], char.unk_id]
    word = train_tokenizer("word", "the cat", vocab_size=10)
    assert word.encode("the dog").tolist() == [word.index["the"], word.unk_id]


def test_bpe_compresses_text():
    tok = train_tokenizer("bpe", TEXT, vocab_size=400)
    assert len(tok.encode(TEXT)) < len(TEXT) / 2


def test_bad_files_and_kinds(tmp_path):
    with pytest.raises(DataError, match="no tokenizer file"):
        load_tokenizer(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "char"}')
    with pytest.raises(DataError, match="not a jaxhin tokenizer"):
        load_tokenizer(bad)
    with pytest.raises(ValueError, match="char, word, bpe"):
        train_tokenizer("sentencepiece", TEXT)
