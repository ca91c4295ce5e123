from hieralign.eval.line_ocr_eval import grouped_error_rates, query_ranks, retrieval_report, summarize


def test_error_rates_per_group():
    refs, hyps = ["ཀ་ཁ་", "ག་ང་", "ཀ་ཁ་"], ["ཀ་ཁ་", "ག་ཀ་", "ཀ་"]
    report = grouped_error_rates(refs, hyps, {"style": ["print", "cursive", "print"]})
    assert report["style=print"]["lines"] == 2 and report["style=cursive"]["cer"] == 0.25
    assert abs(report["all"]["cer"] - 3 / 12) < 1e-9 and report["all"]["wer"] == 2 / 6


def test_identical_texts_are_one_query_with_several_targets():
    refs = ["ཀ་", "ཁ་", "ཀ་ ", "ག་"]  # lines 0 and 2 normalise to the same text
    order = {"ཀ་": [2, 1], "ཁ་": [0, 3, 1], "ག་": [0]}
    ranks = query_ranks(refs, lambda q, k: order[q][:k])
    assert ranks == {"ཀ་": 1, "ཁ་": 3, "ག་": 0}
    s = summarize(list(ranks.values()))
    assert s["R@1"] == 1 / 3 and s["R@5"] == 2 / 3 and abs(s["MRR"] - (1 + 1 / 3) / 3) < 1e-9
    per = retrieval_report(refs, lambda q, k: order[q][:k], {"face": ["a", "b", "a", "b"]})
    assert per["face=a"]["R@1"] == 1.0 and per["face=b"]["queries"] == 2


def test_eval_line_with_a_ctc_model_reports_cer_beside_recall_and_lists_skipped_rows(ctc_model_dir, tmp_path, capsys):
    import json
    import shutil

    from hieralign.cli import main as cli_main

    model, data = ctc_model_dir
    rows = [json.loads(x) for x in (data / "train.jsonl").read_text().splitlines()]
    shutil.copytree(data / "images", tmp_path / "images")
    (tmp_path / "images" / "fake.png").write_bytes(b"not an image")
    extra = [{**rows[0], "line_path": "images/gone.png"}, {**rows[0], "line_path": "images/fake.png"}]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows + extra), encoding="utf-8")
    assert cli_main(["eval", "line", "--model", str(model), "--manifest", str(manifest),
                     "--out", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "1 missing, 1 unreadable" in out and "gone.png" in out and "fake.png" in out
    assert "CER" in out and "R@1" in out and "style=print" in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["lines"] == 8 and report["manifest_report"]["missing"] == 1
    assert 0 <= report["transcription"]["all"]["cer"] < 0.9  # the tiny model reads part of its lines
    assert report["retrieval"]["all"]["queries"] == 8 and report["retrieval"]["all"]["R@10"] > 0
    assert any(k.startswith("face=") for k in report["transcription"])
