import io

import pytest
from PIL import Image

from hieralign.serve.limits import ImageLimits, InputError, open_image
from hieralign.testing import badinput

LIMITS = ImageLimits(max_pixels=4_000_000, max_side=4096)


def test_valid_png_decodes():
    img = open_image(badinput.glyph_png(), LIMITS)
    assert img.size == (64, 64) and img.mode in ("L", "RGB", "RGBA")


@pytest.mark.parametrize("data, status, words", [
    (b"", 400, "empty"),
    (b"GIF89a-not-really", 415, "not a readable image"),
    (badinput.glyph_png()[:60], 400, "truncated"),
    (badinput.animated_gif(), 415, "animated"),
    (badinput.tiff16(), 415, "TIFF"),
])
def test_bad_images_are_client_errors(data, status, words):
    with pytest.raises(InputError) as err:
        open_image(data, LIMITS, "upload")
    assert err.value.status == status and words in err.value.message and "upload" in err.value.message


def test_bomb_is_refused_from_the_header_before_decoding(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # our own header check must catch it, not Pillow's
    data = badinput.bomb_png()
    assert len(data) < 200_000  # small on the wire ...
    assert Image.open(io.BytesIO(data)).size == (20000, 20000)  # ... 400 M pixels decoded
    with pytest.raises(InputError) as err:
        open_image(data, LIMITS)
    assert err.value.status == 413 and "20000x20000" in err.value.message


def test_pixel_limit_applies_below_the_side_limit():
    img = Image.new("L", (3000, 2000), 255)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    with pytest.raises(InputError, match="exceeds the limits"):
        open_image(buf.getvalue(), LIMITS)
    assert open_image(buf.getvalue(), ImageLimits(6_000_000, 4096)).size == (3000, 2000)
