"""ONNX export of a line-CLIP directory (tiny model built by the test)."""

def test_line_model_exports_to_onnx_with_parity(line_model_dir, tmp_path):
    """`hieralign export` on a line-CLIP dir: both towers, batch 1 and 3 within 1e-4 of PyTorch."""
    import json

    from hieralign.export import cli
    from hieralign.export.onnx_io import read_metadata, session

    model_dir, _ = line_model_dir
    assert cli.main(["--model", str(model_dir), "--format", "onnx", "--out", str(tmp_path), "--int8"]) == 0
    manifest = json.loads((tmp_path / "export.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "hieralign-line-onnx/1" and manifest["int8"]["method"] == "dynamic"
    assert max(manifest["parity"].values()) < 1e-4 and len(manifest["parity"]) == 4
    assert read_metadata(tmp_path / "line_text_tower.onnx")["text_max_length"] == manifest["text_max_length"]
    text = session(tmp_path / "line_text_tower.onnx")
    assert [i.name for i in text.get_inputs()] == ["input_ids", "attention_mask"]
