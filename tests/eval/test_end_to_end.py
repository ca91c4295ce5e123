"""Tiny end-to-end run, in-process: train char -> eval char -> recognize, on glyphs the test renders."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from train.storefix import render_store, train_args

from hieralign import recognize
from hieralign.eval import char_cli as eval_cli
from hieralign.models.char.recognizer import CharRecognizer
from hieralign.train import char_cli as train_cli


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_store):
    out = tmp_path_factory.mktemp("run")
    assert train_cli.main(train_args(tiny_store, out)) == 0  # --preset lite: Hi-GITA
    return out


@pytest.fixture(scope="module")
def unseen_store(tmp_path_factory, tiny_chars):
    return render_store(tmp_path_factory.mktemp("eval") / "unseen", tiny_chars[1], shifts=(0,), style="printed")


def test_eval_zero_shot_report_and_confusions(trained, unseen_store, tiny_chars, tmp_path):
    cand_file = tmp_path / "cands.txt"
    cand_file.write_text("".join(tiny_chars[1]), encoding="utf-8")
    out = tmp_path / "report.json"
    argv = ["--checkpoint", str(trained), "--data-dir", str(unseen_store.path), "--candidates", str(cand_file),
            "--out", str(out)]
    assert eval_cli.main(argv) == 0
    report = json.loads(out.read_text())
    assert report["overall"]["n"] == len(unseen_store) and report["candidates"] == 12
    assert 0 <= report["overall"]["top1"] <= report["overall"]["top5"] <= 1
    assert report["zero_shot"] and report["candidates_seen_in_training"] == 0
    assert set(report["by_source"]) == set(unseen_store.source_names)
    assert sum(s["n"] for s in report["by_source"].values()) == len(unseen_store)
    assert report["card"]["model"] in ("higita", "hiercode")
    # both regimes reported apart (DESIGN §4); the unseen store is printed in the prototype font
    assert set(report["descriptors"]) == {"decomposition", "both"} and report["regime"] == "both"
    assert report["descriptors"]["both"]["overall"]["top1"] >= report["descriptors"]["decomposition"]["overall"]["top1"]
    with Image.open(out.with_suffix(".confusions.png")) as png:
        assert png.size[0] > 100


def test_closed_mode_scores_training_classes(trained, tiny_store, tmp_path):
    out = tmp_path / "closed.json"
    argv = ["--checkpoint", str(trained / "best.safetensors"), "--data-dir", str(tiny_store.path),
            "--mode", "closed", "--out", str(out)]
    assert eval_cli.main(argv) == 0
    report = json.loads(out.read_text())
    assert not report["zero_shot"] and report["overall"]["n"] > 0


def test_checkpoint_round_trip_and_recognizer_api(trained, unseen_store):
    rec = CharRecognizer.from_checkpoint(trained / "best.safetensors")
    again = CharRecognizer.from_checkpoint(trained)
    images = torch.from_numpy(np.array(unseen_store.images[:4])).float()[:, None] / 255
    emb = rec.encode_images(images)
    assert emb.shape == (4, rec.model.config.embed_dim)
    assert torch.allclose(emb.norm(dim=1), torch.ones(4), atol=1e-5)
    assert torch.equal(emb, again.encode_images(images))
    cands = list("亜唖娃阿哀愛")
    assert rec.encode_candidates(cands) is rec.encode_candidates(cands)  # cached
    with torch.no_grad():
        assert torch.allclose(rec.image_tower(images), emb)
    top = rec.recognize([np.asarray(unseen_store.images[0])], candidates=cands, top_k=3)[0]
    assert [t["char"] for t in top] != [] and len(top) == 3
    assert top[0]["score"] >= top[1]["score"] >= top[2]["score"]
    assert all(t["decomposition"] for t in top)
    card = rec.card()
    assert card["vocab_hash"] == rec.tokenizer.hash and card["preprocessing"]["image_size"] == 64


def test_recognize_cli_reads_files_either_polarity(trained, unseen_store, tmp_path, capsys):
    glyph = np.asarray(unseen_store.images[0])
    Image.fromarray(255 - glyph).save(tmp_path / "dark_on_light.png")  # a scan: dark ink on light paper
    Image.fromarray(glyph).convert("RGB").save(tmp_path / "light_on_dark.jpg", quality=95)
    argv = [str(tmp_path), "--model", str(trained), "--candidates", "".join(unseen_store.charset[:12]) + ",joyo",
            "--top-k", "2", "--format", "json"]
    assert recognize.main(argv) == 2  # a bare string of characters is not a charset argument
    assert "neither a known name" in capsys.readouterr().err
    argv[4] = "joyo"
    assert recognize.main(argv) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["file"].rsplit("/", 1)[-1] for r in results] == ["dark_on_light.png", "light_on_dark.jpg"]
    # both polarities normalise to the same glyph, so the two files get the same answer
    assert results[0]["results"][0]["char"] == results[1]["results"][0]["char"]
    assert recognize.main([str(tmp_path / "missing.png"), "--model", str(trained)]) == 2
