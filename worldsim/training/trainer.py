"""The generic training loop: data parallel, checkpoints, TensorBoard, exact resume.

    from worldsim.training.trainer import Trainer, TrainerConfig
    cfg = load_config(TrainerConfig, overrides=["out=runs/tok", "steps=2000", "batch_size=16"])
    final_checkpoint = Trainer(cfg, task).fit()          # task: worldsim.training.task.Task

    python my_entry.py ...                                # world size 1 (gloo on 127.0.0.1)
    torchrun --nproc_per_node=2 my_entry.py ...           # data parallel over 2 processes

Every process builds the same model (rank 0's weights are broadcast), takes its share of the
global ``batch_size`` from its own loader shard, and averages gradients over the data-parallel
group after ``backward`` (an all-reduce in flat buckets, so a task may call any submodule;
``data_parallel.py``).
Checkpoints go to ``<out>/checkpoints`` every ``ckpt_every`` steps and at the end, TensorBoard
scalars to ``<out>/tb``. Rerunning the same command on the same ``<out>`` resumes from the
latest checkpoint: weights, EMA, optimizer moments, every RNG (torch CPU/CUDA, numpy, python)
and the loader position are restored, so the weights at any later step are bit-identical to
those of a run that never stopped. An ``<out>`` holding another run's config (or a checkpoint
of other data) is refused (``run_folder.py``); only ``RESUMABLE_KEYS`` may change, e.g. a larger ``steps`` extends
a run (the cosine schedule then stretches to the new end).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
import warnings
from dataclasses import is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from omegaconf import OmegaConf
from tqdm import tqdm

from worldsim import io as wio
from worldsim.config import to_dict
from worldsim.training import checkpoint, parallel
from worldsim.training.data_parallel import average_gradients, broadcast_from_first
from worldsim.training.ema import EMA
from worldsim.training.optim import build_adamw, check_optimizer_state, clip_gradients, lr_at, set_lr
from worldsim.training.resume import read_training_state
from worldsim.training.rng import capture_rng, rank_seed, restore_rng, seed_all
from worldsim.training.run_folder import RUN_CONFIG, check_run_folder, check_same_data
from worldsim.training.task import Task, has_evaluate
from worldsim.training.trainer_config import TrainerConfig


class Trainer:
    """``Trainer(cfg, task).fit()`` trains ``task``'s model and returns the final checkpoint folder."""

    def __init__(self, cfg: TrainerConfig, task: Task):
        cfg.check()
        self.cfg, self.task = cfg, task
        self.out = Path(cfg.out)
        self.ckpt_root = self.out / "checkpoints"
        self.step = 0
        self.last_checkpoint: Path | None = None
        self.writer = None

    def run_config(self) -> dict:
        task_cfg = self.task.config()
        task_cfg = to_dict(task_cfg) if is_dataclass(task_cfg) else task_cfg
        config = {"architecture": self.task.name, "trainer": to_dict(self.cfg), "task": task_cfg}
        # plain JSON data, so a tuple in a config compares equal to the list config.yaml stores
        return json.loads(json.dumps(OmegaConf.to_container(OmegaConf.create(config), resolve=True)))

    def default_config(self) -> dict | None:
        """The run config of default-valued trainer and task configs (None when the task's config
        has no defaults): settings added to a config class after a run started resume at these."""
        cfg = getattr(self.task, "cfg", None)
        try:
            task_default = to_dict(type(cfg)()) if is_dataclass(cfg) else None
        except TypeError:
            return None
        if task_default is None:
            return None
        config = {"architecture": self.task.name, "trainer": to_dict(TrainerConfig()), "task": task_default}
        return json.loads(json.dumps(OmegaConf.to_container(OmegaConf.create(config), resolve=True)))

    def fit(self) -> Path:
        with parallel.session(self.cfg.tp, self.cfg.pp, self.cfg.cp):
            self._setup()
            try:
                self._loop()
            finally:
                self._close()
            return self.last_checkpoint

    # -------------------------------------------------------- set-up

    def _setup(self) -> None:
        self._prepare_out()
        if parallel.model_parallel_size() > 1:
            raise ValueError("tp/pp/cp > 1 needs a model-parallel task and sharded checkpoints; use tp=pp=cp=1 for now")
        self.device = parallel.device()
        self.group = parallel.grad_group()
        self.group_size = dist.get_world_size(self.group)
        self._set_determinism()
        self._build()
        self._resume()
        if parallel.is_main():
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(self.out / "tb"), purge_step=self.step + 1 if self.step else None)

    def _prepare_out(self) -> None:
        """Refuse another run's folder (every rank checks); the main rank writes config and cleans up."""
        config = self.run_config()
        check_run_folder(self.out, config, self.default_config())
        parallel.barrier()
        if parallel.is_main():
            self.out.mkdir(parents=True, exist_ok=True)
            if not (self.out / RUN_CONFIG).is_file():
                wio.write_yaml(self.out / RUN_CONFIG, config)
            checkpoint.remove_partial(self.ckpt_root)
        parallel.barrier()

    def _set_determinism(self) -> None:
        if self.cfg.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
            torch.backends.cudnn.benchmark = False
        if self.cfg.precision == "bf16" and self.device.type != "cuda":
            warnings.warn("precision=bf16 autocasts on GPU only; training in fp32 on CPU", stacklevel=3)

    def _build(self) -> None:
        cfg, dp = self.cfg, parallel.dp_size()
        if cfg.batch_size % dp:
            raise ValueError(f"batch_size {cfg.batch_size} is not divisible by the {dp} data-parallel ranks")
        seed_all(cfg.seed)
        self.model = self.task.build_model().to(self.device).train()
        broadcast_from_first(wio.tensor_state(self.model).values(), self.group)
        betas = (cfg.adam_beta1, cfg.adam_beta2)
        self.optimizer = build_adamw(self.model, cfg.lr, cfg.weight_decay, betas, cfg.adam_eps)
        self.ema = EMA(self.model, cfg.ema_decay)
        seed_all(rank_seed(cfg.seed, parallel.rank()))
        self.loader = self.task.make_loader(cfg.batch_size // dp, parallel.dp_rank(), dp, cfg.seed)

    def _resume(self) -> None:
        found = wio.latest_checkpoint(self.ckpt_root)
        if found is None:
            return
        state = read_training_state(
            found, parallel.rank(), parallel.world_size(), wio.tensor_state(self.model), self.task.name
        )
        check_optimizer_state(self.optimizer, state.optimizer, found / checkpoint.OPTIM_JSON)
        check_same_data(found, state.meta.get("data_fingerprint"), getattr(self.loader, "fingerprint", None))
        self.loader.load_state_dict(state.loader)
        wio.load_tensor_state(self.model, state.model)
        self.ema.load_state_dict(state.ema)
        self.optimizer.load_state_dict(state.optimizer)
        restore_rng(state.rng_tensors, state.rng_states)
        self.step, self.last_checkpoint = state.step, found
        if parallel.is_main():
            print(f"resuming from {found} at step {self.step}", flush=True)

    # -------------------------------------------------------- the loop

    def _loop(self) -> None:
        self.bar = tqdm(total=self.cfg.steps, initial=self.step, disable=not (parallel.is_main() and self.cfg.progress),
                        dynamic_ncols=True, desc=self.task.name)
        self._window: dict[str, list[float]] = {}
        self._window_start = time.perf_counter()
        while self.step < self.cfg.steps:
            metrics = self._train_step()
            self.step += 1
            self.bar.update(1)
            self._record(metrics)
            if self.step % self.cfg.ckpt_every == 0 or self.step == self.cfg.steps:
                self._checkpoint()

    def _train_step(self) -> dict[str, float]:
        batch = to_device(next(self.loader), self.device)
        self.optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            loss, metrics = self.task.loss(self.model, batch)
        loss.backward()
        average_gradients(self.model.parameters(), self.group, self.device)
        grad_norm = clip_gradients(self.model.parameters(), self.cfg.grad_clip)
        lr = lr_at(self.step + 1, self.cfg.lr, self.cfg.warmup_steps, self.cfg.steps, self.cfg.min_lr_ratio)
        set_lr(self.optimizer, lr)
        self.optimizer.step()
        broadcast_from_first(self.model.buffers(), self.group)
        self.ema.update(self.model)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise FloatingPointError(f"loss is {value} at step {self.step + 1}; lower lr or check the data")
        return {"loss": value, "lr": lr, "grad_norm": grad_norm, **metrics}

    def _autocast(self):
        if self.cfg.precision == "bf16" and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # -------------------------------------------------------- logging, evaluation, checkpoints

    def _record(self, metrics: dict[str, float]) -> None:
        for key, value in metrics.items():
            self._window.setdefault(key, []).append(float(value))
        if self.step % self.cfg.log_every and self.step != self.cfg.steps:
            return
        means = self._reduce_window()
        elapsed = time.perf_counter() - self._window_start
        means["steps_per_s"] = len(next(iter(self._window.values()))) / max(elapsed, 1e-9)
        self.last_metrics = means
        if self.writer is not None:
            for key, value in means.items():
                self.writer.add_scalar(f"train/{key}", value, self.step)
        self.bar.set_postfix(loss=f"{means['loss']:.4g}", lr=f"{means['lr']:.3g}")
        self._window, self._window_start = {}, time.perf_counter()

    def _reduce_window(self) -> dict[str, float]:
        keys = sorted(self._window)
        means = torch.tensor([float(np.mean(self._window[k])) for k in keys], dtype=torch.float64)
        if self.group_size > 1:
            means = means.to(self.device)
            dist.all_reduce(means, group=self.group)
            means = means.cpu() / self.group_size
        return dict(zip(keys, means.tolist()))

    def _evaluate(self) -> dict[str, float]:
        """The task's evaluation, on every rank, with all RNG states put back afterwards."""
        if not has_evaluate(self.task):
            return {}
        rng = capture_rng()
        self.model.eval()
        try:
            with torch.no_grad():
                metrics = {k: float(v) for k, v in self.task.evaluate(self.model).items()}
        finally:
            self.model.train()
            restore_rng(*rng)
        if self.writer is not None:
            for key, value in metrics.items():
                self.writer.add_scalar(f"eval/{key}", value, self.step)
        return metrics

    def _checkpoint(self) -> None:
        eval_metrics = self._evaluate()
        tmp = self.ckpt_root / f"{checkpoint.step_name(self.step)}.tmp"
        if parallel.is_main():
            checkpoint.begin(self.ckpt_root, self.step)
        parallel.barrier()
        checkpoint.write_rank_state(tmp, parallel.rank(), self.loader.state_dict())
        parallel.barrier()
        if parallel.is_main():
            self._write_main(tmp, eval_metrics)
        parallel.barrier()
        self.last_checkpoint = self.ckpt_root / checkpoint.step_name(self.step)

    def _write_main(self, tmp: Path, eval_metrics: dict[str, float]) -> None:
        model_state = wio.model_state_for_saving(self.model)
        meta = wio.make_meta(
            self.step, self.task.name, model_state, world_size=parallel.world_size(),
            data_fingerprint=getattr(self.loader, "fingerprint", None),
            metrics={**{f"train/{k}": v for k, v in getattr(self, "last_metrics", {}).items()},
                     **{f"eval/{k}": v for k, v in eval_metrics.items()}},
        )
        optimizer_state = self.optimizer.state_dict()
        checkpoint.write_main_state(tmp, model_state, self.ema.state_dict(), optimizer_state, self.run_config(), meta)
        checkpoint.commit(self.ckpt_root, self.step, self.cfg.keep_last)

    def _close(self) -> None:
        if getattr(self, "bar", None) is not None:
            self.bar.close()
        if self.writer is not None:
            self.writer.close()
            self.writer = None


# ------------------------------------------------------------ helpers


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor inside nested dicts/lists/tuples to ``device``; other leaves stay."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


