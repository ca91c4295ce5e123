import math

import numpy as np
import pytest
import torch
from PIL import Image

from hieralign.data.lines.height import to_height
from hieralign.models.line.ctc import BLANK, Charset, LineRecognizer, LineRecognizerConfig, build_charset
from hieralign.models.line.ctc_decode import (
    Lexicon,
    beam_decode,
    beam_decode_one,
    ctc_log_likelihood,
    greedy_decode,
)
from hieralign.models.line.ctc_infer import load_line_recognizer, pad_batch, transcribe_images, width_batches

TIB = "ཀཁགང་སྒྲུབ།"


def _model(**kw) -> LineRecognizer:
    torch.manual_seed(0)
    return LineRecognizer(LineRecognizerConfig(charset=build_charset([TIB]), **kw)).eval()


def test_output_does_not_depend_on_the_batch():
    model = _model()
    rng = np.random.default_rng(0)
    arrays = [(rng.random((48, w)) * 255).astype(np.uint8) for w in (37, 120, 81)]
    alone = [model(*pad_batch([a]))[0][:, 0] for a in arrays]
    together, lengths = model(*pad_batch(arrays))
    for b, a in enumerate(arrays):
        n = int(lengths[b])
        assert n == a.shape[1] // 2  # horizontal stride 2
        torch.testing.assert_close(together[:n, b], alone[b][:n], atol=1e-5, rtol=1e-4)


def test_config_checks_and_charset_hash(tmp_path):
    with pytest.raises(ValueError, match="5 conv"):
        LineRecognizerConfig(charset="ab", channels=[8, 8])
    with pytest.raises(ValueError, match="hash mismatch"):
        LineRecognizerConfig(charset="ab", charset_hash="0" * 16)
    model = _model(lstm_hidden=16)
    model.save_pretrained(tmp_path / "m")
    assert {p.name for p in (tmp_path / "m").iterdir()} >= {"config.json", "model.safetensors"}
    loaded = load_line_recognizer(tmp_path / "m")
    assert loaded.config == model.config and not loaded.training
    x = pad_batch([np.full((48, 40), 200, np.uint8)])
    torch.testing.assert_close(loaded(*x)[0], model(*x)[0])
    with pytest.raises(FileNotFoundError, match="not a line-OCR model"):
        load_line_recognizer(tmp_path)


def test_charset_is_nfc_and_one_based():
    cs = Charset(build_charset(["\u0f40\u0f72", "e\u0301"]))  # NFC composes e + acute
    assert "\u00e9" in cs.units and "\u0301" not in cs.units
    assert min(cs.encode("\u0f40")) >= 1 and cs.decode(cs.encode("\u0f40\u0f72")) == "\u0f40\u0f72"
    assert cs.encode("Z") == []  # unknown characters cannot be read, so they are dropped


def _peaked(charset: Charset, frames: list[str | None], sharp: float = 6.0) -> torch.Tensor:
    """(T, 1, V) log-probs whose argmax spells `frames` (None = blank)."""
    logits = torch.zeros(len(frames), 1, len(charset))
    for t, c in enumerate(frames):
        logits[t, 0, BLANK if c is None else charset.index[c]] = sharp
    return logits.log_softmax(-1)


def test_greedy_beam_and_likelihood_agree_on_a_clear_line():
    cs = Charset(build_charset([TIB]))
    frames = ["ཀ", "ཀ", None, "ཁ", None, "ཁ", "་", None]
    lp = _peaked(cs, frames)
    lengths = torch.tensor([len(frames)])
    assert greedy_decode(lp, lengths, cs)[0][0] == "ཀཁཁ་"
    assert beam_decode(lp, lengths, cs, beam=4)[0][0] == "ཀཁཁ་"
    scores = ctc_log_likelihood(lp.expand(-1, 3, -1), lengths.repeat(3), ["ཀཁཁ་", "ཀཁ་", "གཁཁ་"], cs)
    assert int(scores.argmax()) == 0 and scores[0] > -1.0
    too_long = ctc_log_likelihood(lp, lengths, ["ཀཁགངཀཁགངཀ"], cs)
    assert math.isinf(float(too_long[0]))  # more units than frames: impossible, not a crash


def test_lexicon_turns_an_ambiguous_syllable_into_a_known_one():
    cs = Charset(build_charset([TIB]))
    lp = _peaked(cs, ["ག", None, "་"], sharp=2.0).clone()
    lp[0, 0, cs.index["ཁ"]] = lp[0, 0, cs.index["ག"]] - 0.2  # ཁ almost as likely as ག
    lp = lp.log_softmax(-1)
    plain, _ = beam_decode_one(lp[:, 0].numpy(), cs, beam=8)
    constrained, _ = beam_decode_one(lp[:, 0].numpy(), cs, beam=8, lexicon=Lexicon(frozenset({"ཁ"}), bonus=2.0))
    assert plain == "ག་" and constrained == "ཁ་"


def test_width_batches_group_similar_widths():
    widths = [500, 40, 510, 45, 1000]
    batches = width_batches(widths, max_batch=2)
    assert sorted(i for b in batches for i in b) == list(range(5))
    assert [sorted(widths[i] for i in b) for b in batches] == [[40, 45], [500, 510], [1000]]


def test_transcribe_images_and_height_normalisation(tmp_path):
    image = Image.new("L", (300, 60), 230)
    image.paste(20, (30, 15, 200, 45))
    ink = to_height(image)
    assert ink.shape == (48, 240) and ink.max() == 255 and ink[0, 0] == 0  # width kept: 300 * 48/60
    image.save(tmp_path / "a.png")
    out = transcribe_images(_model(lstm_hidden=16), [tmp_path / "a.png", image])
    assert len(out) == 2 and out[0] == out[1] and set(out[0]) == {"text", "score"} and out[0]["score"] <= 0
