import pytest
import torch

from hieralign.models.char import (
    PRESETS,
    HierCodeWithHiGITA,
    ImageTower,
    TextTower,
    create_model,
    preset_config,
)
from hieralign.models.char.config import ModelConfig

from .synthetic import SEEN, UNSEEN, VOCAB, make_images, make_texts


@pytest.mark.parametrize("preset", list(PRESETS))
def test_output_shapes_and_keys_for_every_preset(preset):
    model = create_model(preset, ids_vocab_size=VOCAB, codebook_size=8).eval()
    cfg = model.config
    texts = make_texts(SEEN[:5])
    model.set_candidates(texts)
    out = model(torch.rand(3, 1, 64, 64))
    f = out["features"]
    assert out["logits"].shape == (3, 5)
    c = cfg.image.stage_channels[-1]
    assert f["stroke"].shape == (3, 64, c) and f["stroke_attention"].shape == (3, 64)
    assert f["character"].shape == (3, cfg.embed_dim)
    assert torch.allclose(f["character"].norm(dim=1), torch.ones(3), atol=1e-5)
    assert torch.allclose(f["stroke_attention"].sum(1), torch.ones(3), atol=1e-5)
    if cfg.use_higita_enhancement:
        assert f["radical"].shape == (3, cfg.image.num_radicals, cfg.image.radical_dim)
        assert f["radical_attention"].shape == (3, cfg.image.num_radicals)
    else:
        assert preset == "standard" and "radical" not in f
    emb = model.encode_text(texts)
    assert emb.shape == (5, cfg.embed_dim)


def test_no_candidates_means_no_logits():
    model = create_model("lite", ids_vocab_size=VOCAB).eval()
    assert model(torch.rand(1, 1, 64, 64))["logits"] is None


def test_seed_constructor_flag_and_config_round_trip():
    base = HierCodeWithHiGITA(use_higita_enhancement=False, codebook_size=8)
    assert base.config.name == "hiercode" and not base.use_higita_enhancement
    cfg = preset_config("lite", ids_vocab_size=VOCAB)
    again = ModelConfig.from_dict(cfg.to_dict())
    assert again == cfg and isinstance(again.image.stage_channels, tuple)
    with pytest.raises(ValueError, match="unknown preset"):
        preset_config("huge")


@pytest.mark.parametrize("higita", [True, False])
def test_towers_match_model(higita):
    model = create_model("lite" if higita else "standard", ids_vocab_size=VOCAB, codebook_size=8).eval()
    texts = make_texts(SEEN[:4])
    images = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        img = ImageTower(model)(images)
        txt = TextTower(model)(texts.strokes, texts.ids) if higita else TextTower(model)(texts.codes)
        assert torch.allclose(img, model.encode_image(images))
        assert torch.allclose(txt, model.encode_text(texts))


def _train(model, steps=60, lr=3e-3):
    images, labels = make_images(SEEN, per_class=6, seed=0)
    texts = make_texts(SEEN)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(steps):
        idx = torch.randperm(len(images), generator=gen)[:48]
        out = model.loss(images[idx], labels[idx], texts, torch.arange(len(SEEN)))
        opt.zero_grad()
        out["total"].backward()
        opt.step()
        losses.append(float(out["total"].detach()))
    return losses


@pytest.mark.parametrize("preset", ["lite", "standard"])
def test_loss_decreases_and_unseen_classes_are_recognised_from_their_code(preset):
    torch.manual_seed(0)
    model = create_model(preset, ids_vocab_size=VOCAB, codebook_size=8)
    losses = _train(model)
    assert sum(losses[-10:]) / 10 < 0.6 * sum(losses[:10]) / 10
    model.eval()
    images, labels = make_images(UNSEEN, per_class=5, seed=1)  # classes never trained on
    model.set_candidates(make_texts(UNSEEN))
    with torch.no_grad():
        acc = (model(images)["logits"].argmax(1) == labels).float().mean().item()
    assert acc >= 0.6  # chance is 0.25
