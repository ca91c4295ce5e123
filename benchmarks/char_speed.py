"""Speed and size per character-model preset: params, FLOPs, glyphs/s, latency, training glyphs/s."""

from __future__ import annotations

import os
import resource
import statistics
import time

import torch


def _flops(model, image_size: int) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model.encode_image(torch.rand(1, 1, image_size, image_size))
    return int(counter.get_total_flops())


def _batched(model, image_size: int, batch: int = 256, repeats: int = 5) -> tuple[float, float]:
    """(glyphs/s wall-clock best of n, glyphs per CPU-second of this process).

    The second number is what the model costs, whatever else runs on the machine: on a shared
    2-core box the wall-clock rate mostly measures the neighbours."""
    x = torch.rand(batch, 1, image_size, image_size)
    with torch.inference_mode():
        model.encode_image(x)
        times, cpu = [], time.process_time()
        for _ in range(repeats):
            start = time.perf_counter()
            model.encode_image(x)
            times.append(time.perf_counter() - start)
        cpu = time.process_time() - cpu
    return batch / min(times), batch * repeats / cpu


def _latency_ms(model, image_size: int, repeats: int = 100) -> float:
    x = torch.rand(1, 1, image_size, image_size)
    with torch.inference_mode():
        for _ in range(10):
            model.encode_image(x)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model.encode_image(x)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _train_rate(model, texts, batch: int = 128, steps: int = 4) -> tuple[float, float]:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    images = torch.rand(batch, 1, 64, 64)
    labels = torch.arange(batch) % len(texts)
    classes = torch.arange(len(texts))
    model.train()
    times, cpu = [], 0.0
    for i in range(steps + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        loss = model.loss(images, labels, texts, classes)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
        cpu += (time.process_time() - cpu_start) if i else 0.0
    return batch / min(times[1:]), batch * steps / cpu


def measure_presets(threads: int = 2, presets: tuple[str, ...] = ("lite", "balanced", "full", "standard")) -> dict:
    from hieralign.knowledge import protocols
    from hieralign.models.char import PRESETS, create_model
    from hieralign.models.char.texts import DecompositionTokenizer

    torch.set_num_threads(threads)
    seen, _ = protocols.split("etl9g-zs", 2036)
    out = {}
    for preset in presets:
        if preset not in PRESETS:
            continue
        higita = preset != "standard"
        tok = DecompositionTokenizer.build(seen, "J", higita)
        model = create_model(preset, use_higita_enhancement=higita, ids_vocab_size=tok.vocab_size,
                             codebook_size=tok.codebook_size)
        size = model.config.image.image_size
        texts = tok.encode(seen[100:164] if higita else seen)  # Hi-GITA: ~B/2 classes per step; HierCode: all
        model.eval()
        batched, batched_cpu = _batched(model, size)
        train, train_cpu = _train_rate(model, texts)
        model.eval()
        out[preset] = {
            "params_image": sum(p.numel() for p in model.image_encoder.parameters()),
            "params_text": sum(p.numel() for p in model.text_encoder.parameters()),
            "mflops_per_glyph": round(_flops(model, size) / 1e6, 2),
            "glyphs_per_s_batched": round(batched, 1),
            "glyphs_per_cpu_s_batched": round(batched_cpu, 1),
            "latency_ms_single": round(_latency_ms(model, size), 2),
            "train_glyphs_per_s": round(train, 1),
            "train_glyphs_per_cpu_s": round(train_cpu, 1),
            "threads": threads,
        }
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["load_average_1min"] = round(os.getloadavg()[0], 2)  # how shared the machine was
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(measure_presets(), indent=2))
