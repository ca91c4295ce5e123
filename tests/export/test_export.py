import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import hieralign
from hieralign.export.onnx_io import read_metadata, session
from hieralign.export.runtime import OnnxCharRecognizer
from hieralign.models.char.recognizer import CharRecognizer
from hieralign.testing.tiny import render_set

FAMILIES = ("IPAGothic", "IPAMincho")


@pytest.fixture(scope="module")
def torch_rec(tiny_checkpoint):
    return CharRecognizer.from_checkpoint(tiny_checkpoint)


@pytest.fixture(scope="module")
def glyphs(torch_rec):
    chars = torch_rec.meta["train_chars"]
    images, labels = render_set(chars, FAMILIES, torch_rec.image_size, torch_rec.margin)
    return images, labels, chars


def test_manifest_and_onnx_metadata_describe_the_model(export_dir, torch_rec):
    manifest = json.loads((export_dir / "export.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "hieralign-char-onnx/1"
    assert manifest["vocab_hash"] == torch_rec.tokenizer.hash
    assert manifest["preprocessing"]["image_size"] == torch_rec.image_size
    assert manifest["config"]["embed_dim"] == torch_rec.model.config.embed_dim
    for name in ("image_tower.onnx", "image_tower.int8.onnx", "text_tower.onnx"):
        meta = read_metadata(export_dir / name)
        assert meta["vocab_hash"] == torch_rec.tokenizer.hash and meta["charset"]["train"] == torch_rec.meta["train_chars"]
        assert meta["config"] == manifest["config"]
        # no exporting machine's source paths ship inside the model
        assert str(Path(hieralign.__file__).parent) not in (export_dir / name).read_bytes().decode("latin-1")
    etl = manifest["candidate_sets"]["etl9g"]
    matrix = np.load(export_dir / etl["file"])
    chars = (export_dir / etl["chars"]).read_text(encoding="utf-8").split()
    assert matrix.shape == (3036, torch_rec.model.config.embed_dim) == (len(chars), etl["dim"])
    int8 = manifest["int8"]  # static by default; dynamic only as the better-agreeing fallback
    assert int8["bytes"] > 0 and "top1_agreement_held_out" in int8
    static = int8 if int8["method"] == "static" else int8["fallback_from"]
    assert static["method"] == "static" and static["per_channel"] and static["kept_float"]
    if int8["method"] == "dynamic":
        assert int8["top1_agreement_held_out"] > static["top1_agreement_held_out"]
    else:
        assert int8["top1_agreement_held_out"] >= 0.995 or "dynamic_tried" in int8
    assert manifest["parity"]["image_max_abs_diff"] < 1e-4


def test_named_io_and_dynamic_batch(export_dir):
    image = session(export_dir / "image_tower.onnx")
    assert [i.name for i in image.get_inputs()] == ["images"] and image.get_outputs()[0].name == "embeddings"
    assert not isinstance(image.get_inputs()[0].shape[0], int)  # symbolic batch axis
    text = session(export_dir / "text_tower.onnx")
    assert [i.name for i in text.get_inputs()] == ["strokes", "ids"]


@pytest.mark.parametrize("batch", [1, 3])
def test_image_tower_parity_fp32(export_dir, torch_rec, glyphs, batch):
    images = glyphs[0][:batch].astype(np.float32)[:, None] / 255.0
    with torch.no_grad():
        ref = torch_rec.encode_images(torch.from_numpy(images)).numpy()
    got = session(export_dir / "image_tower.onnx").run(None, {"images": images})[0]
    assert got.shape == ref.shape == (batch, torch_rec.model.config.embed_dim)
    assert np.abs(got - ref).max() < 1e-4


@pytest.mark.parametrize("chars", ["漢", "漢字学"])  # zero-shot characters, not among the 16 trained ones
def test_text_tower_parity_fp32(export_dir, torch_rec, chars):
    onnx_rec = OnnxCharRecognizer.from_dir(export_dir)
    got = onnx_rec.encode_candidates(list(chars))
    ref = torch_rec.encode_candidates(list(chars)).numpy()
    assert got.shape == (len(chars), torch_rec.model.config.embed_dim)
    assert np.abs(got - ref).max() < 1e-4


def test_int8_top1_agreement_on_generated_glyphs(export_dir, glyphs):
    images, _, chars = glyphs
    rng = np.random.default_rng(0)
    shifted = [np.roll(img, tuple(rng.integers(-2, 3, size=2)), axis=(0, 1)) for img in images for _ in range(4)]
    fp32 = OnnxCharRecognizer.from_dir(export_dir).recognize(shifted, candidates=list(chars), top_k=1)
    int8 = OnnxCharRecognizer.from_dir(export_dir, int8=True).recognize(shifted, candidates=list(chars), top_k=1)
    agree = np.mean([a[0]["char"] == b[0]["char"] for a, b in zip(fp32, int8)])
    assert len(shifted) == 4 * len(images) >= 128
    assert agree >= 0.99, f"INT8 top-1 agreement {agree:.3f}"


@pytest.mark.parametrize("candidates", ["model", "etl9g"])
def test_recognize_onnx_equals_torch(export_dir, torch_rec, glyphs, candidates):
    images, labels, chars = glyphs
    cands = list(chars) if candidates == "model" else candidates
    ref = torch_rec.recognize(list(images), candidates=cands, top_k=5)
    got = OnnxCharRecognizer.from_dir(export_dir).recognize(list(images), candidates=cands, top_k=5)
    # Same ranking wherever the scores are not tied within float noise, same scores everywhere.
    for row_got, row_ref in zip(got, ref):
        for rank, (a, b) in enumerate(zip(row_got, row_ref)):
            assert abs(a["score"] - b["score"]) <= 2e-4
            tied = any(abs(b["score"] - other["score"]) <= 2e-4 for j, other in enumerate(row_ref) if j != rank)
            assert a["char"] == b["char"] or tied, (rank, row_got, row_ref)
    assert got[0][0]["decomposition"] == ref[0][0]["decomposition"]
    if candidates == "model":  # the model learnt its 16 classes: recognition is meaningful, not noise
        assert np.mean([row[0]["char"] == chars[i] for row, i in zip(got, labels)]) >= 0.8


def test_missing_int8_file_and_bad_dir_give_clear_errors(tmp_path, export_dir):
    with pytest.raises(FileNotFoundError, match="export.json"):
        OnnxCharRecognizer.from_dir(tmp_path)
    (tmp_path / "export.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match="not a character export"):
        OnnxCharRecognizer.from_dir(tmp_path)


def test_cli_exports_and_reports(tiny_checkpoint, tmp_path):
    out = tmp_path / "cli"
    proc = subprocess.run([sys.executable, "-m", "hieralign.cli", "export", "--model", str(tiny_checkpoint),
                           "--format", "onnx", "--out", str(out), "--candidates", "kana", "--int8-method", "static",
                           "--calibration", "16", "--int8"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    static = report["int8"] if report["int8"]["method"] == "static" else report["int8"]["fallback_from"]
    assert static["method"] == "static" and static["calibration_images"] == 16
    assert "candidates/kana.npy" in report["files"]
    assert (out / "image_tower.int8.onnx").is_file()
    bad = subprocess.run([sys.executable, "-m", "hieralign.cli", "export", "--model", str(tmp_path / "nope"),
                          "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no such checkpoint" in bad.stderr


def test_recognize_cli_onnx_backend_gives_the_torch_answers(export_dir, tiny_checkpoint, glyphs, tmp_path, capsys):
    from PIL import Image

    from hieralign import recognize

    images, _, chars = glyphs
    (tmp_path / "glyphs").mkdir()
    for i, g in enumerate(images[:6]):
        Image.fromarray(255 - g).save(tmp_path / "glyphs" / f"g{i}.png")  # dark ink on white, as scanned
    (tmp_path / "cands.txt").write_text(chars, encoding="utf-8")
    answers = {}
    for backend, model in (("torch", tiny_checkpoint), ("onnx", export_dir), ("onnx-int8", export_dir)):
        assert recognize.main([str(tmp_path / "glyphs"), "--model", str(model), "--backend", backend, "--format", "json",
                               "--candidates", str(tmp_path / "cands.txt"), "--top-k", "3"]) == 0
        answers[backend] = json.loads(capsys.readouterr().out)
    top = {b: [[c["char"] for c in r["results"]] for r in out] for b, out in answers.items()}
    assert top["onnx"] == top["torch"] and len(top["torch"]) == 6
    assert [r[0] for r in top["onnx-int8"]] == [r[0] for r in top["torch"]]


def test_auto_backend_finds_an_export_next_to_its_checkpoint_only_for_the_same_weights(
        export_dir, tiny_checkpoint, tmp_path):
    import shutil

    from hieralign.export.runtime import find_export
    from hieralign.recognize import load_backend

    ckpt = tmp_path / "model.safetensors"
    shutil.copy(tiny_checkpoint, ckpt)
    assert find_export(ckpt) is None and type(load_backend("auto", str(ckpt)).encoder).__name__ == "TorchCharEncoder"
    shutil.copytree(export_dir, tmp_path / "onnx")
    assert find_export(ckpt) == tmp_path / "onnx" and find_export(tmp_path) == tmp_path / "onnx"
    assert type(load_backend("auto", str(ckpt)).encoder).__name__ == "OnnxCharEncoder"
    assert find_export(export_dir) == export_dir  # an export dir is itself
    with open(ckpt, "ab") as f:  # other weights: the stale export is never picked up
        f.write(b"\0")
    assert find_export(ckpt) is None
