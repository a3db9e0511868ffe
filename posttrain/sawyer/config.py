"""Typed configs of the Sawyer (Meta-World) state dynamics and its training run.

The state is Meta-World's ``observation.sim_state`` as ``worldsim generate ... sim_state=true``
records it (``envs.metaworld_state.SIM_STATE``, mirrored in ``STATE_NAMES`` here because posttrain
reads datasets only; the loader checks a dataset's names against it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

STATE_NAMES = (
    "hand_x", "hand_y", "hand_z", "hand_vx", "hand_vy", "hand_vz", "mocap_x", "mocap_y", "mocap_z",
    "gripper", "finger_r", "finger_l", "finger_vr", "finger_vl",
    "obj_x", "obj_y", "obj_z", "obj_q0", "obj_q1", "obj_q2", "obj_q3",
    "obj_vx", "obj_vy", "obj_vz", "obj_wx", "obj_wy", "obj_wz", "goal_x", "goal_y", "goal_z",
    *(f"arm_q{i}" for i in range(7)), *(f"arm_qd{i}" for i in range(7)),
)
STATE_DIM = len(STATE_NAMES)
HAND, HAND_VEL, MOCAP, GRIPPER = slice(0, 3), slice(3, 6), slice(6, 9), 9
FINGERS, OBJ, OBJ_QUAT, GOAL = slice(10, 12), slice(14, 17), slice(17, 21), slice(27, 30)
ARM_Q = slice(30, 37)

# error unit per state variable in the training loss: hand/mocap/object/goal positions 1 cm (the
# object 5 mm: it is what success reads), velocities 0.1 m/s, 1 rad/s turning, the gripper's opening
# 0.05, fingers 5 mm, quaternion 0.05, arm joints 0.05 rad and 0.5 rad/s
LOSS_SCALE = ((0.01,) * 3 + (0.1,) * 3 + (0.01,) * 3 + (0.05,) + (0.005,) * 2 + (0.1,) * 2 + (0.005,) * 3
              + (0.05,) * 4 + (0.1,) * 3 + (1.0,) * 3 + (0.01,) * 3 + (0.05,) * 7 + (0.5,) * 7)


@dataclass
class SawyerDynamicsConfig:
    context: int = 3          # states of history the network sees (the state is Markov; context helps it)
    action_dim: int = 4
    width: int = 384
    layers: int = 3
    mocap_exact: bool = True  # the mocap moves by action * action_scale, clipped to its box (no learning)
    action_scale: float = 0.01
    mocap_low: list[float] = field(default_factory=lambda: [-0.5, 0.4, 0.05])    # Meta-World v3 push/drawer
    mocap_high: list[float] = field(default_factory=lambda: [0.5, 1.0, 0.5])
    pad_features: bool = False   # the finger pads' offsets from the object as inputs (what lands on what)
    pad_reach: float = 0.047     # (m) each pad's y offset from the hand with its finger joint at 0


@dataclass
class SawyerTrainConfig:
    data: str = ""                      # one dataset folder or several, comma-separated
    out: str = ""
    net: SawyerDynamicsConfig = field(default_factory=SawyerDynamicsConfig)
    steps: int = 6000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    rollout_start: float = 0.15         # fraction of steps on one-step targets before rollouts
    rollout_k: int = 8                  # steps unrolled on the network's own predictions
    state_noise: float = 0.1            # context noise, in loss units
    loss_scale: list[float] = field(default_factory=lambda: list(LOSS_SCALE))
    holdout_episodes: int = 32          # the last episodes, kept out of training (the benchmark's open loop)
    contact_fraction: float = 0.0       # share of each batch whose context ends where the hand is held back
    contact_lead: float = 0.02          # (m) "held back": the mocap target this far from the hand (it pushes on
    contact_speed: float = 0.05         # something) while the hand moves slower than this (m/s)
    held_weight: float = 1.0            # the hand's loss units this much finer at held-back target states
    held_speed: float | None = None     # (m/s) the speed bound of "held back" for held_weight (None: contact_speed)
    held_axes: list[int] = field(default_factory=lambda: [0, 1, 2])   # the hand's axes (x, y, z) held_weight refines
    held_away: float = 0.0              # (m) > 0: held_weight only where the hand is farther than this from the object
    ckpt_every: int = 500
    seed: int = 0
    threads: int = 1

    def validate(self) -> None:
        if not self.data or not self.out:
            raise ValueError("data=DATASET and out=RUN_FOLDER are required")
        if len(self.loss_scale) != STATE_DIM or min(self.loss_scale) <= 0:
            raise ValueError(f"loss_scale has {len(self.loss_scale)} values; need {STATE_DIM} positive error units")
        if self.held_weight < 1.0:
            raise ValueError(f"held_weight={self.held_weight}: a factor >= 1 (1 leaves the loss as it is)")
        if self.held_away < 0:
            raise ValueError(f"held_away={self.held_away}: a distance >= 0 m (0: everywhere)")
        if self.held_speed is not None and self.held_speed <= 0:
            raise ValueError(f"held_speed={self.held_speed}: a speed > 0 m/s, or None for contact_speed")
        if not self.held_axes or not set(self.held_axes) <= {0, 1, 2}:
            raise ValueError(f"held_axes={self.held_axes}: some of the hand's axes 0 (x), 1 (y), 2 (z)")
        if not 0.0 <= self.contact_fraction < 1.0:
            raise ValueError(f"contact_fraction={self.contact_fraction}: a share in [0, 1)")
        if self.rollout_k < 1 or self.net.context < 1:
            raise ValueError(f"rollout_k={self.rollout_k}, net.context={self.net.context}; both must be >= 1")
        if len(self.net.mocap_low) != 3 or len(self.net.mocap_high) != 3:
            raise ValueError("net.mocap_low and net.mocap_high are (x, y, z)")


@dataclass
class SawyerPainterConfig:
    """The frame painter (``painter.py``): a pixel_unet U-Net given the first frame, layout maps and
    the state as its conditioning vector."""

    patch: int = 4
    channels: list[int] = field(default_factory=lambda: [48, 96, 128])
    blocks: int = 1
    cond_dim: int = 128
    groups: int = 8
    blob_sigma: float = 1.5             # pixels: the spread of each layout map's blob
    height: int = 64
    width: int = 64


@dataclass
class SawyerPainterTrainConfig:
    data: str = ""                      # a rendered dataset with observation.sim_state and camera parameters
    out: str = ""
    camera: str = "corner4"
    net: SawyerPainterConfig = field(default_factory=SawyerPainterConfig)
    steps: int = 3000
    batch_size: int = 32
    lr: float = 1e-3
    warmup_steps: int = 100
    weight_decay: float = 0.0
    changed_weight: float = 5.0         # extra loss weight where the frame differs from the first frame
    holdout_episodes: int = 8
    ckpt_every: int = 250
    seed: int = 0
    threads: int = 1

    def validate(self) -> None:
        if not self.data or not self.out:
            raise ValueError("data=DATASET and out=RUN_FOLDER are required")
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError(f"steps={self.steps}, batch_size={self.batch_size}; both must be >= 1")
        if self.net.height % self.net.patch or self.net.width % self.net.patch:
            raise ValueError(f"image {self.net.height}x{self.net.width} is not divisible by net.patch={self.net.patch}")


@dataclass
class SawyerReaderConfig:
    """The state reader (``reader.py``): a keypoint heat-map network on one camera."""

    channels: int = 32
    height: int = 64
    width: int = 64
    full_res: bool = False              # heat maps at the image's resolution (False: half of it, 2 x 2 pixel cells)


@dataclass
class SawyerReaderTrainConfig:
    data: str = ""                      # rendered datasets with observation.sim_state and camera parameters, comma-separated
    out: str = ""
    camera: str = "corner4"
    net: SawyerReaderConfig = field(default_factory=SawyerReaderConfig)
    steps: int = 2000
    batch_size: int = 32
    lr: float = 2e-3
    warmup_steps: int = 100
    weight_decay: float = 1e-4
    frame_noise: float = 0.03           # Gaussian noise on the frames in [-1, 1] (robustness, not the renderer's exact pixels)
    holdout_episodes: int = 8           # the last episodes of the first dataset
    ckpt_every: int = 250
    seed: int = 0
    threads: int = 1

    def validate(self) -> None:
        if not self.data or not self.out:
            raise ValueError("data=DATASET[,DATASET...] and out=RUN_FOLDER are required")
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError(f"steps={self.steps}, batch_size={self.batch_size}; both must be >= 1")
