"""Tiny end-to-end: train (and resume), evaluate, index, search — all in-process on CPU."""

import json
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from PIL import Image

from hieralign.cli import main as cli_main
from hieralign.index.search import LineSearcher
from hieralign.train.line_cli import parse_args
from hieralign.train.line_clip_task import train_line_clip
from hieralign.utils.checkpoint import load_weights


def _args(ds, out, *extra):
    return ["--seed-alias", "--train-mode", "line_clip", "--dataset-dir", str(ds),
            "--train-manifest", str(ds / "train.jsonl"), "--val-manifest", str(ds / "val.jsonl"),
            "--index-manifest", str(ds / "test.jsonl"), "--output-dir", str(out),
            "--model-name-or-path", "tiny", "--text-encoder-name-or-path", "tiny", "--image-height", "32",
            "--image-width", "128", "--embed-dim", "16", "--batch-size", "8", "--lr", "1e-3", "--warmup-steps", "1",
            "--max-steps", "4", "--checkpoint-every-steps", "2", "--keep-checkpoints", "5", "--num-threads", "1", *extra]


@pytest.fixture(scope="module")
def trained(tiny_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    summary = train_line_clip(*parse_args(_args(tiny_dataset, out)))
    return out, summary


def test_training_writes_seed_artifacts_and_validates(trained):
    out, summary = trained
    assert summary["step"] == 4 and summary["last_val"]["step"] == 4
    for name in ("text_hierarchy_vit_backbone/config.json", "text_hierarchy_projection_head.pt",
                 "text_hierarchy_clip_text_encoder/config.json", "text_hierarchy_clip_text_projection_head.pt",
                 "training_config.json", "faiss_embeddings.npy", "faiss_embeddings_meta.parquet",
                 "checkpoint_step_0000002_text_hierarchy_projection_head.pt",
                 "checkpoint_step_0000002_training_config.json", "checkpoint_step_0000002_text_hierarchy_vit_backbone"):
        assert (out / name).exists(), name
    torch.load(out / "text_hierarchy_clip_text_projection_head.pt", weights_only=True)
    vectors = np.load(out / "faiss_embeddings.npy")
    meta = pq.read_table(out / "faiss_embeddings_meta.parquet").to_pydict()
    assert len(vectors) == len(meta["id"]) and set(meta["modality"]) == {"image", "text"}
    assert set(meta["split"]) == {"train", "val", "test"}
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert any("val" in rec and "val_t2i_r1" in rec["val"] for rec in log)
    history = json.loads((out / "history.json").read_text())
    assert [h["step"] for h in history] == [2, 4] and "val_i2t_r1" in history[-1]


def test_resume_continues_exactly(trained, tiny_dataset, tmp_path):
    out, _ = trained
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    for name in ("checkpoint_step_0000002.safetensors", "checkpoint_step_0000002.state.pt"):
        shutil.copy(out / name, resumed)
    summary = train_line_clip(*parse_args(_args(tiny_dataset, resumed)))
    assert summary["step"] == 4
    full, _ = load_weights(out / "checkpoint_step_0000004.safetensors")
    again, _ = load_weights(resumed / "checkpoint_step_0000004.safetensors")
    for key in full:
        assert torch.equal(full[key], again[key]), key


def test_eval_cli(trained, tiny_dataset, tmp_path, capsys):
    out, _ = trained
    assert cli_main(["eval", "line", "--model", str(out), "--manifest", str(tiny_dataset / "test.jsonl"),
                     "--dataset-dir", str(tiny_dataset), "--json", str(tmp_path / "r.json")]) == 0
    results = json.loads((tmp_path / "r.json").read_text())["results"]
    assert results["all"]["t2i_n"] > 0 and 0.0 <= results["all"]["t2i_r1"] <= 1.0
    assert "t2i R@1" in capsys.readouterr().out


def test_index_build_add_info_and_search(trained, tiny_dataset, tmp_path, capsys):
    out, _ = trained
    index_dir = tmp_path / "index"
    assert cli_main(["index", "build", "--model", str(out), "--output", str(index_dir), "--manifest",
                     str(tiny_dataset / "test.jsonl"), "--dataset-dir", str(tiny_dataset)]) == 0
    assert cli_main(["index", "add", "--index", str(index_dir), "--manifest", str(tiny_dataset / "val.jsonl"),
                     "--dataset-dir", str(tiny_dataset)]) == 0
    capsys.readouterr()
    assert cli_main(["index", "info", "--index", str(index_dir)]) == 0
    info = json.loads(capsys.readouterr().out)
    test_lines = sum(1 for _ in open(tiny_dataset / "test.jsonl"))
    val_lines = sum(1 for _ in open(tiny_dataset / "val.jsonl"))
    assert info["vectors"] == {"image": test_lines + val_lines, "text": test_lines + val_lines}
    query = json.loads((tiny_dataset / "test.jsonl").read_text().splitlines()[0])
    assert cli_main(["search", "--model", str(out), "--index", str(index_dir), "--text", query["text"],
                     "--top-k", "3", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "text2line" and len(result["results"]) == 3
    assert all(h["modality"] == "image" for h in result["results"])
    # text2text finds the identical stored transcription first (same text -> same embedding)
    assert cli_main(["search", "--model", str(out), "--index", str(index_dir), "--text", query["text"],
                     "--mode", "text2text", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["text"] == query["text"]
    assert cli_main(["search", "--model", str(out), "--index", str(index_dir), "--image",
                     str(tiny_dataset / query["line_path"]), "--mode", "image2line"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("image2line: top 10") and query["line_path"] in table


def test_searcher_api_uses_training_embeddings(trained, tiny_dataset):
    out, _ = trained
    searcher = LineSearcher.from_dir(out)
    row = json.loads((tiny_dataset / "val.jsonl").read_text().splitlines()[0])
    with Image.open(tiny_dataset / row["line_path"]) as im:
        hits = searcher.search_image(im, k=2)
    assert set(hits) == {"texts", "lines"} and len(hits["texts"]) == 2
    assert hits["lines"][0]["path"] == row["line_path"] and hits["lines"][0]["score"] == pytest.approx(1.0, abs=1e-4)
    card = searcher.card()
    assert card["embed_dim"] == 16 and card["index"]["vectors"]["image"] > 0


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_index_kinds_round_trip_and_recall(tmp_path, kind):
    from hieralign.index.faiss_index import LineIndex, build_index

    rng = np.random.default_rng(0)
    centers = rng.normal(size=(20, 32))
    vectors = centers[rng.integers(0, 20, 2000)] + 0.3 * rng.normal(size=(2000, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    meta = {"id": [f"l{i}" for i in range(2000)], "modality": ["image", "text"] * 1000,
            "path": [f"p{i}.png" for i in range(2000)], "text": [f"t{i}" for i in range(2000)],
            "split": ["test"] * 2000, "source": ["d"] * 2000, "style": ["print"] * 2000}
    index = build_index(vectors, meta, kind=kind)
    if kind != "flat":
        assert index.recall["image"] >= 0.9 and index.recall["text"] >= 0.9
    index.save(tmp_path / "idx")
    loaded = LineIndex.load(tmp_path / "idx")
    hits = loaded.search(vectors[4:5], 1, "image")[0]
    assert hits[0]["id"] == "l4" and hits[0]["modality"] == "image" and hits[0]["score"] == pytest.approx(1.0, abs=1e-5)
    assert loaded.search(vectors[5:6], 1, "text")[0][0]["id"] == "l5"


def test_siglip_training_runs_and_saves_bias(tiny_dataset, tmp_path):
    args = _args(tiny_dataset, tmp_path / "siglip", "--loss", "siglip")
    args[args.index("--max-steps") + 1] = "2"
    summary = train_line_clip(*parse_args(args))
    card = json.loads((tmp_path / "siglip" / "line_clip.json").read_text())
    assert summary["step"] == 2 and card["config"]["loss"] == "siglip" and card["logit_bias"] is not None
    assert LineSearcher.from_dir(tmp_path / "siglip").encoder.model.logit_bias is not None
