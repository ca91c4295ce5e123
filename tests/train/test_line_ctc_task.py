"""LineCTCTask driven through a minimal loop written here (the package's one loop is
`train.engine.fit`; this test only checks the task keeps the engine's protocol)."""

import json

import pytest
import torch
from ocrfix import CURSIVE_TEST_ONLY, PRINT_TRAIN, face, render_tiny_dataset

from hieralign.models.line.ctc_infer import load_line_recognizer, transcribe_images
from hieralign.train.line_ctc_task import LineCTCTask, LineCTCTaskConfig


@pytest.fixture(scope="module")
def ocr_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("ocr")
    render_tiny_dataset(out, [face(PRINT_TRAIN)], num_docs=6, lines_per_doc=4, test_docs_per_face=0,
                        style_weights="print=1", split_fractions="0.5,0.5,0")
    return out


def _task(data, **kw) -> LineCTCTask:
    return LineCTCTask(LineCTCTaskConfig(str(data), batch_size=4, lstm_hidden=32, **kw))


def test_batches_are_a_pure_function_of_their_arguments(ocr_data):
    a, b = _task(ocr_data), _task(ocr_data)
    assert a.steps_per_epoch(1) >= 2 and a.steps_per_epoch(2) == a.steps_per_epoch(1) // 2
    for args in [(0, 0, 0, 1), (1, 0, 1, 2), (3, 1, 0, 1)]:
        x, y = a.batch(*args), b.batch(*args)
        assert x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)
    assert not torch.equal(a.batch(0, 0, 0, 1)["targets"], a.batch(1, 0, 0, 1)["targets"])  # epochs reshuffle
    batch = a.batch(0, 0, 0, 1)
    assert batch["images"].dtype == torch.uint8 and batch["images"].shape[2] == 48
    assert int(batch["target_lengths"].sum()) == batch["targets"].numel()


def test_loss_decreases_and_the_saved_model_transcribes(ocr_data, tmp_path):
    task = _task(ocr_data, augment=False)
    model = task.model
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    losses = []
    model.train()
    for step in range(24):
        loss = task.training_forward(model, task.batch(0, step % 2, 0, 1), g)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert sum(losses[-4:]) / 4 < 0.7 * sum(losses[:4]) / 4
    metrics = task.validate(model)
    assert set(metrics) >= {"val_cer", "val_wer"} and 0 <= metrics["val_cer"] <= 1.5 and model.training
    assert task.selection_metric in metrics and task.selection_mode == "min"
    json.dumps(task.checkpoint_meta())
    task.save_model(model, tmp_path / "m")
    out = transcribe_images(load_line_recognizer(tmp_path / "m"), [ocr_data / "images/doc00000/0000.png"])
    assert isinstance(out[0]["text"], str)


def test_augmentation_uses_the_generator(ocr_data):
    task = _task(ocr_data)
    batch = task.batch(0, 0, 0, 1)
    one = task.training_forward(task.model.eval(), batch, torch.Generator().manual_seed(5))["total"]
    two = task.training_forward(task.model.eval(), batch, torch.Generator().manual_seed(5))["total"]
    assert torch.equal(one, two)


def test_refuses_training_lines_in_a_test_only_face(tmp_path):
    chouk = face(CURSIVE_TEST_ONLY)
    render_tiny_dataset(tmp_path, [face(PRINT_TRAIN)], num_docs=2, lines_per_doc=1, test_docs_per_face=0,
                        style_weights="print=1")
    rows = [json.loads(x) for x in (tmp_path / "train.jsonl").read_text().splitlines()]
    rows[0]["font"] = chouk.path.rsplit("/", 1)[-1]  # a hand-edited manifest smuggling a test-only face in
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    with pytest.raises(ValueError, match="test-only Tibetan faces"):
        _task(tmp_path)


def test_warm_start_takes_the_models_weights_and_grows_units_for_new_text(ocr_data, tmp_path):
    trained = _task(ocr_data)
    with torch.no_grad():
        next(trained.model.parameters()).add_(1.0)  # weights a fresh init cannot have
    trained.save_model(trained.model, tmp_path / "m")
    warm = _task(ocr_data, init_from=str(tmp_path / "m"))
    assert warm.model.training
    assert all(torch.equal(a, b) for a, b in zip(warm.model.state_dict().values(), trained.model.state_dict().values()))
    from dataclasses import replace

    from hieralign.models.line.ctc import LineRecognizer

    config = trained.model.config  # drop a unit the training text uses
    LineRecognizer(replace(config, charset=config.charset[1:], charset_hash="")).save_pretrained(str(tmp_path / "narrow"))
    grown = _task(ocr_data, init_from=str(tmp_path / "narrow")).model
    assert grown.charset.units == config.charset[1:] + config.charset[0]  # old units keep their index
    narrow_head = LineRecognizer.from_pretrained(str(tmp_path / "narrow")).head
    assert torch.equal(grown.head.weight[:-1], narrow_head.weight) and not grown.head.weight[-1].any()
    with pytest.raises(ValueError, match="not a line-OCR model folder"):
        _task(ocr_data, init_from=str(tmp_path / "missing"))
