import random

import numpy as np
import torch

from hieralign.data.lines.text import bospell_words
from hieralign.index.transcripts import HybridSearcher, PrunedOutputs, TranscriptIndex
from hieralign.models.line.ctc import BLANK, Charset, build_charset
from hieralign.models.line.ctc_decode import ctc_log_likelihood


def _texts(n=300, seed=0):
    sampler, rng = bospell_words(0.3), random.Random(seed)
    return [sampler.line(rng, 2, 8) for _ in range(n)]


def test_first_stage_finds_lines_and_phrases_and_survives_a_round_trip(tmp_path):
    texts = _texts()
    index = TranscriptIndex.build(texts)
    assert all(index.search(t, 5)[0][0] == i or texts[index.search(t, 5)[0][0]] == texts[i]
               for i, t in enumerate(texts[:50]))
    phrase = texts[7][3:25]
    assert 7 in [i for i, _ in index.search(phrase, 10)]
    index.save(tmp_path)
    again = TranscriptIndex.load(tmp_path)
    assert again.texts == index.texts and again.search(texts[3], 3) == index.search(texts[3], 3)


def test_first_stage_finds_badly_transcribed_lines_by_rare_ngrams():
    """Transcripts with ~45 % of their characters wrong: IDF-weighted votes of many query n-grams
    still pull the right line into the candidate pool (16 equal votes lost about a third)."""
    texts, rng = _texts(2000, seed=1), random.Random(2)
    alphabet = sorted(set("".join(texts)))
    noisy = ["".join(rng.choice(alphabet) if rng.random() < 0.45 else ch for ch in t) for t in texts]
    index = TranscriptIndex.build(noisy)
    queries = [i for i in range(0, 2000, 20) if len(texts[i]) > 30]
    found = sum(i in index.candidates(texts[i], 50) for i in queries)
    assert found >= 0.9 * len(queries)


def _outputs(texts, cs, noise=0.5, seed=0):
    """A fake recogniser output per line: each unit over 3 frames then a blank, plus noise."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for t in texts:
        frames = [u for u in cs.encode(t) for _ in range(3)] + [BLANK] * 2
        logits = torch.randn(len(frames), len(cs), generator=g) * noise
        logits[torch.arange(len(frames)), torch.tensor(frames)] += 6.0
        out.append(logits.log_softmax(-1))
    return out


def test_pruned_outputs_keep_the_likelihood_ranking_and_hybrid_reranks():
    texts = _texts(60)
    cs = Charset(build_charset(texts))
    full = _outputs(texts, cs)
    pruned = PrunedOutputs.from_log_probs(full, keep=4)
    lines = list(range(10))
    dense, lengths = pruned.dense(lines)
    dense, lengths = torch.from_numpy(dense), torch.from_numpy(lengths)
    padded = torch.nn.utils.rnn.pad_sequence([full[i] for i in lines])
    for q in lines:  # the pruned outputs rank the lines for each query as the full ones do
        exact = ctc_log_likelihood(padded, lengths, [texts[q]] * 10, cs)
        approx = ctc_log_likelihood(dense, lengths, [texts[q]] * 10, cs)
        assert texts[int(exact.argmax())] == texts[int(approx.argmax())] == texts[q]
    searcher = HybridSearcher(TranscriptIndex.build(texts), pruned, cs)
    hits = searcher.search(texts[5], k=3)
    assert texts[hits[0][0]] == texts[5] and hits[0][1] >= hits[-1][1]


def test_numpy_ctc_likelihood_equals_torch_ctc_loss():
    from hieralign.index.ctc_numpy import ctc_log_likelihood as numpy_likelihood

    g = torch.Generator().manual_seed(0)
    log_probs = torch.randn(30, 6, 7, generator=g).log_softmax(-1)
    lengths = torch.tensor([30, 25, 10, 3, 30, 1])
    targets = [[1, 2, 3], [2, 2, 4, 5], [1] * 6, [3, 4], [], [5]]  # six repeats need 11 frames: line 2 has 10
    torch_cs = Charset("abcdef")
    texts = [torch_cs.decode(t) for t in targets]
    expected = ctc_log_likelihood(log_probs, lengths, texts, torch_cs).numpy()
    got = numpy_likelihood(log_probs.numpy(), lengths.numpy(), targets)
    assert got[2] == expected[2] == float("-inf")
    assert abs(got - expected)[[0, 1, 3, 4, 5]].max() < 1e-3


def test_numpy_ctc_likelihood_stays_exact_on_pecha_length_lines():
    """900 frames: the rescaled forward must not under- or overflow where the log domain would not."""
    from hieralign.index.ctc_numpy import ctc_log_likelihood as numpy_likelihood

    g = torch.Generator().manual_seed(1)
    log_probs = (3 * torch.randn(900, 3, 12, generator=g)).log_softmax(-1)
    lengths = torch.tensor([900, 700, 400])
    targets = [[int(u) for u in torch.randint(1, 12, (n,), generator=g)] for n in (200, 150, 90)]
    cs = Charset("abcdefghijk")
    expected = ctc_log_likelihood(log_probs, lengths, [cs.decode(t) for t in targets], cs).double().numpy()
    got = numpy_likelihood(log_probs.numpy(), lengths.numpy(), targets)
    assert (expected < -500).all()  # far below float64's exp range: only a scaled forward survives
    assert np.allclose(got, expected, rtol=1e-4)
