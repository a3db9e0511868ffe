"""The training stack: distributed set-up, checkpoints, optimizer/schedule, EMA and the trainer.

    from worldsim.training.trainer import Trainer, TrainerConfig
    Trainer(TrainerConfig(out="runs/x", steps=1000), task).fit()   # task: worldsim.training.task.Task

``trainer.py`` (the loop), ``trainer_config.py``, ``run_folder.py`` (refusing another run's folder),
``data_parallel.py`` (gradient all-reduce), ``checkpoint.py`` (writing checkpoints), ``resume.py``,
``flat_state.py`` and ``rng.py`` (what an exact resume reads back), ``optim.py``, ``ema.py``,
``parallel.py``. Reading a checkpoint for inference is ``worldsim.io``, which never imports this package.

Run a training with ``python`` (world size 1) or ``torchrun --nproc_per_node=N`` (data parallel).
Importing this package is cheap; torch and megatron load with the modules that need them.
"""
