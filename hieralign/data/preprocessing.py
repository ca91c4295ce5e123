"""`GlyphPreprocess`: the one description of how a glyph image becomes a model input.

A glyph store knows how its images were framed (side, margin: `meta.json`), a trainer reads
that here instead of assuming defaults, and the checkpoint carries it under `preprocessing`
(keys `image_size`, `margin`, `ink_threshold`, ...) so inference frames a user's image exactly
as the training images were framed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class GlyphPreprocess:
    image_size: int = 64  # square side in pixels of every model input
    margin: int = 4  # blank pixels around the ink box fitted into the square (normalize_glyph)
    ink_threshold: int = 32  # ink values <= this are ignored when finding the ink box
    polarity: str = "ink=255"  # uint8 ink intensity: 0 = paper, 255 = ink
    normalisation: str = "/255"  # model input = uint8 / 255, no mean/std shift

    def __post_init__(self) -> None:
        if self.image_size < 8 or not 0 <= 2 * self.margin < self.image_size:
            raise ValueError(f"glyph preprocessing: image_size {self.image_size} with margin {self.margin} "
                             "leaves no room for the glyph")

    @classmethod
    def from_store_meta(cls, meta: dict[str, Any]) -> GlyphPreprocess:
        """What a store's `meta.json` says about its images (side from `image_size`, margin from the build)."""
        size = meta.get("image_size", [64, 64])
        side = int(size[0] if isinstance(size, (list, tuple)) else size)
        build = {**meta.get("render_config", {}), **meta.get("build_args", {})}
        return cls(image_size=side, margin=int(build.get("margin", cls.margin)))

    def to_meta(self) -> dict[str, Any]:
        """The checkpoint's `preprocessing` entry (the recognisers read these keys)."""
        return {**asdict(self), "convention": "uint8 ink 0=paper 255=ink; /255",
                "normalize": "hieralign.data.render.normalize_glyph"}
