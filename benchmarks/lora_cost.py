"""LoRA against full fine-tuning of all-MiniLM-L6-v2 on the CPU: seconds per step and the memory a
training step holds, counted tensor by tensor (peft's LoRA, r=8 on query and value, and the classifier).
AdamW is fused, as in m2_lora; full fine-tuning also runs with PyTorch's CPU default (a loop over the
weight tensors), the optimizer m2_lora used before 2026-11-29, to show what it added to a full step.

Usage: python benchmarks/lora_cost.py [--steps 20]
"""

import argparse
import time

import torch

from transfer_course import models, training


def measure(strategy: str, steps: int, fused: bool = True) -> tuple[float, dict, int]:
    torch.manual_seed(0)
    model, tokenizer = models.text_classifier(num_labels=2)
    if strategy == "LoRA":
        from peft import LoraConfig, TaskType, get_peft_model

        model = get_peft_model(
            model, LoraConfig(task_type=TaskType.SEQ_CLS, r=8, lora_alpha=16, target_modules=["query", "value"])
        )
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, fused=fused)
    batch = tokenizer(
        ["a quietly devastating film about families"] * 16, padding="max_length", max_length=48, return_tensors="pt"
    )
    labels = torch.zeros(16, dtype=torch.long)
    activations = training.SavedActivations(model)
    model.train()
    model(**batch, labels=labels).loss.backward()  # warm-up step, not timed
    optimizer.zero_grad()
    start = time.perf_counter()
    for _ in range(steps):
        with activations:
            loss = model(**batch, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    seconds = (time.perf_counter() - start) / steps
    memory = training.training_memory(model, optimizer, activations)
    return seconds, memory, sum(p.numel() for p in model.parameters() if p.requires_grad)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    found = {
        "full fine-tuning, AdamW per tensor": measure("full fine-tuning", args.steps, fused=False),
        "full fine-tuning": measure("full fine-tuning", args.steps),
        "LoRA": measure("LoRA", args.steps),
    }
    for row, (seconds, memory, trainable) in found.items():
        parts = ", ".join(f"{part} {mb:.0f}" for part, mb in memory.items())
        print(
            f"{row:>34}: {seconds:.3f} s/step, {sum(memory.values()):.0f} MB a step ({parts}), "
            f"{trainable:,} trainable parameters"
        )
    lora_s, lora_m, _ = found["LoRA"]
    for full in ("full fine-tuning", "full fine-tuning, AdamW per tensor"):
        full_s, full_m, _ = found[full]
        memory_ratio = sum(lora_m.values()) / sum(full_m.values())
        print(f"LoRA / {full}: time per step {lora_s / full_s:.2f}, memory of a step {memory_ratio:.2f}")


if __name__ == "__main__":
    main()
