"""A transcription index of line images, built with a CTC line recogniser (`LineRecognizer`).

Directory layout (next to embeddings, if any, of another index kind):
    index.json          format "transcripts", model hash + folder, line count, units (CTC charset)
    lines.jsonl         provenance per line: id, manifest, line_no, path (image), reference text,
                        split, source, style, face, transcription score
    transcripts.jsonl + ngrams.npz   the first stage (`TranscriptIndex`)
    ctc_outputs.npz     per-line CTC outputs pruned to the top units per frame (`PrunedOutputs`)

Every line is transcribed once, here (greedy). With `copy_images` the line images are copied
into `images/` and `path` is relative to the index folder, so the index can ship on its own.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from hieralign.index.transcripts import PrunedOutputs, TranscriptIndex, transcribe_chunk

INDEX_FORMAT = "transcripts"
CHUNK_LINES = 512  # lines decoded and transcribed together (bounds memory on big manifests)


def index_format(index_dir: str | os.PathLike) -> str:
    """"transcripts" (this module) or "embeddings" (FAISS `LineIndex`), from index.json."""
    card = Path(index_dir) / "index.json"
    if not card.is_file():
        raise FileNotFoundError(f"{card} not found: build an index with `hieralign index build`")
    return str(json.loads(card.read_text(encoding="utf-8")).get("format", "embeddings"))


def is_ctc_model(model_dir: str | os.PathLike) -> bool:
    """A line-OCR folder (config.json with a CTC charset + model.safetensors), not a line-CLIP one."""
    folder = Path(model_dir)
    if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
        return False
    try:
        return "charset" in json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


@dataclass
class BuildOptions:
    """How `build_ocr_index` reads its manifests and what it keeps."""

    dataset_dir: str | None = None  # image paths are relative to this (default: each manifest's folder)
    strict: bool = False  # a missing/unreadable image is an error instead of a counted skip
    allow_outside: bool = False  # let image paths lead outside the dataset folder
    copy_images: bool = False  # copy line images into <index>/images/ (a self-contained index)
    keep: int = 4  # CTC units kept per frame for the rerank
    batch_size: int = 32  # lines per forward pass


def _records(manifests: list[str], opts: BuildOptions) -> list[dict]:
    from hieralign.data.lines.manifest import read_manifest

    rows = []
    for manifest in manifests:
        report = read_manifest(manifest, opts.dataset_dir, strict=opts.strict, allow_outside=opts.allow_outside)
        print(f"{manifest}: {report.summary()}", file=sys.stderr)
        for problem in [*report.missing, *report.unreadable][:20]:
            print(f"  skipped {problem}", file=sys.stderr)
        root = Path(opts.dataset_dir) if opts.dataset_dir else Path(manifest).parent
        for r in report.records:
            rows.append({"manifest": str(Path(manifest).resolve()), "line_no": r.line_no,
                         "image": str(r.resolve(root).resolve()), "reference": r.text, "split": r.split or Path(manifest).stem,
                         "source": r.source, "style": r.style, "face": str(r.extra.get("face", "")),
                         "id": str(r.extra.get("id", f"{Path(manifest).stem}:{r.line_no}"))})
    return rows


def build_ocr_index(model_dir: str | os.PathLike, manifests: list[str], out: str | os.PathLike,
                    opts: BuildOptions | None = None) -> dict:
    """Transcribe every line of `manifests` with the CTC model in `model_dir` into an index at `out`."""
    from hieralign.models.line.ctc_infer import load_line_recognizer

    opts = opts or BuildOptions()
    rows = _records(manifests, opts)
    if not rows:
        from hieralign.errors import EmptyDatasetError

        raise EmptyDatasetError(f"no usable lines in {', '.join(manifests)}: nothing to index")
    model = load_line_recognizer(model_dir)
    texts, scores, outputs = transcribe_rows(model, rows, opts)
    for row, score in zip(rows, scores):
        row["transcription_score"] = round(score, 4)
    return write_index(out, model_dir, model.config.charset, rows, texts, outputs, opts.copy_images)


def transcribe_rows(model, rows: list[dict], opts: BuildOptions) -> tuple[list[str], list[float], PrunedOutputs]:
    from hieralign.models.line.ctc_infer import prepare
    from hieralign.utils.progress import progress

    texts: list[str] = []
    scores: list[float] = []
    parts = []
    bar = progress(total=len(rows), desc="transcribing", unit="line")
    for start in range(0, len(rows), CHUNK_LINES):
        chunk = rows[start:start + CHUNK_LINES]
        arrays = prepare([r["image"] for r in chunk], model.config.height)
        t, s, p = transcribe_chunk(model, arrays, opts.keep, opts.batch_size)
        texts += t
        scores += s
        parts.append(p)
        bar.update(len(chunk))
    bar.close()
    return texts, scores, PrunedOutputs.concat(parts)


def write_index(out: str | os.PathLike, model_dir: str | os.PathLike, units: str, rows: list[dict],
                texts: list[str], outputs: PrunedOutputs, copy_images: bool = False) -> dict:
    from hieralign.index.fingerprint import file_hash
    from hieralign.utils.io import atomic_write_bytes, atomic_write_json

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    if copy_images:
        (folder / "images").mkdir(exist_ok=True)
        for i, row in enumerate(rows):
            target = Path("images") / f"{i:07d}{Path(row['image']).suffix.lower() or '.png'}"
            if Path(row["image"]).resolve() != (folder / target).resolve():  # `add` keeps old copies
                shutil.copyfile(row["image"], folder / target)
            row["image"] = str(target)
    TranscriptIndex.build(texts).save(folder)
    outputs.save(folder)
    atomic_write_bytes(folder / "lines.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n"
                                                       for r in rows).encode("utf-8"))
    card = {"format": INDEX_FORMAT, "model_hash": file_hash(Path(model_dir) / "model.safetensors"),
            "model_dir": str(Path(model_dir).resolve()), "lines": len(rows), "units": units,
            "images_copied": copy_images, "keep": int(outputs.ids.shape[1]) if outputs.ids.ndim == 2 else 0,
            "manifests": sorted({r["manifest"] for r in rows}), "splits": _counts(rows, "split"),
            "styles": _counts(rows, "style")}
    atomic_write_json(folder / "index.json", card)
    return card


def _counts(rows: list[dict], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r[key] or "unknown"] = out.get(r[key] or "unknown", 0) + 1
    return dict(sorted(out.items()))


def add_to_index(index_dir: str | os.PathLike, model_dir: str | os.PathLike, manifests: list[str],
                 opts: BuildOptions | None = None) -> dict:
    """Transcribe more manifests into an existing transcription index (same model: checked)."""
    from hieralign.index.fingerprint import check_index_model, file_hash
    from hieralign.models.line.ctc_infer import load_line_recognizer

    opts = opts or BuildOptions()
    folder = Path(index_dir)
    card = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    check_index_model(card.get("model_hash", ""), file_hash(Path(model_dir) / "model.safetensors"),
                      str(folder), str(model_dir))
    old_rows = read_rows(folder)
    new_rows = _records(manifests, opts)
    model = load_line_recognizer(model_dir)
    texts, scores, outputs = transcribe_rows(model, new_rows, opts)
    for row, score in zip(new_rows, scores):
        row["transcription_score"] = round(score, 4)
    if card.get("images_copied"):
        for row in old_rows:
            row["image"] = str(folder / row["image"])
    all_texts = TranscriptIndex.load(folder).texts + texts
    merged = PrunedOutputs.concat([PrunedOutputs.load(folder), outputs])
    return write_index(folder, model_dir, card["units"], old_rows + new_rows, all_texts, merged,
                       bool(card.get("images_copied")))


def read_rows(folder: str | os.PathLike) -> list[dict]:
    text = (Path(folder) / "lines.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
