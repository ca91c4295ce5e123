"""Two CPU processes (gloo) must train exactly like one process on the concatenated batch."""

import os
import socket
import subprocess
import sys
import textwrap

import pytest
import torch

WORKER = textwrap.dedent('''
    import sys, numpy as np, torch
    from hieralign.data.lines.batches import tokenize
    from hieralign.models.line.clip import LineCLIP, LineCLIPConfig, build_tokenizer
    from hieralign.train.engine import make_accelerator, train_step
    from hieralign.train.line_clip_task import line_clip_losses
    from hieralign.train.optim import param_groups, warmup_cosine

    out, rank, world = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    acc = make_accelerator(device="cpu")
    assert acc.num_processes == world, (acc.num_processes, world)
    torch.manual_seed(0)
    model = LineCLIP(LineCLIPConfig(vision="tiny", text="tiny", embed_dim=16))
    # SGD keeps float round-off (different summation order across ranks) at round-off size;
    # Adam would amplify it for parameters whose gradient is ~0.
    opt = torch.optim.SGD(param_groups(model, 0.0), lr=0.5)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(1, 10))
    model, opt = acc.prepare(model, opt)  # the engine steps its scheduler itself, once per global step
    rng = np.random.default_rng(1)
    pixels = torch.from_numpy(rng.random((8, 1, 32, 128), dtype=np.float32))
    texts = ["\\u0f40\\u0f0b" * (i + 1) for i in range(8)]
    texts[5] = texts[2]  # duplicate text across the two ranks' halves
    enc = tokenize(build_tokenizer("tiny"), texts, 32)
    ids = torch.tensor([hash(t) % 1000 for t in texts])
    per = 8 // world
    part = slice(rank * per, (rank + 1) * per)
    losses = []
    for _ in range(2):
        batch = {"pixel_values": pixels[part], "input_ids": enc["input_ids"][part],
                 "attention_mask": enc["attention_mask"][part], "group_ids": ids[part]}
        forward = lambda m, b: line_clip_losses(m, b, "infonce")
        losses.append(train_step(acc, model, opt, sched, forward, batch, grad_clip=1.0)["total"])
    state = {k: v.detach().clone() for k, v in acc.unwrap_model(model).state_dict().items()}
    torch.save({"losses": losses, "state": state}, f"{out}/rank{rank}_of{world}.pt")
''')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(rank: int, world: int, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_PORT")}
    env.update(OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
    if world > 1:
        env.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), LOCAL_WORLD_SIZE=str(world),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    return env


@pytest.mark.slow
def test_two_gloo_processes_match_one_process(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    port = _free_port()
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path), str(r), "2"], env=_env(r, 2, port),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for r in range(2)]
    procs.append(subprocess.Popen([sys.executable, str(script), str(tmp_path), "0", "1"], env=_env(0, 1, port),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    for p in procs:
        output = p.communicate(timeout=300)[0].decode(errors="replace")
        assert p.returncode == 0, output[-3000:]
    r0, r1 = (torch.load(tmp_path / f"rank{r}_of2.pt", weights_only=True) for r in range(2))
    single = torch.load(tmp_path / "rank0_of1.pt", weights_only=True)
    # the loss is computed on the gathered global batch, so every rank sees the single-process loss
    assert r0["losses"] == pytest.approx(single["losses"], abs=1e-5)
    assert r1["losses"] == pytest.approx(single["losses"], abs=1e-5)
    towers = [k for k in r0["state"] if k.startswith(("image_tower.", "text_tower."))]
    assert any(k.startswith("text_tower.") for k in towers) and any(k.startswith("image_tower.") for k in towers)
    for key, value in r0["state"].items():
        assert torch.equal(value, r1["state"][key]), f"{key} differs between ranks"
        assert torch.allclose(value, single["state"][key], atol=1e-5), f"{key} differs from the single process"
