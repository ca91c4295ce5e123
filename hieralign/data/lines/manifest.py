"""JSONL line manifests in the OpenPecha / BDRC convention.

One JSON object per line: an image path (relative to the dataset root) and its transcription,
under any of the aliases those datasets use, plus optional provenance (`source`/`doc_id`),
`style` and `split`. Rows whose image is missing or not an image are counted and reported, never
dropped silently; `strict=True` turns the first such row into an error naming file and line.
A malformed line, or an image path that leads outside the dataset folder (`../../etc/passwd`),
is a `ManifestError` (a `UserError`: one line naming file:line) unless `allow_outside=True`.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from hieralign.errors import UserError

# Keys tried in order; the first present and non-empty wins.
IMAGE_KEYS = ("line_path", "src__image", "image", "image_path", "path", "line_image")
TEXT_KEYS = ("text", "src__label", "label", "transcription", "line_text")
SOURCE_KEYS = ("source", "doc_id", "document", "volume_id")

_WHITESPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFC + every whitespace run collapsed to one space + stripped (DESIGN §4)."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


@dataclass
class LineRecord:
    """One line image with its transcription."""

    image_path: str  # path as written in the manifest (relative to the dataset root, or absolute)
    text: str  # normalised transcription
    source: str = ""  # document / volume the line comes from (splits never cut a document)
    style: str = ""  # e.g. print | cursive | degraded; empty when unknown
    split: str = ""  # train | val | test, when the manifest says
    line_no: int = 0  # 1-based line in the manifest, for error messages
    extra: dict = field(default_factory=dict)  # every other key of the row, kept for provenance

    def resolve(self, dataset_dir: str | os.PathLike | None) -> Path:
        """Absolute path of the image."""
        path = Path(self.image_path)
        if path.is_absolute() or dataset_dir is None:
            return path
        return Path(dataset_dir) / path

    def to_json(self) -> dict:
        row = {"line_path": self.image_path, "text": self.text, "source": self.source,
               "style": self.style, "split": self.split}
        row.update(self.extra)
        return row


@dataclass
class ManifestReport:
    """What reading a manifest found."""

    records: list[LineRecord]  # usable rows
    missing: list[str] = field(default_factory=list)  # "manifest:line: path" of absent images
    unreadable: list[str] = field(default_factory=list)  # images that exist but do not decode
    skipped_rows: list[str] = field(default_factory=list)  # rows without image or text key

    def summary(self) -> str:
        return (f"{len(self.records)} lines usable, {len(self.missing)} missing images, "
                f"{len(self.unreadable)} unreadable images, {len(self.skipped_rows)} rows without image/text")

    def as_dict(self) -> dict:
        return {"usable": len(self.records), "missing": len(self.missing),
                "unreadable": len(self.unreadable), "skipped_rows": len(self.skipped_rows)}


class ManifestError(UserError):
    """A manifest row that cannot be used (malformed JSON, a path outside the dataset folder, or any
    bad row in strict mode); the message names file:line."""


def _first(row: dict, keys: tuple[str, ...]) -> tuple[str | None, str | None]:
    for key in keys:
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            return key, value
    return None, None


def parse_row(row: dict, line_no: int) -> LineRecord | None:
    """A LineRecord from one JSON object, or None if it has no image or no text."""
    image_key, image = _first(row, IMAGE_KEYS)
    text_key, text = _first(row, TEXT_KEYS)
    if image is None or text is None:
        return None
    _, source = _first(row, SOURCE_KEYS)
    known = {image_key, text_key, "source", "doc_id", "style", "split"}
    extra = {k: v for k, v in row.items() if k not in known}
    return LineRecord(image_path=image, text=normalize_text(text), source=source or "",
                      style=str(row.get("style") or ""), split=str(row.get("split") or ""),
                      line_no=line_no, extra=extra)


def _image_problem(path: Path, verify: bool) -> str | None:
    if not path.is_file():
        return "missing"
    if verify:
        from PIL import Image

        try:
            with Image.open(path) as im:
                im.verify()
        except Exception:
            return "unreadable"
    return None


def dataset_boundary(manifest: Path, dataset_dir: str | os.PathLike | None) -> Path:
    """The folder image paths must stay inside: `dataset_dir`, else the nearest folder above the
    manifest (up to 3 levels) that holds a `dataset.json` card (so `test_sets/<style>/<face>.jsonl`
    may point at `../../images/...`), else the manifest's own folder."""
    if dataset_dir is not None:
        return Path(dataset_dir).resolve()
    folder = manifest.parent.resolve()
    for candidate in [folder, *folder.parents][:4]:
        if (candidate / "dataset.json").is_file():
            return candidate
    return folder


def _outside(path: Path, boundary: Path) -> bool:
    return not path.resolve().is_relative_to(boundary)


def read_manifest(manifest: str | os.PathLike, dataset_dir: str | os.PathLike | None = None,
                  strict: bool = False, verify_images: bool = True, allow_outside: bool = False) -> ManifestReport:
    """Read a JSONL manifest; image paths resolve against `dataset_dir` (default: the manifest's folder).
    Images are opened (header + checksum, not decoded) unless `verify_images=False`."""
    manifest = Path(manifest)
    if not manifest.is_file():
        raise FileNotFoundError(f"manifest not found: {manifest} (pass --train-manifest/--manifest with a JSONL file)")
    root = Path(dataset_dir) if dataset_dir is not None else manifest.parent
    boundary = dataset_boundary(manifest, dataset_dir)
    report = ManifestReport(records=[])
    with open(manifest, encoding="utf-8", errors="replace") as f:
        for line_no, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            where = f"{manifest}:{line_no}"
            record = _parse_line(raw, line_no, where)
            if record is None:
                _fail_or_count(strict, report.skipped_rows, f"{where}: no image key {IMAGE_KEYS} or text key {TEXT_KEYS}")
                continue
            path = record.resolve(root)
            if not allow_outside and _outside(path, boundary):
                raise ManifestError(f"{where}: image path {record.image_path!r} leads outside the dataset folder "
                                    f"{boundary}; pass --allow-outside if that is intended")
            problem = _image_problem(path, verify_images)
            if problem is not None:
                target = report.missing if problem == "missing" else report.unreadable
                _fail_or_count(strict, target, f"{where}: {problem} image {path}")
                continue
            report.records.append(record)
    return report


def _parse_line(raw: str, line_no: int, where: str) -> LineRecord | None:
    try:
        row = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deep"
        raise ManifestError(f"{where}: not valid JSON ({msg}); fix or delete that line") from None
    return parse_row(row, line_no) if isinstance(row, dict) else None


def _fail_or_count(strict: bool, bucket: list[str], message: str) -> None:
    if strict:
        raise ManifestError(message + " (run without --strict to skip and count such rows)")
    bucket.append(message)


def write_manifest(path: str | os.PathLike, records: list[LineRecord]) -> None:
    """Write records as JSONL (atomically)."""
    from hieralign.utils.io import atomic_write_bytes

    body = "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records)
    atomic_write_bytes(path, body.encode("utf-8"))

