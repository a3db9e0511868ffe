"""The training stack: distributed set-up, checkpoints, optimizer/schedule, EMA and the trainer.

    from worldsim.training.trainer import Trainer, TrainerConfig
    Trainer(TrainerConfig(out="runs/x", steps=1000), task).fit()   # task: worldsim.training.task.Task

Run a training with ``python`` (world size 1) or ``torchrun --nproc_per_node=N`` (data parallel).
Importing this package is cheap; torch and megatron load with the modules that need them.
"""
