"""Play data for worldsim/MetaWorld-v0: reaches, pushes, grasps, drags and releases, for any task.

A world model learns the physics it is shown; the expert only ever solves the task one way. This
policy strings random plans together, each a few stages aimed at the object (``environment_state``
[:3]: the puck, the drawer handle, the button) or at a random point of the workspace:

* wander: to a random point, gripper held open or closed;
* push: above a random side of the object, down to its height, then through it along a random
  horizontal direction (for the drawer, through the handle: pulls and pushes);
* grasp: open above the object, down, close, carry it to a random point (lifting or not), and
  sometimes let go on the way;
* pause: hold still a few steps (the hand settles on its mocap target);
* burst: one random full-range move held a few steps (the hand runs into its limits).

Every plan draws its own gain, speed and action noise, and the gripper flips now and then at
random, so the actions cover the whole box. It reads only ``agent_pos`` and
``environment_state``, is batched, and is seeded by ``reset``.

    play = MetaWorldPlay(env.action_space)
    play.reset(num_envs=4, seed=0)
    actions = play.act(obs_batch)   # float32 (N, 4)
"""

from __future__ import annotations

import numpy as np

from policies.base import batch_size, clip_to_space

WORKSPACE_LOW = np.array([-0.3, 0.4, 0.05])
WORKSPACE_HIGH = np.array([0.3, 0.9, 0.3])
PLANS = ("wander", "push", "grasp", "pause", "burst")
PLAN_P = (0.2, 0.3, 0.3, 0.1, 0.1)
REACHED = 0.015        # metres: a stage's waypoint counts as reached
STAGE_LIMIT = 40       # steps before a stage gives up
FLIP_P = 0.03          # chance per step of a random gripper flip


class _Plan:
    """One env's current plan: waypoints (xyz or None: hold still), gripper per stage, steps per stage."""

    def __init__(self, stages: list[tuple], gain: float, speed: float, noise: float, hold=(0.0, 0.0, 0.0)):
        self.stages, self.gain, self.speed, self.noise = stages, gain, speed, noise
        self.hold = np.asarray(hold, np.float64)   # the move of a stage without waypoint
        self.index, self.steps = 0, 0

    @property
    def done(self) -> bool:
        return self.index >= len(self.stages)


class MetaWorldPlay:
    reads_pixels = False

    def __init__(self, action_space):
        self.action_space = action_space
        self.reset(1, 0)

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.plans: list[_Plan | None] = [None] * num_envs
        self.flip = np.ones(num_envs)

    def act(self, obs: dict) -> np.ndarray:
        n = batch_size(obs)
        if len(self.plans) != n:
            self.reset(n, int(self.rng.integers(2**31)))
        hand = np.asarray(obs["agent_pos"], np.float64)[:, :3]
        obj = np.asarray(obs["environment_state"], np.float64)[:, :3]
        return clip_to_space(np.stack([self._act(i, hand[i], obj[i]) for i in range(n)]), self.action_space)

    # -- one env ------------------------------------------------------------------------------
    def _act(self, i: int, hand: np.ndarray, obj: np.ndarray) -> np.ndarray:
        plan = self.plans[i]
        if plan is None or plan.done:
            plan = self.plans[i] = self._new_plan(i)
        target, grip, limit = plan.stages[plan.index]
        if callable(target):
            target = target(hand, obj)
        plan.steps += 1
        if target is None:
            move = plan.hold
            reached = False
        else:
            move = np.clip(plan.gain * (target - hand), -1.0, 1.0) * plan.speed
            reached = np.linalg.norm(target - hand) < REACHED
        if reached or plan.steps >= limit:
            plan.index, plan.steps = plan.index + 1, 0
        if self.rng.random() < FLIP_P:
            self.flip[i] = -self.flip[i]
        return np.append(move + self.rng.normal(0.0, plan.noise, 3), grip * self.flip[i])

    def _new_plan(self, i: int) -> _Plan:
        rng = self.rng
        kind = PLANS[rng.choice(len(PLANS), p=PLAN_P)]
        gain, speed, noise = rng.uniform(5, 30), rng.uniform(0.3, 1.0), rng.choice([0.0, 0.1, 0.3])
        if rng.random() < 0.5:
            self.flip[i] = 1.0                      # sometimes undo earlier flips
        grip = float(rng.choice([-1.0, 1.0, rng.uniform(-1, 1)]))
        if kind == "wander":
            stages = [(rng.uniform(WORKSPACE_LOW, WORKSPACE_HIGH), grip, STAGE_LIMIT)]
        elif kind == "pause":
            stages = [(None, grip, int(rng.integers(3, 15)))]
        elif kind == "burst":
            return _Plan([(None, grip, int(rng.integers(3, 15)))], gain, speed, noise, rng.uniform(-1, 1, 3))
        elif kind == "push":
            angle = rng.uniform(-np.pi, np.pi)
            d = np.array([np.cos(angle), np.sin(angle), 0.0])
            back, depth = rng.uniform(0.04, 0.09), rng.uniform(-0.01, 0.02)
            hover = np.array([0.0, 0.0, rng.uniform(0.06, 0.15)])
            stages = [(lambda h, o, d=d, b=back, v=hover: o - b * d + v, grip, STAGE_LIMIT),
                      (lambda h, o, d=d, b=back, z=depth: o - b * d + [0, 0, z], grip, STAGE_LIMIT),
                      (lambda h, o, d=d, z=depth: h + 0.05 * d + [0, 0, o[2] + z - h[2]], grip,
                       int(rng.integers(5, 30)))]
        else:  # grasp
            hover = np.array([0.0, 0.0, rng.uniform(0.06, 0.15)])
            depth = rng.uniform(-0.01, 0.02)
            carry = rng.uniform(WORKSPACE_LOW, WORKSPACE_HIGH)
            if rng.random() < 0.5:
                carry[2] = rng.uniform(0.03, 0.1)          # drag along the table
            close = rng.uniform(0.3, 1.0)
            stages = [(lambda h, o, v=hover: o + v, -1.0, STAGE_LIMIT),
                      (lambda h, o, z=depth: o + [0, 0, z], -1.0, STAGE_LIMIT),
                      (None, close, int(rng.integers(4, 12))),
                      (carry, close, int(rng.integers(5, STAGE_LIMIT)))]
            if rng.random() < 0.5:
                stages.append((None, -1.0, int(rng.integers(2, 8))))   # let go
        return _Plan(stages, gain, speed, noise)
