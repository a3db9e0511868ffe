"""Data-parallel training under ``torchrun --nproc_per_node=2`` (gloo on CPU).

    .venv/bin/python -m pytest tests/training/test_data_parallel.py -q

Each rank trains on its own clip shard with its own noise and dropout draws; averaged gradients
must keep the two replicas bit-identical. A one-process rerun on the same folder is refused
(its per-rank RNG and loader states cannot map onto another world size).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tiny_task import tiny_trainer

from worldsim import io as wio
from worldsim.training.data_parallel import buckets

SCRIPT = Path(__file__).with_name("tiny_task.py")
SETTINGS = ["steps=4", "batch_size=4", "warmup_steps=2", "lr=0.01", "log_every=2", "ckpt_every=2"]


@pytest.fixture(scope="module")
def ddp_run(tiny_dataset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ddp") / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(SCRIPT),
           "--data", tiny_dataset, "--out", str(out), "--dump-rank-weights", *SETTINGS]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def test_both_ranks_end_with_identical_weights(ddp_run):
    rank0, rank1 = load_file(ddp_run / "rank0.safetensors"), load_file(ddp_run / "rank1.safetensors")
    saved = load_file(ddp_run / "checkpoints" / "step_0000004" / "model.safetensors")
    assert rank0.keys() == rank1.keys() == saved.keys()
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name
        assert torch.equal(rank0[name], saved[name]), name


def test_each_rank_saved_its_own_rng_and_loader(ddp_run):
    final = ddp_run / "checkpoints" / "step_0000004"
    assert wio.read_meta(final)["world_size"] == 2
    rng = [load_file(final / f"rng_rank{r}.safetensors")["torch_cpu"] for r in range(2)]
    assert not torch.equal(rng[0], rng[1]), "ranks should draw different noise"
    assert all(wio.read_json(final / f"loader_rank{r}.json") == {"epoch": 0, "index": 4} for r in range(2))


def test_resume_with_another_world_size_is_refused(ddp_run, tiny_dataset):
    trainer = tiny_trainer(ddp_run, tiny_dataset, steps=6, warmup_steps=2, lr=0.01, log_every=2, ckpt_every=2)
    with pytest.raises(ValueError, match="written by 2 processes, this run has 1"):
        trainer.fit()


def test_gradient_buckets_split_by_dtype_and_size():
    a, b, c, d = torch.zeros(3), torch.zeros(4), torch.zeros(2, dtype=torch.float64), torch.zeros(5)
    assert [[t.numel() for t in bucket] for bucket in buckets([a, b, c, d], max_numel=8)] == [[3, 4], [2], [5]]
