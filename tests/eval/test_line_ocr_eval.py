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
