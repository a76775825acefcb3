"""The language model's presets: the values `rnnlab lm train` gives the flags a user leaves
out (`--preset`, or the device's own)."""

from __future__ import annotations

from typing import Any

# Flags a user leaves out take these values, chosen per device: what fits 10 minutes of a
# 2-core CPU is not what fits a GPU. `seed` reproduces seed 003 as a baseline.
PRESETS: dict[str, dict[str, Any]] = {
    # Measured on 2 cores (benchmarks/lm_cpu): in a 10-minute budget the model is short of
    # updates first. A CPU trains a 2 x 256 LSTM at the same characters/s from batch 32 to
    # 256, so batch 32 (and seq 50 rather than 100) buys more updates for the same
    # characters; weight drop and variational dropout slow the fit more than they help.
    # Once a faster machine reads ~12 epochs in the budget, plain dropout 0.2 (not 0.3) and
    # a higher peak rate (5e-3) pay, and bf16 autocast on CPUs that multiply it natively
    # buys characters (tuning.sh, results-tuning.json).
    "cpu": dict(
        model="lstm",
        embedding=256,
        # tied, torch's N(0, 1) embedding starts the logits ~16 wide; uniform +-0.1 (as
        # word_language_model does) fitted faster on every step and ended 0.025 lower on
        # the worst seed of the comparison (results-tuning3.json)
        embedding_init=0.1,
        hidden=256,
        layers=2,
        dropout=0.2,
        tie_weights=True,
        seq_len=50,
        batch_size=32,
        ema=0.999,
        lr=5e-3,
        optimizer="adamw",
        weight_decay=0.01,
        schedule="cosine",
        warmup_steps=200,
        lr_min_ratio=0.05,
        grad_clip=1.0,
        eval_every=1000,
        steps=10000,  # the characters 5,000 steps of batch 64 read
        precision="auto",  # bf16 on CPUs with AMX / AVX512-BF16 (1.7x a bare step)
    ),
    "cuda": dict(
        model="lstm",
        embedding=1024,
        hidden=1024,
        layers=2,
        dropout=0.35,
        tie_weights=True,
        seq_len=128,
        batch_size=128,
        lr=2e-3,
        optimizer="adamw",
        weight_decay=0.1,
        schedule="cosine",
        warmup_steps=300,
        lr_min_ratio=0.05,
        grad_clip=1.0,
        eval_every=500,
        steps=20000,
        precision="bf16",
    ),
    "seed": dict(
        model="elman",
        input="scalar",
        embedding=1,
        hidden=256,
        layers=1,
        dropout=0.0,
        tie_weights=False,
        seq_len=25,
        batch_size=64,
        lr=1e-3,
        optimizer="rmsprop",
        weight_decay=0.0,
        schedule="constant",
        warmup_steps=0,
        grad_clip=3.0,
        layout="chunks",
        loss_scale=25.0,
        eval_every=500,
        steps=5000,
    ),
}
