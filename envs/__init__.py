"""Gymnasium environments: ground-truth simulators and (later) world-model envs.

Importing this package registers the ``worldsim/...`` ids of the records in ``envs.simulators``;
the simulators themselves are imported only when an env is made, so ``import envs`` stays light
(no mujoco).
"""

from envs.registry import ENVS, check_env_id, make, register_all
from envs.simulators import SIMULATORS, SimulatorSpec, simulator

register_all()

__all__ = ["ENVS", "SIMULATORS", "SimulatorSpec", "check_env_id", "make", "register_all", "simulator"]
