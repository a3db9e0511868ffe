"""Camera post-training: motion algebra, the rendered dataset's geometry, the model at step 0,
ray wiring and invariance, the `worldsim posttrain camera` recipe end to end, and bad input."""

from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import TINY_DIT, randomized
from posttrain.camera.checkpoint import load_camera_run
from posttrain.camera.config import CameraTaskConfig
from worldsim.generation.camera_data import CameraDataConfig, build_dataset
from posttrain.camera.model import CameraDiT, CameraDiTConfig, clip_rays
from posttrain.camera.motion import (CameraMotionConfig, action_between, apply_action, look_at, matrix_to_rotvec,
                                     pose_angles, rotvec_to_matrix, sample_orbit)
from posttrain.camera.task import CameraTask
from worldsim.data.lerobot_reader import LeRobotDatasetReader
from worldsim.diffusion.dit import DiT, DiTConfig
from posttrain.common.base import load_base_weights
from worldsim.io import load_model_weights, read_meta

MOTION = CameraMotionConfig()


@pytest.fixture(scope="module")
def camera_data(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("camera") / "data"
    return str(build_dataset(CameraDataConfig(out=str(out), episodes=4, steps=5, image_size=16)))


def test_look_at_and_angles_by_hand():
    pose = look_at(np.array([0.0, -1.0, 0.0]), np.zeros(3))   # looking along +y, level
    assert np.allclose(pose[:3, :3], [[1, 0, 0], [0, 0, 1], [0, -1, 0]])   # columns: x right, y down, z forward
    assert np.allclose(pose_angles(pose), [np.pi / 2, 0.0, 0.0])
    down = look_at(np.array([1.0, 0.0, 1.0]), np.zeros(3))  # 45 degrees down, looking along -x
    assert np.allclose(pose_angles(down), [np.pi, -np.pi / 4, 0.0])


@pytest.mark.parametrize("rotvec", [[0.0, 0.0, 0.0], [0.1, -0.2, 0.05], [0.0, np.pi - 1e-9, 0.0], [2.0, 1.0, -1.5]])
def test_rotation_vectors_round_trip(rotvec):
    r = rotvec_to_matrix(np.array(rotvec))
    assert np.allclose(r.T @ r, np.eye(3)) and np.isclose(np.linalg.det(r), 1.0)
    assert np.allclose(rotvec_to_matrix(matrix_to_rotvec(r)), r, atol=1e-7)


def test_actions_compose_back_to_the_orbit():
    poses = sample_orbit(np.random.default_rng(3), 10, CameraDataConfig().orbit)
    for a, b in zip(poses[:-1], poses[1:]):
        act = action_between(a, b, MOTION)
        assert np.abs(act).max() <= 1.0
        assert np.allclose(apply_action(a, act, MOTION), b, atol=1e-9)
    # a pure forward action moves the camera along its own viewing axis
    moved = apply_action(poses[0], np.array([0, 0, 1.0, 0, 0, 0]), MOTION)
    assert np.allclose(moved[:3, 3] - poses[0][:3, 3], MOTION.max_translation * poses[0][:3, 2])


def test_dataset_holds_the_poses_the_camera_was_placed_at(camera_data):
    reader = LeRobotDatasetReader(camera_data)
    assert reader.num_episodes == 4 and list(reader.episode_lengths) == [6] * 4
    ep = reader.read_episode(1)
    poses = ep["observation.camera.camera.extrinsics"].astype(np.float64)   # read back from MuJoCo's cam_xpos/xmat
    expect = sample_orbit(np.random.default_rng([0, 1]), 5, CameraDataConfig().orbit)
    assert np.allclose(poses, expect, atol=1e-5)
    for t in range(5):
        assert np.allclose(apply_action(poses[t], ep["action"][t], MOTION), poses[t + 1], atol=1e-4)
    k = ep["observation.camera.camera.intrinsics"][0]
    assert np.isclose(k[1, 1], 8 / np.tan(np.radians(30)), rtol=1e-5)   # fy = H / (2 tan(fovy / 2)), fovy 60
    frames = ep["observation.images.camera"]
    assert frames.shape == (6, 16, 16, 3) and np.abs(frames[0].astype(int) - frames[-1]).mean() > 2  # the view moves
    assert np.allclose(ep["observation.state"][:, :3], poses[:, :3, 3], atol=1e-5)


def clip_inputs(b=2, t=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(b, 16, t, 2, 2, generator=gen)
    cond = torch.zeros(b, t, dtype=torch.bool)
    cond[:, 0] = True
    poses = torch.as_tensor(np.stack([sample_orbit(np.random.default_rng(i), t - 1, CameraDataConfig().orbit)
                                      for i in range(b)]))
    k = torch.tensor([[14.0, 0, 8], [0, 14.0, 8], [0, 0, 1]], dtype=torch.float64).expand(b, t, 3, 3)
    return x, torch.full((b,), 0.3), cond, poses, k


def test_camera_model_at_step_zero_is_the_base_model(base_run):
    base = DiT(DiTConfig(**TINY_DIT))
    load_model_weights(base, base_run)
    net = CameraDiT(CameraDiTConfig(dit=DiTConfig(**TINY_DIT), spatial_compression=8))
    load_base_weights(net, base_run)
    x, c, cond, poses, k = clip_inputs()
    rays = clip_rays(k, poses, 16, 16, 0.25)
    with torch.no_grad():
        assert torch.equal(net(x, c, rays, cond), base(x, c, cond_mask=cond))


def test_rays_reach_the_model_and_only_relative_poses_matter(base_run):
    net = CameraDiT(CameraDiTConfig(dit=DiTConfig(**TINY_DIT), spatial_compression=8))
    load_base_weights(net, base_run)
    randomized(net.camera_embedder, seed=2)
    x, c, cond, poses, k = clip_inputs()
    world = torch.eye(4, dtype=torch.float64)
    world[:3, :3] = torch.as_tensor(look_at(np.array([1.0, 2.0, 3.0]), np.zeros(3))[:3, :3])
    world[:3, 3] = torch.tensor([0.3, -2.0, 1.0])
    with torch.no_grad():
        out = net(x, c, clip_rays(k, poses, 16, 16, 0.25), cond)
        moved = net(x, c, clip_rays(k, world @ poses, 16, 16, 0.25), cond)
        assert torch.allclose(out, moved, atol=1e-5)
        other = poses.clone()
        other[:, 2] = poses[:, 1]
        assert not torch.allclose(net(x, c, clip_rays(k, other, 16, 16, 0.25), cond), out, atol=1e-4)
        with pytest.raises(ValueError, match="tokens"):
            net(x, c, clip_rays(k, poses, 32, 32, 0.25), cond)


def test_posttrain_camera_from_scratch_trains_evaluates_and_reloads(camera_data, tmp_path):
    from worldsim.training.stages import posttrain_stage

    overrides = ["steps=2", "batch_size=2", "model.hidden_size=32", "model.num_layers=2", "model.num_heads=2",
                 "model.adaln_lora_dim=8", "held_out=0.25", "eval_horizon=3", "sampling.steps=2", "progress=false",
                 "warmup_steps=1"]
    ckpt = posttrain_stage("camera", "", camera_data, str(tmp_path / "run"), overrides=overrides)
    meta = read_meta(ckpt)
    assert meta["architecture"] == "camera_dit"
    assert {"eval/rollout_psnr", "eval/copy_first_psnr"} <= set(meta["metrics"])
    model, codec, cfg = load_camera_run(str(tmp_path / "run"))
    assert cfg.tokenizer == "pixels:4" and cfg.image_size == 16 and cfg.model.in_channels == 48
    assert np.allclose(np.reshape(cfg.intrinsics, (3, 3))[1, 1], 8 / np.tan(np.radians(30)), rtol=1e-5)


def test_with_a_base_the_task_takes_its_dit_and_tokenizer(camera_data, base_run, artifacts):
    task = CameraTask(CameraTaskConfig(data=camera_data, base=base_run))
    assert task.cfg.tokenizer == artifacts["tokenizer"] and task.cfg.model.hidden_size == TINY_DIT["hidden_size"]
    net = task.build_model()
    base = DiT(DiTConfig(**TINY_DIT))
    load_model_weights(base, base_run)
    assert all(torch.equal(a, b) for a, b in zip(net.dit.state_dict().values(), base.state_dict().values())
               if isinstance(a, torch.Tensor))
    loss, _ = task.loss(net, next(iter(task.make_loader(2, 0, 1, 0))))
    assert torch.isfinite(loss)


def test_bad_inputs_are_refused(camera_data, artifacts, base_run):
    with pytest.raises(ValueError, match="not a camera dataset"):
        CameraTask(CameraTaskConfig(data=artifacts["data"]))
    with pytest.raises(ValueError, match="clip_frames"):
        CameraTask(CameraTaskConfig(data=camera_data, clip_frames=1))
    with pytest.raises(ValueError, match="expected 'camera_dit'"):
        load_camera_run(base_run)
    with pytest.raises(ValueError, match="does not exist"):
        load_camera_run(str(Path(base_run) / "nowhere"))
    with pytest.raises(ValueError, match="tokenizer=pixels:8 differs"):
        CameraTask(CameraTaskConfig(data=camera_data, base=base_run, tokenizer="pixels:8"))



def test_a_residual_model_adds_its_sample_to_the_last_view():
    """Same network, same noise: the residual model's new latent is the plain model's plus the context."""
    from posttrain.camera.motion import OrbitConfig
    from posttrain.camera.config import SamplingConfig
    from posttrain.camera.world_model import CameraWorldModel
    from posttrain.common.codec import load_codec

    torch.manual_seed(0)
    dit = DiTConfig(in_channels=48, hidden_size=32, num_layers=2, num_heads=2, adaln_lora_dim=8, spec="cpu")
    net = randomized(CameraDiT(CameraDiTConfig(dit=dit, spatial_compression=4)), seed=4)
    k = np.array([[14.0, 0, 8], [0, 14.0, 8], [0, 0, 1]])
    frames = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    poses = np.stack([sample_orbit(np.random.default_rng(i), 1, OrbitConfig())[0] for i in range(2)])
    action = np.full((2, 6), 0.5)
    latents = {}
    for residual in (True, False):
        wm = CameraWorldModel(net, load_codec("pixels:4"), k, 16, 16, MOTION, sampling=SamplingConfig(steps=2),
                              residual=residual)
        start = wm.start({"camera": frames[:, None]}, poses, seeds=[5, 6])
        state, out, extras = wm.step(start, action)
        out = out["camera"]
        latents[residual] = state.latents[:, :, -1]
        assert extras["reward"].tolist() == [0.0, 0.0] and extras["success"].tolist() == [False, False]
        assert out.shape == (2, 16, 16, 3) and out.dtype == np.uint8
        assert np.allclose(state.poses[:, -1], [apply_action(p, a, MOTION) for p, a in zip(poses, action)])
    assert torch.allclose(latents[True] - latents[False], start.latents[:, :, -1], atol=1e-5)


def test_following_measures_on_known_answers():
    """The measures the benchmark reports: the true view has motion scale 1, the first view 0; the
    essential-matrix estimate recovers a motion from exact projections of 3D points."""
    from envs.camera_scene import CameraScene
    from posttrain.camera.following import commanded_motion, motion_scale, relative_motion, rotation_error_deg
    from posttrain.camera.following import direction_error_deg, scaled_pose

    poses = sample_orbit(np.random.default_rng(5), 4, CameraDataConfig().orbit)
    assert np.allclose(scaled_pose(poses[0], poses[4], 0.0), poses[0]) and np.allclose(
        scaled_pose(poses[0], poses[4], 1.0), poses[4])
    scene = CameraScene(16, 60.0)
    scene.reset(2)
    assert motion_scale(scene.render(poses[4]), scene.render, poses[0], poses[4]) == 1.0
    assert motion_scale(scene.render(poses[0]), scene.render, poses[0], poses[4]) == 0.0
    scene.close()
    r, t = commanded_motion(poses[0], poses[4])
    k = np.array([[30.0, 0, 16], [0, 30.0, 16], [0, 0, 1]])
    x0 = np.random.default_rng(0).uniform([-0.3, -0.3, 0.5], [0.3, 0.3, 1.0], (200, 3))   # camera-0 frame
    x1 = x0 @ r.T + t
    project = lambda x: ((x @ k.T)[:, :2] / x[:, 2:]).astype(np.float32)  # noqa: E731
    est = relative_motion(project(x0), project(x1), k)
    assert rotation_error_deg(est[0], r) < 0.1 and direction_error_deg(est[1], t) < 0.5
