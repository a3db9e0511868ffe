"""Meta-World's physical state as one flat vector, and each task's success rule applied to state.

    state = sim_state(env.unwrapped._mw, task)           # float32 (44,), named by SIM_STATE
    outcome = task_rule("push-v3")                        # the rule the world model applies
    reward, success = outcome(agent_pos, environment_state)   # (N, 4), (N, 17) -> (N,), (N,) bool
    agent_pos, environment_state = observation_from_state(states)   # (N, 44) -> (N, 4), (N, 17)

What moves what (metaworld 3.x, ``sawyer_xyz_env.py``): an action's (dx, dy, dz) moves the *mocap*
body by ``action * 0.01`` m (clipped to the task's mocap box); a weld constraint then pulls the hand
(the last link of the 7-joint arm) towards the mocap, so the hand lags it by up to a few centimetres
and the mocap position is hidden state the observation does not show. The gripper entry drives the
two finger joints' position actuators (``ctrl = (g, -g)``). The object (puck: a free joint;
drawer: one slide joint) moves only through contact. One step is 5 physics steps of 2.5 ms.

``SIM_STATE`` holds all of that, the same 44 entries for every task:

* ``hand_{x,y,z}`` (m): Meta-World's hand (end-effector) position, ``obs[0:3]``;
  ``hand_v{x,y,z}`` (m/s): its linear velocity (world frame);
* ``mocap_{x,y,z}`` (m): the mocap target the actions move (the hidden state the hand lags);
* ``gripper``: the fingers' opening in [0, 1], ``obs[3]``; ``finger_{r,l}`` (m) and
  ``finger_v{r,l}`` (m/s): the two finger joints' positions and velocities;
* ``obj_{x,y,z}`` (m) and ``obj_q{0..3}``: Meta-World's object block, ``obs[4:11]`` (push, reach:
  the puck's centre of mass and quaternion xyzw; drawer-open: the handle's position and the drawer's
  quaternion wxyz; button-press: the button's);
* ``obj_v{x,y,z}`` (m/s), ``obj_w{x,y,z}`` (rad/s): the object body's linear and angular velocity,
  world frame (drawer: the drawer body, whose y velocity is the slide joint's);
* ``goal_{x,y,z}`` (m): the goal, ``obs[36:39]`` (constant through an episode);
* ``arm_q{0..6}`` (rad) and ``arm_qd{0..6}`` (rad/s): the arm's joint angles and velocities (the
  hand's position leaves the 7-joint arm's null space open; with them the state is MuJoCo's whole
  ``qpos``/``qvel`` up to the object's layout, so restoring it reproduces the next step).

The rules (``task_rule``) are Meta-World v3's success tests, exactly (``evaluate_state``): push
``|obj - goal| <= 0.05``, drawer-open ``|handle - goal| <= 0.03``, button-press
``|button_y - goal_y| <= 0.02`` (reach-v3 has no rule: its test reads the point between the finger
pads). The reward is NOT Meta-World's dense reward (that reads the
object's initial position, the fingers' pads and the action, which the state does not carry): it is
a simple progress reward in [0, 1], ``0.2 (1 - tanh(10 |hand - obj|)) + 0.8 (1 - tanh(10 |obj - goal|))``
(button: the y distance), and 1 on success, as TabletopPush's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SIM_STATE = (
    "hand_x", "hand_y", "hand_z", "hand_vx", "hand_vy", "hand_vz", "mocap_x", "mocap_y", "mocap_z",
    "gripper", "finger_r", "finger_l", "finger_vr", "finger_vl",
    "obj_x", "obj_y", "obj_z", "obj_q0", "obj_q1", "obj_q2", "obj_q3",
    "obj_vx", "obj_vy", "obj_vz", "obj_wx", "obj_wy", "obj_wz", "goal_x", "goal_y", "goal_z",
    *(f"arm_q{i}" for i in range(7)), *(f"arm_qd{i}" for i in range(7)),
)
HAND, HAND_VEL, MOCAP, GRIPPER = slice(0, 3), slice(3, 6), slice(6, 9), 9
FINGERS, FINGER_VEL = slice(10, 12), slice(12, 14)
OBJ, OBJ_QUAT, OBJ_VEL, OBJ_ANGVEL, GOAL = slice(14, 17), slice(17, 21), slice(21, 24), slice(24, 27), slice(27, 30)
ARM_Q, ARM_QD = slice(30, 37), slice(37, 44)
STATE_DIM = len(SIM_STATE)

# the body whose velocity is the object's, per task
OBJECT_BODY = {"push-v3": "obj", "reach-v3": "obj", "drawer-open-v3": "drawer_link", "button-press-v3": "button"}
# reach-v3 has none: its success reads the point between the finger pads, which the state does not hold
SUCCESS_RADIUS = {"push-v3": 0.05, "drawer-open-v3": 0.03, "button-press-v3": 0.02}

Outcome = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def body_velocity(model, data, body: str) -> np.ndarray:
    """(6,) linear then angular velocity of ``body``'s frame, world orientation."""
    import mujoco

    res = np.zeros(6)
    mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, model.body(body).id, res, 0)
    return np.concatenate([res[3:], res[:3]])


def sim_state(mw, task: str) -> np.ndarray:
    """The state of Meta-World env ``mw`` (after a reset or step), float32 (44,) named by ``SIM_STATE``."""
    model, data = mw.model, mw.data
    frame = mw._get_curr_obs_combined_no_goal()            # hand, gripper, object block (18,)
    return np.concatenate([
        frame[0:3], body_velocity(model, data, "hand")[:3], data.mocap_pos[0], frame[3:4],
        data.qpos[7:9], data.qvel[7:9], frame[4:11], body_velocity(model, data, OBJECT_BODY[task]),
        mw._get_pos_goal(), data.qpos[0:7], data.qvel[0:7],
    ]).astype(np.float32)


def observation_from_state(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``agent_pos`` (N, 4) and ``environment_state`` (N, 17) of states (N, 44): what the env's
    observation holds (the second object's block, unused by these tasks, is zeros)."""
    s = np.asarray(states, np.float32).reshape(-1, STATE_DIM)
    agent = np.concatenate([s[:, HAND], s[:, GRIPPER:GRIPPER + 1]], axis=1)
    env = np.concatenate([s[:, OBJ], s[:, OBJ_QUAT], np.zeros((len(s), 7), np.float32), s[:, GOAL]], axis=1)
    return agent, env


def task_rule(task: str = "push-v3") -> Outcome:
    """The state rule of Meta-World ``task``: ``(agent_pos (N, 4), environment_state (N, 17)) ->
    (reward (N,) float64, success (N,) bool)``; success is Meta-World v3's own test."""
    if task not in SUCCESS_RADIUS:
        raise ValueError(f"no state rule for Meta-World task {task!r}; rules exist for: {', '.join(SUCCESS_RADIUS)}")
    radius = SUCCESS_RADIUS[task]
    y_only = task == "button-press-v3"

    def outcome(agent_pos, environment_state) -> tuple[np.ndarray, np.ndarray]:
        agent = np.asarray(agent_pos, np.float64).reshape(-1, 4)
        env = np.asarray(environment_state, np.float64).reshape(-1, 17)
        obj, goal = env[:, 0:3], env[:, 14:17]
        d_goal = np.abs(obj[:, 1] - goal[:, 1]) if y_only else np.linalg.norm(obj - goal, axis=1)
        success = d_goal <= radius
        d_hand = np.linalg.norm(agent[:, :3] - obj, axis=1)
        dense = 0.2 * (1 - np.tanh(10 * d_hand)) + 0.8 * (1 - np.tanh(10 * d_goal))
        return np.where(success, 1.0, dense), success

    outcome.__name__ = outcome.__qualname__ = f"task_rule({task!r})"
    return outcome


def restore_state(mw, task: str, state: np.ndarray) -> None:
    """Write ``state`` (44,) back into Meta-World env ``mw`` in the same episode (the layout, e.g.
    where the drawer stands, is the episode's): used to check the state is Markov."""
    import mujoco

    model, data = mw.model, mw.data
    s = np.asarray(state, np.float64)
    data.qpos[0:7], data.qvel[0:7] = s[ARM_Q], s[ARM_QD]
    data.qpos[7:9], data.qvel[7:9] = s[FINGERS], s[FINGER_VEL]
    data.mocap_pos[0] = s[MOCAP]
    data.mocap_quat[0] = (1, 0, 1, 0)
    body = model.body(OBJECT_BODY[task])
    jnt = body.jntadr[0]
    q, v = model.jnt_qposadr[jnt], model.jnt_dofadr[jnt]
    if model.jnt_type[jnt] == mujoco.mjtJoint.mjJNT_FREE:    # the puck: com == body origin, quat xyzw
        data.qpos[q:q + 3] = s[OBJ]
        data.qpos[q + 3:q + 7] = s[OBJ_QUAT][[3, 0, 1, 2]]
        rot = np.zeros(9)
        mujoco.mju_quat2Mat(rot, data.qpos[q + 3:q + 7])
        data.qvel[v:v + 3] = s[OBJ_VEL]
        data.qvel[v + 3:v + 6] = rot.reshape(3, 3).T @ s[OBJ_ANGVEL]
    else:                                                     # a slide joint (drawer, button)
        mujoco.mj_forward(model, data)
        axis = model.jnt_axis[jnt]
        now = mw._get_pos_objects()[:3]
        data.qpos[q] += float(axis @ (s[OBJ] - now))
        data.qvel[v] = float(axis @ s[OBJ_VEL])
    mujoco.mj_forward(model, data)
