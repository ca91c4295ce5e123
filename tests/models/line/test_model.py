import numpy as np
import torch

from hieralign.data.lines.batches import choose_text_max_length, tokenize, truncation_rate
from hieralign.data.lines.preprocess import PreprocessConfig, to_pixel_values
from hieralign.models.line.artifacts import LineEncoder, save_line_clip
from hieralign.models.line.clip import (
    LineCLIP,
    LineCLIPConfig,
    build_text_tower,
    build_tokenizer,
    build_vision_tower,
)

TEXTS = ["\u0f56\u0f40\u0fb2\u0f0b\u0f64\u0f72\u0f66\u0f0b", "\u0f56\u0f51\u0f7a\u0f0b\u0f63\u0f7a\u0f42\u0f66\u0f0d"]


def _canvases(n: int, cfg: PreprocessConfig) -> np.ndarray:
    rng = np.random.default_rng(0)
    canvases = np.zeros((n, cfg.height, cfg.width), np.uint8)
    canvases[:, :, :100] = rng.integers(0, 255, size=(n, cfg.height, 100))
    return canvases


def test_tiny_from_config_encodes_normalised():
    torch.manual_seed(0)
    model = LineCLIP(LineCLIPConfig(vision="tiny", text="tiny", embed_dim=24)).eval()
    cfg = PreprocessConfig(height=32, width=128)
    tokenizer = build_tokenizer("tiny")
    enc = tokenize(tokenizer, TEXTS, 64)
    with torch.no_grad():
        image = model.encode_image(to_pixel_values(_canvases(2, cfg)))
        text = model.encode_text(enc["input_ids"], enc["attention_mask"])
    assert image.shape == (2, 24) and text.shape == (2, 24)
    assert torch.allclose(image.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert torch.allclose(text.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert abs(float(model.scale().detach()) - 1 / 0.07) < 1e-3
    assert isinstance(model.image_tower, torch.nn.Module) and isinstance(model.text_tower, torch.nn.Module)


def test_logit_scale_is_clamped():
    model = LineCLIP(LineCLIPConfig(vision="tiny", text="tiny"))
    with torch.no_grad():
        model.logit_scale.fill_(10.0)
    assert float(model.scale().detach()) == 100.0


def test_towers_load_from_local_dirs_via_from_pretrained(tmp_path):
    """A saved Dinov2 / T5 directory stands in for a hub id (no network here)."""
    torch.manual_seed(1)
    build_vision_tower("tiny").save_pretrained(tmp_path / "vit")
    build_text_tower("tiny").save_pretrained(tmp_path / "t5")
    build_tokenizer("tiny").save_pretrained(tmp_path / "t5")
    model = LineCLIP(LineCLIPConfig(vision=str(tmp_path / "vit"), text=str(tmp_path / "t5"), embed_dim=8))
    reference = build_vision_tower(str(tmp_path / "vit"))
    for (name, a), (_, b) in zip(model.image_tower.state_dict().items(), reference.state_dict().items()):
        assert torch.equal(a, b), name
    tokenizer = build_tokenizer(str(tmp_path / "t5"))
    assert tokenizer("\u0f40")["input_ids"] == [227, 192, 131, 1]  # UTF-8 bytes + 3, then </s>


def test_three_channel_pretrained_style_tower(tmp_path):
    from transformers import Dinov2Config, Dinov2Model

    Dinov2Model(Dinov2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                             patch_size=16, image_size=64, num_channels=3)).save_pretrained(tmp_path / "rgb")
    model = LineCLIP(LineCLIPConfig(vision=str(tmp_path / "rgb"), text="tiny", embed_dim=8)).eval()
    with torch.no_grad():
        out = model.encode_image(to_pixel_values(_canvases(2, PreprocessConfig(height=32, width=128))))
    assert out.shape == (2, 8)


def test_artifacts_round_trip(tmp_path):
    torch.manual_seed(2)
    model = LineCLIP(LineCLIPConfig(vision="tiny", text="tiny", embed_dim=16)).eval()
    cfg = PreprocessConfig(height=32, width=128)
    save_line_clip(model, build_tokenizer("tiny"), tmp_path, cfg, text_max_length=48)
    head = torch.load(tmp_path / "text_hierarchy_projection_head.pt", weights_only=True)
    assert torch.equal(head["weight"], model.image_projection.weight)
    encoder = LineEncoder.from_dir(tmp_path)
    canvases = _canvases(3, cfg)
    with torch.no_grad():
        expected = model.encode_image(to_pixel_values(canvases)).numpy()
        enc = tokenize(build_tokenizer("tiny"), TEXTS, 48)
        expected_text = model.encode_text(enc["input_ids"], enc["attention_mask"]).numpy()
    assert np.allclose(encoder.embed_canvases(canvases), expected, atol=1e-5)
    assert np.allclose(encoder.embed_texts(TEXTS), expected_text, atol=1e-5)
    assert encoder.preprocess == cfg and encoder.text_max_length == 48


def test_text_max_length_from_data_and_truncation_rate():
    texts = ["\u0f40" * n for n in range(1, 101)]  # 3 bytes per Tibetan letter
    length = choose_text_max_length(texts, percentile=90)
    assert length % 8 == 0 and length >= 3 * 90 + 1
    assert truncation_rate(texts, length) <= 0.1
    assert truncation_rate(texts, 31) == 0.9  # only texts of <= 10 letters (31 tokens) fit
