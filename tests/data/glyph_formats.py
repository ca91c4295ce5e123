"""Writers of the real binary formats, for fixtures (the tests read back what these write)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

ETL9G_FMT = ">2H8sI4B4H2B34x8128s7x"
ETL8G_FMT = ">2H8sI4B4H2B30x8128s11x"


def char_to_jis(ch: str) -> int:
    raw = ch.encode("iso2022_jp")  # ESC $ B hi lo ESC ( B
    assert raw[:3] == b"\x1b$B" and len(raw) == 8, ch
    return (raw[3] << 8) | raw[4]


def pack_4bit(image: np.ndarray) -> bytes:
    """(127,128) values 0..15 -> 8,128 bytes, high nibble first."""
    flat = image.astype(np.uint8).reshape(-1)
    return ((flat[0::2] << 4) | flat[1::2]).tobytes()


def etl_record(fmt: str, jis: int, image4: np.ndarray, serial: int = 1) -> bytes:
    fields = [serial, jis, b"READING ", serial, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, pack_4bit(image4)]
    return struct.pack(fmt, *fields)


def sample_image4(seed: int) -> np.ndarray:
    """A 127×128 4-bit image with a bar whose position depends on `seed`."""
    img = np.zeros((127, 128), np.uint8)
    y = 20 + (seed * 7) % 80
    img[y:y + 10, 10:118] = 15
    img[10:117, 60 + seed % 5] = 9
    return img


def write_etl(path: Path, chars: str, fmt: str = ETL9G_FMT, repeat: int = 1) -> list[np.ndarray]:
    images = []
    with open(path, "wb") as f:
        for r in range(repeat):
            for i, ch in enumerate(chars):
                img = sample_image4(i + r)
                images.append(img)
                f.write(etl_record(fmt, char_to_jis(ch), img, serial=i))
    return images


def write_gnt(path: Path, samples: list[tuple[str, np.ndarray]]) -> list[int]:
    """CASIA .gnt: grey images (255 = paper); returns the byte offset of each sample."""
    offsets, pos = [], 0
    with open(path, "wb") as f:
        for ch, grey in samples:
            h, w = grey.shape
            tag = ch.encode("gbk")
            rec = struct.pack("<I2sHH", 10 + w * h, tag, w, h) + grey.astype(np.uint8).tobytes()
            f.write(rec)
            offsets.append(pos)
            pos += len(rec)
    return offsets


def write_seed_dir(root: Path, chars: str, per_class: int = 3, size: int = 64, dark_on_light: bool = True,
                   mapping_style: str = "index_to_char", chunks: int = 2) -> np.ndarray:
    root.mkdir(parents=True, exist_ok=True)
    n = len(chars) * per_class
    labels = np.repeat(np.arange(len(chars)), per_class)
    ink = np.zeros((n, size, size), np.float32)
    for i in range(n):
        ink[i, 10 + labels[i] * 3: 20 + labels[i] * 3, 8:56] = 1.0
    images = 1.0 - ink if dark_on_light else ink
    for c, part in enumerate(np.array_split(np.arange(n), chunks)):
        np.savez(root / f"etl9g_dataset_chunk_{c}.npz", X=images[part].reshape(len(part), 1, size, size), y=labels[part])
    if mapping_style == "index_to_char":
        mapping = {str(i): ch for i, ch in enumerate(chars)}
    elif mapping_style == "jis":
        mapping = {"index_to_jis": {str(i): f"{char_to_jis(ch):04X}" for i, ch in enumerate(chars)}}
    else:
        mapping = {ch: i for i, ch in enumerate(chars)}
    (root / "character_mapping.json").write_text(json.dumps(mapping, ensure_ascii=False))
    (root / "metadata.json").write_text(json.dumps({"num_classes": len(chars), "image_size": size}))
    return (ink * 255).astype(np.uint8)
