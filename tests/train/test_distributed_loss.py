"""The contrastive loss gathers features across ranks with gradient: 2 gloo processes on one
batch split in halves must give the single-process loss, and (after DDP's 1/world averaging)
the single-process gradient."""

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from hieralign.models.char.config import LossConfig
from hieralign.models.char.losses import FineGrainedContrastiveLoss

B, D, TI, TR, d = 8, 16, 12, 5, 8


def make_inputs():
    g = torch.Generator().manual_seed(0)
    image = {"character": F.normalize(torch.randn(B, D, generator=g), dim=-1),
             "stroke_tokens": F.normalize(torch.randn(B, TI, d, generator=g), dim=-1),
             "radical_tokens": F.normalize(torch.randn(B, TR, d, generator=g), dim=-1)}
    lengths = torch.tensor([3, 5, 2, 4, 6, 1, 3, 2])  # rank 0's texts are shorter than rank 1's
    text = {"character": F.normalize(torch.randn(B, D, generator=g), dim=-1)}
    for level, width in (("stroke", 7), ("radical", 6)):
        text[f"{level}_tokens"] = F.normalize(torch.randn(B, width, d, generator=g), dim=-1)
        text[f"{level}_pad"] = torch.arange(width)[None] >= lengths.clamp(max=width)[:, None]
    labels = torch.tensor([3, 1, 4, 0, 5, 2, 7, 6])
    return image, text, labels


def loss_and_grads(image, text, img_labels, txt_labels):
    image = {k: v.clone().requires_grad_(True) for k, v in image.items()}
    out = FineGrainedContrastiveLoss(LossConfig())(image, text, img_labels, txt_labels, torch.tensor(10.0))
    out["total"].backward()
    return {k: float(v.detach()) for k, v in out.items()}, {k: v.grad for k, v in image.items()}


def _trim(text, rows):
    """A rank's texts, padded only to its own longest sequence (as the tokenizer does)."""
    out = {"character": text["character"][rows]}
    for level in ("stroke", "radical"):
        pad = text[f"{level}_pad"][rows]
        width = int((~pad).sum(1).max())
        out[f"{level}_tokens"], out[f"{level}_pad"] = text[f"{level}_tokens"][rows, :width], pad[:, :width]
    return out


def _worker(rank, world, init_file, result_file):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    image, text, labels = make_inputs()
    rows = slice(rank * B // world, (rank + 1) * B // world)
    local_image = {k: v[rows] for k, v in image.items()}
    losses, grads = loss_and_grads(local_image, _trim(text, rows), labels[rows], labels[rows])
    torch.save({"losses": losses, "grads": grads}, f"{result_file}.{rank}")
    dist.barrier()  # no rank tears the group down while the other is still in a collective
    dist.destroy_process_group()


def test_two_process_gather_equals_single_process(tmp_path):
    image, text, labels = make_inputs()
    single_losses, single_grads = loss_and_grads(image, text, labels, labels)
    world = 2
    mp.spawn(_worker, args=(world, str(tmp_path / "init"), str(tmp_path / "res")), nprocs=world, join=True)
    for rank in range(world):
        res = torch.load(tmp_path / f"res.{rank}", weights_only=True)
        for name, value in single_losses.items():
            assert abs(res["losses"][name] - value) < 1e-5, (rank, name)
        rows = slice(rank * B // world, (rank + 1) * B // world)
        for key, grad in res["grads"].items():
            # every rank back-propagates the same global loss: all_gather's backward sums them
            assert torch.allclose(grad / world, single_grads[key][rows], atol=1e-6), (rank, key)
