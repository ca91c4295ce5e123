from __future__ import annotations

import json

import pytest

from hieralign.knowledge.charsets import charset
from hieralign.knowledge.vocab import (
    SPECIAL_TOKENS,
    Vocabulary,
    build_ids_vocabulary,
    build_stroke_vocabulary,
)


def test_encode_decode_roundtrip():
    vocab = Vocabulary.from_tokens(["⿰", "木", "日"])
    assert vocab.tokens[:4] == list(SPECIAL_TOKENS) and vocab.pad_id == 0
    ids = vocab.encode(["⿰", "木", "月"], add_cls=True, add_eos=True)
    assert ids == [vocab.cls_id, 4, 5, vocab.unk_id, vocab.eos_id]
    assert vocab.decode(ids) == ["⿰", "木"]
    assert vocab.decode(ids, skip_special=False)[3] == "<unk>"


def test_hash_and_json():
    vocab = Vocabulary.from_tokens(["a", "b"])
    assert vocab.hash == Vocabulary.from_tokens(["a", "b"]).hash
    assert vocab.hash != Vocabulary.from_tokens(["b", "a"]).hash
    again = Vocabulary.from_json(json.dumps(vocab.to_json()))
    assert again.tokens == vocab.tokens
    bad = vocab.to_json() | {"hash": "0" * 16}
    with pytest.raises(ValueError, match="hash mismatch"):
        Vocabulary.from_json(bad)
    with pytest.raises(ValueError, match="must start"):
        Vocabulary(["a"])


def test_ids_vocabulary_is_stable():
    chars = charset("etl9g")[:300]
    a = build_ids_vocabulary(chars, "J")
    b = build_ids_vocabulary(list(reversed(chars)), "J")
    assert a.tokens == b.tokens and a.hash == b.hash
    assert "⿰" in a and "木" in a
    assert build_ids_vocabulary(chars, "J", min_count=5).tokens != a.tokens
    assert len(build_ids_vocabulary(chars, "J", min_count=5)) < len(a)


def test_stroke_vocabulary():
    vocab = build_stroke_vocabulary()
    assert vocab.encode(["1", "5"]) == [4, 8]
