"""One record per simulator and per world-model env: everything the rest of worldsim knows about it.

    spec = simulator("worldsim/TabletopPush-v0")
    spec.expert, spec.zoos["quick"], spec.rule, spec.world_model, spec.cameras

Adding a simulator is adding a ``SimulatorSpec`` to ``SIMULATORS``: registration (``envs.registry``),
experts (``policies.factory``), zoos (``evaluation.zoo``), the state judge (``envs.rules``)
and the default world model (``evaluation.columns``) all read it. Everything the record names is a
``"module:attr"`` string, resolved on use (``resolve``), so ``import envs`` imports nothing heavy and
nothing from ``policies`` or ``evaluation``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

TABLETOP_ZOO_BC = tuple(f"bc:tabletop_push/{inputs}_{share}" for inputs in ("image_state", "image")
                        for share in (5, 10, 25, 50, 100))


@dataclass(frozen=True)
class SimulatorSpec:
    """A ground-truth simulator: how to register it and what the rest of worldsim pairs with it."""

    env_id: str
    entry_point: str                          # "module:Class" of the gym.Env
    max_episode_steps: int
    cameras: tuple[str, ...]                  # the env's default cameras
    image_size: int                           # the env's default image size
    expert: str                               # "module:Class" of the scripted expert, built as
    #                                           Class(*expert_env_args taken from env kwargs, action_space)
    expert_env_args: tuple[tuple[str, object], ...] = ()   # (env kwarg, its default) passed to the expert
    play: str | None = None                   # "module:Class" of a play-data policy (world-model training data)
    zoos: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)  # name -> policy specs
    task_zoos: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict, hash=False)
    #                                           task -> zoos measured for that task (override ``zoos``)
    rule: str | None = None                   # "module:function(agent_pos, environment_state) -> (reward, success)"
    rule_env_args: tuple[tuple[str, object], ...] = ()   # if any: ``rule`` names a factory, called with
    #                                           these env kwargs (or their defaults), that returns the rule
    world_model: str | None = None            # folder under assets/ run by worldsim/WorldModel-v0
    #                                           (evaluation world_model=default)
    tasks: tuple[str, ...] = ()               # the env's ``task`` values, for an env with several
    task_world_models: Mapping[str, str] = field(default_factory=dict, hash=False)  # task -> folder under assets/

    def __post_init__(self):
        object.__setattr__(self, "zoos", MappingProxyType({k: tuple(v) for k, v in self.zoos.items()}))
        object.__setattr__(self, "task_world_models", MappingProxyType(dict(self.task_world_models)))
        object.__setattr__(self, "task_zoos", MappingProxyType(
            {task: MappingProxyType({k: tuple(v) for k, v in named.items()}) for task, named in self.task_zoos.items()}))

    def default_task(self) -> str | None:
        return dict(self.expert_env_args).get("task")

    def world_model_for(self, task: str | None = None) -> str | None:
        """The shipped world model for ``task`` (the default task when None); the env's one without tasks."""
        if not self.tasks:
            return self.world_model
        return self.task_world_models.get(task if task is not None else self.default_task())

    def zoos_for(self, task: str | None = None) -> dict[str, tuple[str, ...]]:
        """The zoos for ``task`` (the env's default task when None): the task's measured ones over the generic ones."""
        task = task if task is not None else self.default_task()
        return {**self.zoos, **self.task_zoos.get(task, {})}

    def outcome(self, env_kwargs: Mapping | None = None):
        """The state rule for an env made with ``env_kwargs`` (e.g. Meta-World's ``task``), or None."""
        if self.rule is None:
            return None
        if not self.rule_env_args:
            return resolve(self.rule)
        return resolve(self.rule)(*[(env_kwargs or {}).get(name, default) for name, default in self.rule_env_args])

    def registration(self) -> dict:
        """Keyword arguments of ``gym.register`` for this simulator."""
        return {"entry_point": self.entry_point, "max_episode_steps": self.max_episode_steps}


@dataclass(frozen=True)
class WorldModelEnvSpec:
    """A learned world-model env (not a simulator: the simulator test suite does not run over it)."""

    env_id: str
    entry_point: str
    max_episode_steps: int | None
    vector_entry_point: str | None = None
    default_model: str | None = None          # folder under assets/ loaded when no checkpoint is given

    def registration(self) -> dict:
        kwargs = {"entry_point": self.entry_point, "max_episode_steps": self.max_episode_steps}
        if self.vector_entry_point is not None:
            kwargs["vector_entry_point"] = self.vector_entry_point
        return kwargs


TABLETOP_PUSH = SimulatorSpec(
    env_id="worldsim/TabletopPush-v0",
    entry_point="envs.tabletop_push:TabletopPushEnv",
    max_episode_steps=100,
    cameras=("top", "front"),
    image_size=64,
    expert="policies.tabletop_expert:TabletopPushExpert",
    play="policies.tabletop_play:TabletopPushPlay",
    zoos={
        "default": (                # success rate measured on 20-40 episodes, 64 px, 100 steps
            "expert",               # 1.00
            "expert+noise:0.3",     # 0.93
            "expert+eps:0.5",       # 0.70
            "expert+delay:1",       # 0.55
            "expert+stuck:0.5",     # 0.35 (y velocity stuck at 0 in about half the episodes)
            "expert+noise:1.0",     # 0.35
            "expert+bias:0.2",      # 0.23
            "expert+noise:1.5",     # 0.12
            "expert+eps:0.8",       # 0.05
            "expert+delay:2",       # 0.00
            "random",               # 0.00
            # behaviour cloning on 5-100% of 180 expert demonstrations (assets/policies/README.md)
            "bc:tabletop_push/image_state_100",   # 0.70
            "bc:tabletop_push/image_state_25",    # 0.42
            "bc:tabletop_push/image_50",          # 0.32 (pixels only)
            "bc:tabletop_push/image_state_5",     # 0.20
        ),
        "bc": TABLETOP_ZOO_BC,
        "quick": ("expert", "expert+eps:0.5", "expert+delay:1", "expert+noise:1.0", "expert+noise:1.5", "random"),
    },
    rule="envs.tabletop_push:state_outcome",
    world_model="world_models/tabletop_push",
)

METAWORLD = SimulatorSpec(
    env_id="worldsim/MetaWorld-v0",
    entry_point="envs.metaworld_env:MetaWorldEnv",
    max_episode_steps=150,
    cameras=("corner2", "corner4"),
    image_size=64,
    expert="policies.metaworld_expert:MetaWorldExpert",
    expert_env_args=(("task", "push-v3"),),
    tasks=("push-v3", "reach-v3", "drawer-open-v3", "button-press-v3"),   # envs.metaworld_env.TASKS
    task_world_models={"push-v3": "world_models/metaworld_push",
                       "drawer-open-v3": "world_models/metaworld_drawer_open"},
    play="policies.metaworld_play:MetaWorldPlay",
    zoos={   # the generic zoo for tasks without a measured one (reach-v3, button-press-v3): not measured
        "default": ("expert", "expert+noise:0.2", "expert+noise:0.5", "expert+noise:1.0", "expert+eps:0.3",
                    "expert+eps:0.6", "expert+stuck:1.0", "expert+bias:0.3", "expert+delay:3", "expert+delay:10",
                    "random"),
        "quick": ("expert", "expert+noise:0.5", "expert+eps:0.6", "random"),
    },
    task_zoos={   # success rates measured over 100 episodes each (seeds 0-99; README "Meta-World zoo")
        "push-v3": {
            "default": ("expert",               # 1.00
                        "expert+noise:0.3",     # 0.89
                        "expert+eps:0.3",       # 0.73
                        "expert+noise:0.5",     # 0.57
                        "expert+stuck:1.0",     # 0.41
                        "expert+eps:0.45",      # 0.35
                        "expert+delay:10",      # 0.21
                        "expert+noise:0.72",    # 0.17
                        "expert+bias:0.1",      # 0.10
                        "random"),              # 0.00
            "quick": ("expert", "expert+noise:0.5", "expert+delay:10", "random"),
        },
        "drawer-open-v3": {
            "default": ("expert",               # 1.00
                        "expert+eps:0.3",       # 0.92
                        "expert+noise:0.7",     # 0.83
                        "expert+bias:0.12",     # 0.73
                        "expert+eps:0.4",       # 0.51
                        "expert+noise:1.05",    # 0.31
                        "expert+eps:0.5",       # 0.20
                        "expert+noise:1.5",     # 0.08
                        "expert+delay:14",      # 0.00 (the drawer is a cliff in delay: 13 steps give 0.92)
                        "random"),              # 0.00
            "quick": ("expert", "expert+eps:0.4", "expert+noise:1.5", "random"),
        },
    },
    rule="envs.metaworld_state:task_rule",    # the task's rule: task_rule(task)
    rule_env_args=(("task", "push-v3"),),
)

DRIVING_MULTIVIEW = SimulatorSpec(
    env_id="worldsim/DrivingMultiView-v0",
    entry_point="envs.driving:DrivingMultiViewEnv",
    max_episode_steps=150,
    cameras=("front", "front_left", "front_right", "back_left", "back", "back_right"),
    image_size=64,
    expert="policies.driving_expert:DrivingExpert",
    zoos={   # success rates measured on 20 seeds each (5000-5019 / 1000-1019)
        "default": ("expert",               # 1.00
                    "expert+noise:0.45",    # 0.95
                    "expert+eps:0.3",       # 0.85
                    "expert+stuck:0.5",     # 0.85
                    "expert+delay:4",       # 0.70
                    "expert+bias:0.3",      # 0.65
                    "expert+noise:0.6",     # 0.45
                    "expert+noise:0.8",     # 0.25
                    "expert+eps:0.65",      # 0.20
                    "expert+eps:0.8",       # 0.00
                    "random"),              # 0.00
        "quick": ("expert", "expert+delay:4", "expert+noise:0.6", "expert+eps:0.65", "random"),
    },
)

SIMULATORS: tuple[SimulatorSpec, ...] = (TABLETOP_PUSH, METAWORLD, DRIVING_MULTIVIEW)

WORLD_MODEL_ENVS: tuple[WorldModelEnvSpec, ...] = (
    # None: the env ends episodes at its model's simulator's length (one registration serves every model)
    WorldModelEnvSpec("worldsim/WorldModel-v0", "envs.world_model.env:WorldModelEnv", None,
                      vector_entry_point="envs.world_model.vector_env:WorldModelVectorEnv",
                      default_model=TABLETOP_PUSH.world_model),
    WorldModelEnvSpec("worldsim/DrivingWorldModel-v0", "envs.world_model.multiview_env:MultiViewWorldModelEnv", 150,
                      default_model="world_models/driving_reprojection"),
    WorldModelEnvSpec("worldsim/CameraWorld-v0", "envs.world_model.camera_env:CameraWorldEnv", 50,
                      default_model="world_models/camera_reprojection"),
    # the simulator with a world model's state head and judge in place of its true state and success
    WorldModelEnvSpec("worldsim/PerceivedSim-v0", "envs.world_model.perceived:PerceivedSimEnv", None,
                      vector_entry_point="envs.world_model.perceived:PerceivedSimVectorEnv",
                      default_model=TABLETOP_PUSH.world_model),
)

_SIMULATORS = {spec.env_id: spec for spec in SIMULATORS}
_WORLD_MODEL_ENVS = {spec.env_id: spec for spec in WORLD_MODEL_ENVS}


def simulator(env_id: str) -> SimulatorSpec:
    """The record of simulator ``env_id``; a ValueError naming the simulators for any other id."""
    if env_id not in _SIMULATORS:
        raise ValueError(f"unknown simulator {env_id!r}; simulators: {', '.join(_SIMULATORS)}")
    return _SIMULATORS[env_id]


def find_simulator(env_id: str) -> SimulatorSpec | None:
    """The record of simulator ``env_id``, or None for a world-model env or an unknown id."""
    return _SIMULATORS.get(env_id)


def world_model_env(env_id: str) -> WorldModelEnvSpec:
    if env_id not in _WORLD_MODEL_ENVS:
        raise ValueError(f"unknown world-model env {env_id!r}; world-model envs: {', '.join(_WORLD_MODEL_ENVS)}")
    return _WORLD_MODEL_ENVS[env_id]


def resolve(path: str):
    """The object a ``"module:attr"`` string names (the module is imported now)."""
    from worldsim.entry_points import load_entry_point

    return load_entry_point(path)
