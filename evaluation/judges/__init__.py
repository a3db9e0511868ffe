"""Success and reward judges for world-model envs (trained by ``worldsim train judge``).

    from evaluation.judges.model import Judges, JudgeConfig
    from evaluation.judges.metrics import binary_metrics, reward_mae
    from evaluation.judges.rules import state_rule     # the task's own rule on (predicted) state

Nothing heavy is imported here; the submodules import torch.
"""
