"""Training tasks plugged into ``worldsim.training.trainer.Trainer`` for the ``worldsim train`` stages
tokenizer, base and policy; the judge and action stages' tasks live in ``posttrain/action/`` and are
found by name (``worldsim/training/stages.py``), so this package never imports a recipe."""
