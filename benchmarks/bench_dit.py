"""DiT training throughput: tokens/s, achieved FLOP/s against the machine's matmul peak (MFU),
and packed against padded batches of mixed-length clips, all measured in one run.

    .venv/bin/python benchmarks/bench_dit.py [--hidden 384 --layers 6 --heads 6] [--json out.json]

Model FLOPs per step use the DiT count 6 * N_params * tokens + 12 * L * h * sum(s_i^2) (forward
and backward, full attention per sample). The peak is the best dense matmul rate of the same
device and dtype (fp32 on CPU, bf16 on GPU), measured here before the model runs.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from benchmarks.peak import matmul_peak_flops
from worldsim.diffusion.dit import DiT, DiTConfig
from worldsim.diffusion.edm import EDMConfig, training_loss, training_loss_packed
from worldsim.diffusion.testing import megatron_world


def model_flops(model: DiT, seq_lens: list[int]) -> float:
    cfg = model.cfg
    dense = 6 * model.num_params() * sum(seq_lens)
    attention = 12 * cfg.num_layers * cfg.hidden_size * sum(s * s for s in seq_lens)
    return float(dense + attention)


def tokens_per_clip(model: DiT, frames: int, hw: int) -> int:
    pt, ph, pw = model.cfg.patch_size
    return (frames // pt) * (hw // ph) * (hw // pw)


def time_steps(step_fn, steps: int) -> float:
    step_fn()                                                   # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step_fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def make_step(model, opt, loss_fn):
    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn().backward()
        opt.step()
    return step


def bench_uniform(model, opt, device, dtype, batch: int, frames: int, hw: int, steps: int) -> dict:
    x0 = torch.randn(batch, model.cfg.in_channels, frames, hw, hw, device=device)
    mask = model.default_cond_mask(batch, frames, device)
    with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
        seconds = time_steps(make_step(model, opt, lambda: training_loss(model, x0, mask, EDMConfig())), steps)
    seqs = [tokens_per_clip(model, frames, hw)] * batch
    return {"seconds_per_step": seconds, "tokens_per_s": sum(seqs) / seconds,
            "model_flops_per_s": model_flops(model, seqs) / seconds}


def bench_mixed(model, opt, device, dtype, lengths: list[int], hw: int, steps: int) -> dict:
    c = model.cfg.in_channels
    clips = [torch.randn(c, t, hw, hw, device=device) for t in lengths]
    masks = [torch.arange(t, device=device) < model.cfg.num_cond_frames for t in lengths]
    t_max = max(lengths)
    padded = torch.stack([torch.nn.functional.pad(x, (0, 0, 0, 0, 0, t_max - x.shape[1])) for x in clips])
    pad_mask = model.default_cond_mask(len(lengths), t_max, device)
    real = sum(tokens_per_clip(model, t, hw) for t in lengths)
    with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
        packed_s = time_steps(make_step(model, opt, lambda: training_loss_packed(model, clips, masks)), steps)
        padded_s = time_steps(make_step(model, opt, lambda: training_loss(model, padded, pad_mask)), steps)
    return {"lengths": lengths, "padding_fraction": 1 - real / (len(lengths) * tokens_per_clip(model, t_max, hw)),
            "packed_real_tokens_per_s": real / packed_s, "padded_real_tokens_per_s": real / padded_s,
            "packed_vs_padded": padded_s / packed_s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", type=int, default=384)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--frames", type=int, default=9)
    ap.add_argument("--hw", type=int, default=8, help="latent height = width")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--json")
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    with megatron_world(seed=0):
        peak = matmul_peak_flops(device, dtype)
        model = DiT(DiTConfig(hidden_size=args.hidden, num_layers=args.layers, num_heads=args.heads)).to(device)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        uniform = bench_uniform(model, opt, device, dtype, args.batch, args.frames, args.hw, args.steps)
        mixed = bench_mixed(model, opt, device, dtype, [2, 3, 9, 4, 9, 2, 5, 3], args.hw, args.steps)
    result = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
              "threads": torch.get_num_threads(), "dtype": str(dtype), "params": model.num_params(),
              "matmul_peak_flops": peak, **uniform, "mfu": uniform["model_flops_per_s"] / peak, "mixed": mixed}
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
