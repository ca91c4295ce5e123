"""The character model saved and loaded the Hugging Face way, beside the single-file checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hieralign.defaults import SHIPPED_CHAR_MODEL
from hieralign.models.char import HierCodeWithHiGITA, create_model
from hieralign.models.char.config import ModelConfig
from hieralign.models.char.model import save_pretrained_checkpoint
from hieralign.models.char.recognizer import CharRecognizer
from hieralign.utils.checkpoint import load_weights, save_weights

from .synthetic import VOCAB


@pytest.mark.parametrize("preset", ["lite", "standard"])
def test_save_pretrained_round_trip(tmp_path, preset):
    model = create_model(preset, ids_vocab_size=VOCAB, codebook_size=8).eval()
    model.checkpoint_meta = {"tokenizer": {"region": "J"}}
    model.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert json.loads((tmp_path / "config.json").read_text())["preset"] == preset
    assert "library_name: hieralign" in (tmp_path / "README.md").read_text()
    again = HierCodeWithHiGITA.from_pretrained(tmp_path).eval()
    assert again.config == model.config and again.checkpoint_meta == {"tokenizer": {"region": "J"}}
    images = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        assert torch.equal(again.encode_image(images), model.encode_image(images))
    # the folder's weights file is also a self-describing single-file checkpoint
    state, meta = load_weights(tmp_path / "model.safetensors")
    assert ModelConfig.from_dict(meta["config"]) == model.config and state.keys() == model.state_dict().keys()


def test_single_file_checkpoint_still_round_trips(tmp_path):
    model = create_model("lite", ids_vocab_size=VOCAB).eval()
    save_weights(tmp_path / "best.safetensors", model.state_dict(), {"config": model.config.to_dict()})
    state, meta = load_weights(tmp_path / "best.safetensors")
    again = HierCodeWithHiGITA(meta["config"])
    again.load_state_dict(state)
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), model.state_dict().values()))


def test_shipped_checkpoint_converts_to_a_folder_both_loaders_read(tmp_path):
    out = save_pretrained_checkpoint(SHIPPED_CHAR_MODEL, tmp_path / "hf")
    from_file, from_folder = CharRecognizer.from_checkpoint(SHIPPED_CHAR_MODEL), CharRecognizer.from_checkpoint(out)
    model = HierCodeWithHiGITA.from_pretrained(out).eval()
    images = torch.rand(3, 1, 64, 64)
    assert torch.equal(from_file.encode_images(images), from_folder.encode_images(images))
    with torch.no_grad():
        assert torch.allclose(model.encode_image(images), from_file.encode_images(images))
    glyphs = [(img[0].numpy() * 255).astype(np.uint8) for img in images]
    # decomposition only: the loaders are under test, not the reference glyphs (whose prototypes, on a
    # cold cache with every CJK font package installed, took 10 min here)
    kw = {"top_k": 2, "descriptors": "decomposition"}
    assert from_folder.recognize(glyphs, "kana", **kw) == from_file.recognize(glyphs, "kana", **kw)


def test_missing_folder_or_unreachable_hub_id_is_one_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model.safetensors"):
        HierCodeWithHiGITA.from_pretrained(tmp_path)
    # no network here (and no such repo anywhere): huggingface_hub is asked, its failure named
    with pytest.raises(FileNotFoundError, match="not loadable from the Hugging Face Hub"):
        HierCodeWithHiGITA.from_pretrained("hieralign-tests/no-such-model")
    with pytest.raises(FileNotFoundError, match="not a local folder"):
        HierCodeWithHiGITA.from_pretrained(str(tmp_path / "missing"))
