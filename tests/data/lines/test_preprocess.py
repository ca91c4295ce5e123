import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from hieralign.data.lines.preprocess import PreprocessConfig, fit_canvas, preprocess_image, to_pixel_values
from hieralign.models.line.clip import LineCLIP, LineCLIPConfig


def _line(width: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    image = Image.new("L", (width, 30), 235)
    draw = ImageDraw.Draw(image)
    for x in range(4, width - 8, 9):
        draw.rectangle([x, 8 + int(rng.integers(0, 4)), x + 5, 22], fill=int(rng.integers(0, 60)))
    return image


@pytest.mark.parametrize("pipeline", ["none", "default", "bdrc"])
def test_canvas_shape_ink_convention_and_determinism(pipeline):
    cfg = PreprocessConfig(pipeline=pipeline, height=32, width=256)
    a, b = preprocess_image(_line(150), cfg), preprocess_image(_line(150), cfg)
    assert a.shape == (32, 256) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert a[:, 200:].max() == 0  # right padding is paper (0 = paper in the ink convention)
    assert a.max() > 150  # the strokes are ink


def test_wide_lines_are_squeezed_not_cropped():
    ink = np.zeros((10, 1000), np.float32)
    ink[:, -5:] = 255  # a stroke at the very end must survive
    canvas = fit_canvas(ink, 16, 128)
    assert canvas.shape == (16, 128) and canvas[:, -2:].max() > 100


def test_unknown_pipeline_is_rejected():
    with pytest.raises(ValueError, match="image-preprocess-pipeline"):
        PreprocessConfig(pipeline="fancy")


def test_embedding_does_not_depend_on_batch():
    torch.manual_seed(0)
    model = LineCLIP(LineCLIPConfig(vision="tiny", text="tiny", embed_dim=16)).eval()
    cfg = PreprocessConfig(height=32, width=256)
    narrow, wide = preprocess_image(_line(90, 1), cfg), preprocess_image(_line(900, 2), cfg)
    with torch.no_grad():
        alone = model.encode_image(to_pixel_values(narrow))
        together = model.encode_image(to_pixel_values(np.stack([wide, narrow, wide])))
    assert torch.allclose(alone[0], together[1], atol=1e-5)
    assert not torch.allclose(together[0], together[1], atol=1e-3)
