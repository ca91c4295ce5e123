"""The recogniser's towers are plain modules that ONNX export takes as they are."""

import numpy as np
import pytest
import torch

from hieralign.models.char import ImageTower, TextTower, create_model

from .synthetic import SEEN, VOCAB, make_texts


@pytest.mark.parametrize("higita", [True, False])
def test_towers_export_to_onnx_and_match_torch(tmp_path, higita):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    model = create_model("lite" if higita else "standard", ids_vocab_size=VOCAB, codebook_size=8).eval()
    texts = make_texts(SEEN[:3])
    text_args = (texts.strokes, texts.ids) if higita else (texts.codes,)
    text_names = ["strokes", "ids"] if higita else ["codes"]
    # export restores the module's mode with .train(mode), which reaches every submodule: keep towers in eval
    cases = [(ImageTower(model), (torch.rand(2, 1, 64, 64),), ["images"]), (TextTower(model), text_args, text_names)]
    for i, (tower, args, names) in enumerate(cases):
        path = tmp_path / f"t{i}.onnx"
        torch.onnx.export(tower, args, str(path), input_names=names, output_names=["embedding"], dynamo=False,
                          dynamic_axes={n: {0: "batch"} for n in names})
        got = ort.InferenceSession(str(path)).run(None, {n: a.numpy() for n, a in zip(names, args)})[0]
        with torch.no_grad():
            want = tower(*args).numpy()
        assert np.abs(got - want).max() < 1e-4
