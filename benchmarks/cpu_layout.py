"""What m3 gains on a CPU from channels-last memory and fused AdamW: EfficientNet-Lite0's frozen stages
on 250 images of 160x160 (the photo crops of the forgetting experiment), and one training step of its
fine-tuned top (last stage, conv_head, a new head) on cached activations of 2x2, the learning curves'
workload. Each measured three ways in the same process, the baseline (NCHW, plain AdamW) first; in brackets,
the ratio to it.

Usage: python benchmarks/cpu_layout.py [--repeats 50]
"""

import argparse
import time

import torch
from torch import nn

from transfer_course import models

FROZEN_STAGES = 6  # as m3_evaluation


def frozen_stages_seconds(backbone, images) -> float:
    start = time.perf_counter()
    with torch.no_grad():
        x = backbone.bn1(backbone.conv_stem(images))
        for stage in backbone.blocks[:FROZEN_STAGES]:
            x = stage(x)
    return time.perf_counter() - start


def top_step_seconds(backbone, cached, labels, repeats: int, fused: bool) -> float:
    top = nn.Sequential(
        *backbone.blocks[FROZEN_STAGES:], backbone.conv_head, backbone.bn2, backbone.global_pool, nn.Linear(1280, 10)
    ).train()
    optimizer = torch.optim.AdamW(top.parameters(), lr=1e-3, fused=fused)

    def step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(top(cached), labels).backward()
        optimizer.step()

    for _ in range(5):  # warm-up: oneDNN picks its kernels on the first calls
        step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    torch.manual_seed(0)
    images = torch.rand(250, 3, 160, 160)
    cached, labels = torch.randn(32, 192, 2, 2), torch.randint(0, 10, (32,))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    baseline = None
    for name, layout, fused in (
        ("NCHW, AdamW", torch.contiguous_format, False),
        ("NCHW, fused AdamW", torch.contiguous_format, True),
        ("channels-last, fused AdamW", torch.channels_last, True),
    ):
        backbone = models.vision_backbone().eval().to(memory_format=layout)
        forward = frozen_stages_seconds(backbone, images.contiguous(memory_format=layout))
        step = top_step_seconds(backbone, cached.contiguous(memory_format=layout), labels, args.repeats, fused)
        baseline = baseline or (forward, step)
        print(
            f"{name:<27} frozen stages, 250 images at 160 px: {forward:5.2f} s ({forward / baseline[0]:.2f})   "
            f"top step, batch 32: {step * 1e3:5.1f} ms ({step / baseline[1]:.2f})"
        )


if __name__ == "__main__":
    main()
