"""Reference-glyph prototypes: each candidate described by the image tower's view of its renders.

For every candidate, render it in the *training* faces that draw it with real outlines, framed
with the checkpoint's own preprocessing (image size, margin, ink threshold), encode the renders
with the image tower and keep the L2-normalised mean. Protocol rules (DESIGN §4), enforced here:
prototypes never come from test-only families, and never from KanjiVG / synthetic handwriting
(the evaluation handwriting is drawn from KanjiVG strokes: such a prototype would leak the test
style) — `build_prototypes` accepts font faces only and refuses a test-only one even when asked.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hieralign.utils.progress import progress

RENDER_CHUNK = 512  # renders encoded per image-tower call
# Fewer renders than this are drawn in-process when the worker count is left to us: a pool
# costs 2-4 s to start (measured: 2,389 renders took 2.9 s in-process, 6.5 s with 2 workers, busy box).
PARALLEL_MIN = 16 * RENDER_CHUNK


@dataclass(frozen=True)
class GlyphRenderSpec:
    size: int = 64  # canvas side: the checkpoint's image_size
    margin: int = 4  # blank border: the checkpoint's margin
    ink_threshold: int = 32  # ink-box threshold the training renders used
    font_px: int = 128  # rasterisation size before the fit (the training renderer's default)

    @classmethod
    def from_encoder(cls, encoder) -> GlyphRenderSpec:
        return cls(int(encoder.image_size), int(encoder.margin), int(getattr(encoder, "ink_threshold", 32)))

    def key(self) -> list[int]:
        return [self.size, self.margin, self.ink_threshold, self.font_px]

    @staticmethod
    def font_key(faces) -> list[str]:
        """Names plus file size and mtime: a font upgrade invalidates its cached prototypes."""
        out = []
        for f in faces:
            st = os.stat(f.path)
            out.append(f"{f.name}|{os.path.basename(f.path)}#{f.index}|{st.st_size}|{st.st_mtime_ns}")
        return out


def check_prototype_face(face) -> None:
    """ValueError unless `face` is a training font face (DESIGN §4)."""
    from hieralign.data.fonts import ROLE_TEST_ONLY, ROLE_TRAIN, FontFace

    if not isinstance(face, FontFace):
        raise ValueError(f"reference glyphs come from training font faces only, not {type(face).__name__} "
                         "(KanjiVG / handwriting renders would leak the evaluation style)")
    if face.role == ROLE_TEST_ONLY:
        raise ValueError(f"{face.name} is a test-only font family (DESIGN §4): it cannot describe candidates")
    if face.role != ROLE_TRAIN:
        raise ValueError(f"{face.name}: role {face.role!r} is not a training family")


def family_of(source: str) -> str:
    """"IPA Gothic/Regular" (a store source name) -> "IPA Gothic"."""
    return source.split(" [")[0].rsplit("/", 1)[0]


def prototype_faces(train_families: Sequence[str] = (), faces=None) -> list:
    """Installed training faces for prototypes: those of the families the checkpoint trained on
    when any is installed, else the default training families (never test-only ones)."""
    from hieralign.data.fonts import DEFAULT_TRAIN_FAMILIES, discover_fonts, training_faces

    sources = [s for s in train_families if s and not s.startswith("synthetic")]
    wanted = sorted({family_of(s) for s in sources})
    # The very faces (family/style) the checkpoint trained on, not every installed weight of their
    # families, picked *before* coverage is computed: with all of Debian's CJK packages, Noto CJK
    # alone brought 42 faces, minutes of pure-Python CFF decoding and minutes of renders.
    installed = list(discover_fonts() if faces is None else faces)
    trained = {s.split(" [")[0] for s in sources}
    chosen = [f for f in installed if f.name in trained] or installed
    found = training_faces([], min_coverage=0.0, families=wanted, faces=chosen) if wanted else []
    if not found:
        found = training_faces([], min_coverage=0.0, families=DEFAULT_TRAIN_FAMILIES, faces=installed)
    return found


def _covering(chars: Sequence[str], faces) -> list[list[int]]:
    """Per character, the indices of the faces that draw it with real outlines."""
    from hieralign.data.fonts import outlined_chars

    drawn = [outlined_chars(f) for f in faces]
    return [[k for k, have in enumerate(drawn) if c in have] for c in chars]


def _render_chunk(task) -> np.ndarray:
    """(faces, chars, cfg, jobs) -> uint8 (len(jobs), S, S) renders; runs in a pool worker."""
    from hieralign.data.render import render_glyph

    faces, chars, cfg, jobs = task
    return np.stack([render_glyph(faces[k], chars[i], cfg) for i, k in jobs])


def render_workers(n_jobs: int, workers: int | None = None) -> int:
    """Processes to render with: `workers` when given, else $HIERALIGN_RENDER_WORKERS, else one per
    core for large builds (>= PARALLEL_MIN renders) and 1 for small ones; never more than chunks."""
    if workers is None:
        if n_jobs < PARALLEL_MIN:
            return 1
        workers = int(os.environ.get("HIERALIGN_RENDER_WORKERS") or 0) or (os.cpu_count() or 1)
    return max(1, min(workers, -(-n_jobs // RENDER_CHUNK)))


def _rendered(faces, chars, cfg, jobs, workers: int):
    """Render chunks in job order: in-process, or by a worker pool (fonts are reopened per worker;
    `imap` keeps the order, so the prototypes do not depend on the worker count, and the caller
    encodes one chunk while the workers draw the next)."""
    tasks = [(faces, chars, cfg, jobs[s:s + RENDER_CHUNK]) for s in range(0, len(jobs), RENDER_CHUNK)]
    if workers <= 1:
        yield from map(_render_chunk, tasks)
        return
    import multiprocessing as mp

    # fork where the platform has it: "spawn" re-imports the caller's main module, which breaks any
    # script without an `if __name__ == "__main__"` guard. The workers only run Pillow and numpy
    # (never torch or onnxruntime), so the parent's threads are not a hazard for them.
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    with mp.get_context(method).Pool(workers) as pool:
        yield from pool.imap(_render_chunk, tasks)


def build_prototypes(encoder, chars: Sequence[str], faces, spec: GlyphRenderSpec | None = None,
                     workers: int | None = None) -> tuple[np.ndarray, dict]:
    """(N, D) mean prototypes (zero rows where no face covers the character) and a header.
    Faces that do not draw a character (cmap + real-outline check, cached per font file) are never
    asked to; renders run in `render_workers()` processes when there are many."""
    from hieralign.data.render import RenderConfig

    faces = list(faces)
    for face in faces:
        check_prototype_face(face)
    spec = spec or GlyphRenderSpec.from_encoder(encoder)
    cfg = RenderConfig(size=spec.size, margin=spec.margin, font_px=spec.font_px, ink_threshold=spec.ink_threshold)
    chars = list(chars)
    jobs = [(i, k) for i, ks in enumerate(_covering(chars, faces)) for k in ks]
    total = np.zeros((len(chars), encoder.embed_dim), np.float64)
    count = np.zeros(len(chars), np.int64)
    n = render_workers(len(jobs), workers)
    chunks = _rendered(faces, chars, cfg, jobs, n)
    bar = progress(chunks, total=-(-len(jobs) // RENDER_CHUNK), desc=f"reference glyphs ({len(faces)} faces, {n} proc)",
                   disable=True if len(jobs) <= 8 * RENDER_CHUNK else None)
    for start, imgs in zip(range(0, len(jobs), RENDER_CHUNK), bar):
        rows = np.array([i for i, _ in jobs[start:start + RENDER_CHUNK]])
        emb = np.asarray(encoder.encode_images(imgs.astype(np.float32)[:, None] / 255.0), np.float64)
        np.add.at(total, rows, emb)
        np.add.at(count, rows, 1)
    norm = np.linalg.norm(total, axis=1, keepdims=True)
    protos = np.where(norm > 0, total / np.maximum(norm, 1e-12), 0.0).astype(np.float32)
    header = {"font_names": [f.name for f in faces], "covered": int((count > 0).sum()),
              "renders": len(jobs), "descriptor": "mean of training-font renders"}
    return protos, header
