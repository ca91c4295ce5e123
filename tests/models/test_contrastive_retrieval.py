import torch
import torch.nn.functional as F

from hieralign.eval.retrieval import positive_ranks, retrieval_metrics
from hieralign.models.contrastive import contrastive_loss, siglip_loss


def infonce_loss(image, text, scale, ids):
    return contrastive_loss(image, text, ids, ids, scale, kind="infonce")


def _embeds(n, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g), dim=-1), F.normalize(torch.randn(n, d, generator=g), dim=-1)


def test_infonce_without_duplicates_is_clip_loss():
    image, text = _embeds(6)
    ids = torch.arange(6)
    logits = 10.0 * image @ text.t()
    expected = (F.cross_entropy(logits, ids) + F.cross_entropy(logits.t(), ids)) / 2
    assert torch.allclose(infonce_loss(image, text, torch.tensor(10.0), ids), expected, atol=1e-6)


def test_duplicate_texts_are_positives_not_negatives():
    image, text = _embeds(4)
    ids = torch.tensor([7, 7, 8, 9])
    logits = 10.0 * image @ text.t()
    log_p = F.log_softmax(logits, dim=1)
    # row 0 and 1 split their target between columns 0 and 1
    expected_i2t = -(0.5 * (log_p[0, 0] + log_p[0, 1]) + 0.5 * (log_p[1, 0] + log_p[1, 1]) + log_p[2, 2] + log_p[3, 3]) / 4
    log_q = F.log_softmax(logits.t(), dim=1)
    expected_t2i = -(0.5 * (log_q[0, 0] + log_q[0, 1]) + 0.5 * (log_q[1, 0] + log_q[1, 1]) + log_q[2, 2] + log_q[3, 3]) / 4
    loss = infonce_loss(image, text, torch.tensor(10.0), ids)
    assert torch.allclose(loss, (expected_i2t + expected_t2i) / 2, atol=1e-6)
    # treating the duplicate as a negative would give a different (higher) loss
    naive = (F.cross_entropy(logits, torch.arange(4)) + F.cross_entropy(logits.t(), torch.arange(4))) / 2
    assert not torch.allclose(loss, naive)


def test_siglip_labels_duplicates_positive():
    image, text = _embeds(3)
    ids = torch.tensor([1, 1, 2])
    logits = 5.0 * image @ text.t() - 1.0
    labels = torch.tensor([[1, 1, -1], [1, 1, -1], [-1, -1, 1]], dtype=torch.float32)
    expected = -F.logsigmoid(labels * logits).sum() / 3
    assert torch.allclose(siglip_loss(logits, ids, ids), expected)
    assert torch.allclose(contrastive_loss(image, text, ids, ids, torch.tensor(5.0), torch.tensor(-1.0), "siglip"),
                          expected)


def _full_ranks(queries, gallery, q_ids, g_ids):
    """Reference: sort the full matrix, first positive position (ties broken in favour of positives)."""
    scores = queries @ gallery.t()
    ranks = []
    for i in range(len(queries)):
        order = sorted(range(len(gallery)), key=lambda j: (-float(scores[i, j]), int(g_ids[j] != q_ids[i])))
        ranks.append(next(pos for pos, j in enumerate(order) if g_ids[j] == q_ids[i]))
    return torch.tensor(ranks)


def test_chunked_ranks_equal_full_matrix():
    image, text = _embeds(37, d=4, seed=3)
    ids = torch.arange(37)
    ids[5] = ids[9]  # a duplicate text
    full = _full_ranks(text, image, ids, ids)
    for chunk in (1, 5, 37, 100):
        assert torch.equal(positive_ranks(text, image, ids, ids, chunk_size=chunk), full)
    metrics = retrieval_metrics(image, text, ids, chunk_size=4)
    assert abs(metrics["t2i_r1"] - float((full < 1).double().mean())) < 1e-9
    assert abs(metrics["t2i_mrr"] - float((1.0 / (full.double() + 1)).mean())) < 1e-9


def test_perfect_embeddings_score_one():
    image, _ = _embeds(20, d=32)
    metrics = retrieval_metrics(image, image.clone(), torch.arange(20))
    assert metrics["i2t_r1"] == 1.0 and metrics["t2i_r1"] == 1.0 and metrics["t2i_mrr"] == 1.0
