"""Where the shipped default models live, and how a command finds a model it was not given.

Order: an explicit argument, then the environment variable, then the model shipped inside the
package (`hieralign/assets/models/`). A missing model is an error that says how to get one.
"""

from __future__ import annotations

import os
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"
# The default is the model that measured best on the reserved JIS level-2 kanji (see MODEL_CARD.md).
SHIPPED_CHAR_MODEL = ASSETS / "models" / "char-hiercode" / "model.safetensors"
SHIPPED_LINE_MODEL = ASSETS / "models" / "line-clip"
SHIPPED_LINE_INDEX = ASSETS / "models" / "line-clip" / "index"
SHIPPED_LINE_ROOT = ASSETS / "models" / "line-clip" / "lines"  # the index's image paths start here
SAMPLES = ASSETS / "samples"
CHAR_MODEL_ENV = "HIERALIGN_CHAR_MODEL"
LINE_MODEL_ENV = "HIERALIGN_LINE_MODEL"
LINE_INDEX_ENV = "HIERALIGN_LINE_INDEX"


def _first_existing(*candidates: str | os.PathLike | None) -> Path | None:
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


def char_model(explicit: str | None = None) -> Path:
    """The character model to use: `explicit`, $HIERALIGN_CHAR_MODEL, or the shipped one."""
    if explicit:
        if not Path(explicit).exists():
            raise FileNotFoundError(f"character model not found: {explicit}")
        return Path(explicit)
    found = _from_env(CHAR_MODEL_ENV, "character model") or _first_existing(SHIPPED_CHAR_MODEL)
    if found is None:
        raise FileNotFoundError(
            "no character model given and none shipped: pass --model (a checkpoint from "
            "`hieralign train char`) or set $HIERALIGN_CHAR_MODEL")
    return found


def _from_env(name: str, what: str) -> Path | None:
    """The path in $name, None when unset; set to a missing path is an error, not a silent fallback
    (a user who set it means that model, and would otherwise get results from another one)."""
    value = os.environ.get(name)
    if not value:
        return None
    if not Path(value).exists():
        raise FileNotFoundError(f"${name} is set to {value}, which does not exist; point it at a {what} "
                                f"or unset it to use the shipped one")
    return Path(value)


def line_model(explicit: str | None = None) -> Path | None:
    """The line-CLIP model directory, or None when there is none (line endpoints then answer 503)."""
    if explicit:
        return _first_existing(explicit)
    shipped = SHIPPED_LINE_MODEL if (SHIPPED_LINE_MODEL / "training_config.json").exists() else None
    return _from_env(LINE_MODEL_ENV, "line-CLIP model dir") or _first_existing(shipped)


def line_index(model: Path) -> Path | None:
    """$HIERALIGN_LINE_INDEX, else the shipped index, but only for the shipped model it was built with."""
    shipped = SHIPPED_LINE_INDEX if Path(model) == SHIPPED_LINE_MODEL else None
    return _from_env(LINE_INDEX_ENV, "line index dir") or _first_existing(shipped)


def line_root(model: Path) -> Path | None:
    """Where the shipped index's relative image paths start (None for any other model)."""
    return SHIPPED_LINE_ROOT if Path(model) == SHIPPED_LINE_MODEL else None


def sample_images() -> list[Path]:
    """Sample glyph images shipped with the package (file names start with the true character)."""
    return sorted(SAMPLES.glob("*.png"))


# -- the CTC line recogniser (transcription) --
SHIPPED_LINE_OCR_MODEL = ASSETS / "models" / "line-ocr"
SHIPPED_LINE_OCR_INDEX = SHIPPED_LINE_OCR_MODEL / "index"  # sample index (scripts/make_line_sample_index.sh)
LINE_OCR_MODEL_ENV = "HIERALIGN_LINE_OCR_MODEL"


def line_ocr_model(explicit: str | None = None) -> Path:
    """The line-OCR model folder: `explicit`, $HIERALIGN_LINE_OCR_MODEL, or the shipped one."""
    if explicit:
        if not Path(explicit).exists():
            raise FileNotFoundError(f"line-OCR model not found: {explicit}")
        return Path(explicit)
    shipped = SHIPPED_LINE_OCR_MODEL if (SHIPPED_LINE_OCR_MODEL / "config.json").exists() else None
    found = _first_existing(os.environ.get(LINE_OCR_MODEL_ENV), shipped)
    if found is None:
        raise FileNotFoundError("no line-OCR model given and none shipped: pass --model (a folder from "
                                "`hieralign train line-ocr`, or `make line-ocr-model`) or set $HIERALIGN_LINE_OCR_MODEL")
    return found


def shipped_line_ocr() -> tuple[Path, Path | None] | None:
    """(shipped line-OCR model, its sample index or None), or None when no line-OCR model ships."""
    if not (SHIPPED_LINE_OCR_MODEL / "config.json").is_file():
        return None
    index = SHIPPED_LINE_OCR_INDEX if (SHIPPED_LINE_OCR_INDEX / "index.json").is_file() else None
    return SHIPPED_LINE_OCR_MODEL, index
