"""DrivingMultiView: bicycle model, collision boxes, traffic, camera rig geometry, episode semantics."""

import importlib.util
from dataclasses import replace

import numpy as np
import pytest

from assets import asset_path

from envs.driving import DrivingMultiViewEnv
from envs.driving_ego import BicycleConfig, EgoState, bicycle_step, boxes_overlap
from envs.driving_layout import CAR_HALF, N_LEAD, X_MAX, X_MIN
from envs.driving_traffic import sample_traffic, step_traffic

# the nuScenes rig as the issue states it: yaw and horizontal field of view in degrees
RIG = {"front": (0, 70), "front_left": (55, 70), "front_right": (-55, 70),
       "back_left": (110, 70), "back": (180, 110), "back_right": (-110, 70)}


@pytest.fixture(scope="module")
def env():
    e = DrivingMultiViewEnv(image_size=64)
    yield e
    e.close()


def test_committed_street_is_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location("make_driving_street", asset_path("mjcf/make_driving_street.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == asset_path("mjcf/driving_street.xml").read_text()


# -- ego dynamics ---------------------------------------------------------------------------
def test_bicycle_straight_line_and_acceleration():
    cfg = BicycleConfig()
    s = bicycle_step(EgoState(0.0, 0.0, 0.0, 5.0), 0.0, 0.0, 1.0, cfg)
    assert (s.x, s.y, s.speed) == pytest.approx((5.0, 0.0, 5.0))
    s = EgoState(0.0, -1.75, 0.0, 5.0)
    for _ in range(10):
        s = bicycle_step(s, 0.0, 3.0, 0.1, cfg)
    # 5 m/s + 3 m/s^2 for 1 s: 8 m/s after 5 + 1.5 = 6.5 m (explicit Euler overshoots by < 0.05 m)
    assert s.speed == pytest.approx(8.0) and s.x == pytest.approx(6.5, abs=0.05) and s.y == -1.75


def test_bicycle_brakes_to_a_stop_without_reversing():
    s = EgoState(0.0, 0.0, 0.0, 2.0)
    for _ in range(20):
        s = bicycle_step(s, 0.0, -6.0, 0.1, BicycleConfig())
    assert s.speed == 0.0 and s.x == pytest.approx(2.0 ** 2 / (2 * 6.0), abs=0.05)


def test_bicycle_constant_steering_drives_a_circle_of_the_kinematic_radius():
    cfg, steer = BicycleConfig(), 0.3
    beta = np.arctan(0.5 * np.tan(steer))
    radius = (cfg.wheelbase / 2) / np.sin(beta)                  # centre-referenced bicycle model
    s = EgoState(0.0, 0.0, 0.0, 4.0)
    centre = np.array([-radius * np.sin(beta), radius * np.cos(beta)])   # left of the velocity
    for _ in range(40):
        s = bicycle_step(s, steer, 0.0, 0.1, cfg)
        assert np.hypot(s.x - centre[0], s.y - centre[1]) == pytest.approx(radius, rel=0.01)
    assert s.yaw != 0.0


FLAT, DIAG = (0.0, 0.0, 0.0), (0.0, 0.0, np.pi / 4)


@pytest.mark.parametrize("pose_a, pose_b, hit", [
    (FLAT, (4.5, 0.0, 0.0), False), (FLAT, (4.3, 0.0, 0.0), True),            # nose to tail: length 4.4
    (FLAT, (0.0, 1.9, 0.0), False), (FLAT, (0.0, 1.7, 0.0), True),            # side by side: width 1.8
    (FLAT, (3.2, 0.0, np.pi / 2), False), (FLAT, (3.0, 0.0, np.pi / 2), True),  # T-bone: 2.2 + 0.9 = 3.1
    # both at 45 deg, 1.9 m apart across their heading: bounding boxes overlap, the cars do not
    (DIAG, (-1.9 / np.sqrt(2), 1.9 / np.sqrt(2), np.pi / 4), False),
    (DIAG, (-1.7 / np.sqrt(2), 1.7 / np.sqrt(2), np.pi / 4), True),
])
def test_boxes_overlap(pose_a, pose_b, hit):
    assert boxes_overlap(pose_a, pose_b, CAR_HALF) is hit
    assert boxes_overlap(pose_b, pose_a, CAR_HALF) is hit


# -- traffic --------------------------------------------------------------------------------
def test_traffic_keeps_its_lanes_and_never_overlaps():
    traffic = sample_traffic(np.random.default_rng(3), ego_x=0.0)
    lead = np.arange(traffic.x.size) < N_LEAD
    for k in range(600):
        traffic = step_traffic(traffic, 0.1 * k, 0.1)
        for sel in (lead, ~lead):
            xs = np.sort(traffic.x[sel])
            assert np.all(np.diff(xs) > 2 * CAR_HALF[0]), k
        assert np.all(traffic.x[~lead] >= X_MIN) and np.all(traffic.x[~lead] < X_MAX)
    assert np.all(traffic.velocity_x[lead] >= 0) and np.all(traffic.velocity_x[~lead] <= 0)
    assert np.all(traffic.y[lead] == -1.75) and np.all(traffic.y[~lead] == 1.75)


# -- camera rig -----------------------------------------------------------------------------
def _clear_road(env, ego: EgoState):
    """Put the ego at ``ego`` and every other car far away, out of every camera's sight."""
    env.ego, env.start_x = ego, ego.x
    far = np.full_like(env.traffic.x, X_MAX - 5.0) - 10.0 * np.arange(env.traffic.x.size)
    env.traffic = replace(env.traffic, x=far, parked=np.stack([far[:1].repeat(16) - 200, np.full(16, 4.75)], 1))
    env.scene.pose(env.ego, env.traffic)


def test_rig_intrinsics_give_the_nuscenes_fields_of_view_at_any_aspect():
    e = DrivingMultiViewEnv(image_size=(32, 80))
    try:
        e.reset(seed=0)
        for cam, frame in e.capture(("rgb",)).items():
            hfov = 2 * np.degrees(np.arctan(frame.width / 2 / frame.intrinsics[0, 0]))
            assert hfov == pytest.approx(RIG[cam][1], abs=0.01), cam
            assert frame.intrinsics[0, 0] == pytest.approx(frame.intrinsics[1, 1]) and frame.rgb.shape == (32, 80, 3)
        back, front = e.capture(("rgb",))["back"], e.capture(("rgb",))["front"]
        assert back.intrinsics[0, 0] == pytest.approx(80 / (2 * np.tan(np.radians(55))), rel=1e-4)
        assert back.intrinsics[0, 0] < 0.5 * front.intrinsics[0, 0]      # tan 55 / tan 35 = 2.04
    finally:
        e.close()


def test_rig_extrinsics_follow_the_ego_pose(env):
    env.reset(seed=1)
    ego_yaw = 0.3
    _clear_road(env, EgoState(20.0, -1.5, ego_yaw, 5.0))
    for cam, frame in env.capture(("rgb",)).items():
        pose = frame.extrinsics.astype(np.float64)
        np.testing.assert_allclose(np.linalg.det(pose[:3, :3]), 1.0, atol=1e-5)
        heading = ego_yaw + np.radians(RIG[cam][0])
        np.testing.assert_allclose(pose[:3, 2], [np.cos(heading), np.sin(heading), 0.0], atol=1e-5, err_msg=cam)
        np.testing.assert_allclose(pose[:3, 1], [0.0, 0.0, -1.0], atol=1e-5, err_msg=cam)    # image down = world down
        assert np.hypot(pose[0, 3] - 20.0, pose[1, 3] + 1.5) < 2.1 and pose[2, 3] == pytest.approx(1.65)


def test_road_depth_below_a_level_camera_matches_its_height(env):
    env.reset(seed=2)
    _clear_road(env, EgoState(0.0, -1.75, 0.0, 5.0))
    front = env.capture(("rgb", "depth", "segmentation"))["front"]
    fy, cy = front.intrinsics[1, 1], front.intrinsics[1, 2]
    road = {v: k for k, v in front.labels.items()}["road"]
    rows, cols = np.nonzero(front.segmentation == road)
    below = rows > cy + 2
    assert below.sum() > 200
    # a level camera 1.65 m above a flat road: planar depth = 1.65 * fy / (pixel-centre row - cy)
    expected = 1.65 * fy / (rows[below] + 0.5 - cy)
    np.testing.assert_allclose(front.depth[rows[below], cols[below]], expected, rtol=0.02)


def _project(frame, point):
    p = np.linalg.inv(frame.extrinsics.astype(np.float64)) @ np.append(point, 1.0)
    u, v, w = frame.intrinsics.astype(np.float64) @ p[:3]
    return int(v / w), int(u / w), p[2]


def test_traffic_cars_project_to_car_pixels_at_their_depth(env):
    env.reset(seed=4)
    _clear_road(env, EgoState(10.0, -1.75, 0.0, 5.0))
    x, parked = env.traffic.x.copy(), env.traffic.parked.copy()
    x[0], x[N_LEAD] = 25.0, 4.0               # a lead car 15 m ahead; an oncoming car 6 m behind
    parked[0] = (14.0, -4.75)                 # a parked car ahead on the right
    env.traffic = replace(env.traffic, x=x, parked=parked)
    env.scene.pose(env.ego, env.traffic)
    faces = {"lead rear": ((25.0 - 2.2, -1.75, 0.65), {"front"}),
             "oncoming front": ((4.0 + 2.2, 1.75, 0.65), {"back_left"}),
             "parked side": ((14.0, -4.75 + 0.9, 0.65), {"front_right"})}
    frames = env.capture(("rgb", "depth", "segmentation"))
    for name, (point, must_see) in faces.items():
        seen = set()
        for cam, frame in frames.items():
            row, col, z = _project(frame, np.array(point))
            if z <= 0 or not (0 <= row < frame.height and 0 <= col < frame.width):
                continue
            seen.add(cam)
            assert frame.labels[int(frame.segmentation[row, col])] == "car", (name, cam)
            assert frame.depth[row, col] == pytest.approx(z, rel=0.05), (name, cam)
        assert must_see <= seen, (name, seen)


def test_segmentation_has_the_street_classes(env):
    env.reset(seed=0)
    labels = set()
    for frame in env.capture(("rgb", "segmentation")).values():
        labels |= {frame.labels[int(k)] for k in np.unique(frame.segmentation)}
    assert {"background", "road", "marking", "sidewalk", "building", "car"} <= labels


# -- episode semantics ----------------------------------------------------------------------
def test_environment_state_lists_the_nearest_cars_first(env):
    env.reset(seed=5)
    _clear_road(env, EgoState(10.0, -1.45, 0.0, 5.0))
    x = env.traffic.x.copy()
    x[1], x[N_LEAD + 1] = 30.0, 18.0
    env.traffic = replace(env.traffic, x=x)
    state = env._environment_state()
    np.testing.assert_allclose(state[0:3], [8.0, 1.75 + 1.45, -env.traffic.speed[N_LEAD + 1]], atol=1e-5)
    np.testing.assert_allclose(state[3:6], [20.0, -1.75 + 1.45, env.traffic.speed[1]], atol=1e-5)
    assert state[18] == pytest.approx(0.3) and state[19] == pytest.approx(80.0)


def test_crash_ends_the_episode_with_a_penalty(env):
    env.reset(seed=6)
    _clear_road(env, EgoState(10.0, -1.75, 0.0, 8.0))
    x = env.traffic.x.copy()
    x[0] = 15.0                                # 0.6 m gap: the ego closes it within the step
    env.traffic = replace(env.traffic, x=x, speed=np.zeros_like(x), cruise=np.zeros_like(x), swing=np.zeros_like(x))
    _, reward, terminated, truncated, info = env.step(np.array([0.0, 1.0], np.float32))
    assert terminated and not truncated and not info["is_success"] and reward < -9


def test_leaving_the_road_ends_the_episode(env):
    env.reset(seed=7)
    _clear_road(env, EgoState(10.0, -3.45, -0.3, 5.0))
    _, reward, terminated, _, info = env.step(np.array([0.0, 0.0], np.float32))
    assert terminated and not info["is_success"] and reward < -9


def test_reaching_the_goal_distance_is_success(env):
    env.reset(seed=8)
    _clear_road(env, EgoState(10.0, -1.75, 0.0, 10.0))
    env.start_x = 10.0 - 79.5                 # 0.5 m short of the goal: 1 m this step reaches it
    _, reward, terminated, _, info = env.step(np.array([0.0, 0.0], np.float32))
    assert info["is_success"] and terminated and reward == pytest.approx(10.1, abs=0.01)


def test_reset_with_a_seed_repeats_and_seeds_differ(env):
    a, _ = env.reset(seed=11)
    b, _ = env.reset(seed=11)
    c, _ = env.reset(seed=12)
    for cam in a["pixels"]:
        assert np.array_equal(a["pixels"][cam], b["pixels"][cam])
    assert np.array_equal(a["environment_state"], b["environment_state"])
    assert not np.array_equal(a["agent_pos"], c["agent_pos"])


@pytest.mark.parametrize("kwargs, message", [
    ({"cameras": ("front", "roof")}, "unknown camera 'roof'; allowed: front, front_left, front_right, back_left, back"),
    ({"image_size": 4}, "image_size=4"),
    ({"goal_distance": -1.0}, "goal_distance=-1.0"),
    ({"render_mode": "human"}, "render_mode='human'"),
])
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DrivingMultiViewEnv(**kwargs)


def test_bad_action_is_rejected(env):
    env.reset(seed=0)
    with pytest.raises(ValueError, match="out of bounds"):
        env.step(np.array([0.0, 2.0], np.float32))


def test_driving_rule_on_state_agrees_with_the_simulator(env):
    """envs.driving_rules judges a world model's predicted state; on the simulator's own states it must
    give the simulator's reward, success and crash wherever no parked car (absent from the state) is hit."""
    from envs.driving_rules import DrivingOutcome
    from policies.base import stack_obs
    from policies.driving_expert import DrivingExpert

    rule = DrivingOutcome(goal_distance=env.goal_distance)
    expert = DrivingExpert(env.action_space)
    rng = np.random.default_rng(0)
    seen = {"success": 0, "crashed": 0}
    for episode in range(12):
        obs, _ = env.reset(seed=episode, options={"render": False})
        start_x = np.array([obs["agent_pos"][0]])
        swerve = rng.uniform(-1, 1)                  # a third of the episodes are the expert's, the rest swerve
        expert.reset(1, episode)
        for _ in range(150):
            before = np.concatenate([obs["agent_pos"], obs["environment_state"]])[None]
            action = expert.act(stack_obs([obs]))[0] if episode % 3 == 0 else np.float32([swerve * rng.uniform(0, 1), 1])
            obs, reward, terminated, _, info = env.step(action)
            after = np.concatenate([obs["agent_pos"], obs["environment_state"]])[None]
            r, success, crashed = rule(before, after, start_x)
            hit_parked = terminated and not info["is_success"] and not crashed[0]
            if not hit_parked:
                assert success[0] == info["is_success"]
                assert r[0] == pytest.approx(reward, abs=1e-4)
                assert crashed[0] == (terminated and not info["is_success"])
            seen["success"] += int(info["is_success"])
            seen["crashed"] += int(bool(crashed[0]))
            if terminated:
                break
    assert seen["success"] > 0 and seen["crashed"] > 0   # both outcomes were exercised
