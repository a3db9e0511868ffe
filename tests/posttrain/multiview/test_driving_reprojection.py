"""The driving reprojection model: cameras ride on the car as the simulator's do, the traffic and
ego steps, training on a tiny rig dataset with depth, export, and DrivingWorldModel-v0 with it."""

import numpy as np
import pytest
import torch

from posttrain.multiview.reprojection_world_model import carry_traffic, ego_transform

pytestmark = pytest.mark.usefixtures("torch_one_thread")
CAMERAS = ["front", "front_left", "front_right", "back_left", "back", "back_right"]


def test_cameras_ride_on_the_car_as_the_simulators_do():
    """The pose the model gives a camera (its first pose carried by the car's motion) is the
    simulator's camera pose after the car has driven and turned."""
    import gymnasium as gym

    import envs  # noqa: F401

    env = gym.make("worldsim/DrivingMultiView-v0", image_size=16).unwrapped
    obs, _ = env.reset(seed=4)
    first = {c: f.extrinsics for c, f in env.capture(("rgb",)).items()}
    start = torch.as_tensor(obs["agent_pos"], dtype=torch.float64)[None]
    for _ in range(12):
        obs, *_ = env.step(np.array([0.4, 0.6], np.float32))
    now = torch.as_tensor(obs["agent_pos"], dtype=torch.float64)[None]
    moved = ego_transform(now) @ torch.linalg.inv(ego_transform(start))
    for cam, frame in env.capture(("rgb",)).items():
        np.testing.assert_allclose((moved[0] @ torch.as_tensor(first[cam], dtype=torch.float64)).numpy(), frame.extrinsics, atol=2e-3)
    env.close()


def test_traffic_is_carried_at_its_velocity_relative_to_the_moving_ego():
    env_state = torch.zeros(1, 20, dtype=torch.float64)
    env_state[0, 0:3] = torch.tensor([10.0, 0.0, 8.0])       # a car 10 m ahead doing 8 m/s
    env_state[0, 3:6] = torch.tensor([-20.0, 3.5, -9.0])    # an oncoming one behind, on the left
    env_state[0, 19] = 50.0
    before = torch.tensor([[0.0, -1.75, 0.0, 6.0]], dtype=torch.float64)
    after = torch.tensor([[0.6, -1.65, 0.0, 6.0]], dtype=torch.float64)   # the ego drove 0.6 m, 0.1 m left
    out = carry_traffic(env_state, before, after)[0]
    np.testing.assert_allclose(out[0:3].numpy(), [10.0 + 0.8 - 0.6, -0.1, 8.0])
    np.testing.assert_allclose(out[3:6].numpy(), [-20.0 - 0.9 - 0.6, 3.4, -9.0])
    assert out[18] == pytest.approx(0.1) and out[19] == pytest.approx(49.4)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from posttrain.multiview.reprojection_export import export
    from posttrain.multiview.reprojection_train import main as train
    from worldsim.cli import main

    root = tmp_path_factory.mktemp("drive_reproj")
    data, run = root / "data", root / "run"
    assert main(["generate", "--env", "worldsim/DrivingMultiView-v0", "--episodes", "3", "--out", str(data),
                 "--policy", "expert,expert+noise:0.3", "image_size=16", f"cameras=[{','.join(CAMERAS)}]", "depth=true",
                 "segmentation=false", "camera_params=true", "workers=1", "max_steps=25"]) == 0
    train([f"data={data}", f"out={run}", "net.image_size=16", "net.channels=[16,32]", "net.cond_dim=16",
           "batch_size=6", "holdout_episodes=1", "max_gap=5", "steps=4", "ckpt_every=2"])
    return {"run": run, "folder": export(str(run), str(root / "wm"))}


def test_training_writes_its_metrics_and_learns_the_ego_motion(trained):
    from worldsim.io import read_json

    metrics = read_json(trained["run"] / "metrics.json")
    assert sorted(metrics["cameras"]) == sorted(CAMERAS)
    assert metrics["ego_pose_error_at_20"]["x"] < 0.5      # metres after 20 steps of open loop (two episodes to fit)


def test_the_exported_model_drives_in_the_world_model_env(trained):
    import gymnasium as gym

    import envs  # noqa: F401

    env = gym.make("worldsim/DrivingWorldModel-v0", checkpoint=str(trained["folder"]))
    obs, _ = env.reset(seed=7)
    assert sorted(obs["pixels"]) == sorted(CAMERAS) and obs["pixels"]["front"].shape == (16, 16, 3)
    nxt, reward, terminated, truncated, info = env.step(np.array([0.0, 0.5], np.float32))
    assert nxt["agent_pos"][0] > obs["agent_pos"][0]       # it drove forward
    assert nxt["environment_state"].shape == (20,) and isinstance(reward, float)
    with pytest.raises(ValueError, match="samples nothing"):
        gym.make("worldsim/DrivingWorldModel-v0", checkpoint=str(trained["folder"]), sample_steps=2)
    with pytest.raises(ValueError, match="view count"):
        gym.make("worldsim/DrivingWorldModel-v0", checkpoint=str(trained["folder"]), cameras=["front"])
    env.close()


def test_bad_starts_are_refused(trained):
    from posttrain.multiview.reprojection_world_model import DrivingReprojectionWorldModel

    wm = DrivingReprojectionWorldModel.load(str(trained["folder"]))
    frames = {c: np.zeros((1, 1, 16, 16, 3), np.uint8) for c in CAMERAS}
    state = {"agent_pos": np.zeros((1, 4)), "environment_state": np.zeros((1, 20))}
    with pytest.raises(ValueError, match="depth, intrinsics and pose"):
        wm.start(frames, None, state)
    with pytest.raises(ValueError, match="6 views"):
        wm.start({"front": frames["front"]}, None, state)


def test_holes_only_keeps_what_the_first_views_saw_exactly():
    """With ``holes_only`` the completed view is the mesh's own pixels wherever the first views
    reach, whatever the network outputs; only the holes are painted."""
    from posttrain.camera.reproject import ReprojectedView
    from posttrain.camera.reprojection import ViewFiller
    from posttrain.camera.reprojection_config import ViewFillerConfig

    torch.manual_seed(0)
    cfg = ViewFillerConfig(image_size=16, channels=[8, 16], cond_dim=8, groups=4, surface="mesh")
    hit = (torch.rand(2, 1, 16, 16) > 0.4).double()
    view = ReprojectedView(torch.rand(2, 3, 16, 16).double() * 2 - 1, hit, 5 * hit)
    first, pose0 = torch.rand(2, 3, 16, 16).double(), torch.eye(4, dtype=torch.float64).expand(2, 4, 4)
    pose_t = pose0.clone()
    pose_t[:, 0, 3] = 0.5
    for holes_only in (False, True):
        cfg.holes_only = holes_only
        filler = ViewFiller(cfg).double()
        torch.nn.init.normal_(filler.net.head.weight, std=0.5)      # a network that changes every pixel
        out = filler.complete(first, view, pose0, pose_t)
        seen = hit.bool().expand_as(out)
        assert torch.equal(out[seen], view.rgb[seen]) == holes_only
        assert not torch.equal(out[~seen], view.rgb[~seen])


@pytest.mark.parametrize("override, match", [
    ("net.surface=voxels", "net.surface='voxels': expected one of"),
    ("net.views=4", "net.views=4: 1 .* or the rig's 6 cameras"),
    ("net.face_tolerance=0", "net.face_tolerance=0"),
])
def test_bad_filler_settings_are_refused(trained, tmp_path, override, match):
    from posttrain.multiview.reprojection_train import main as train

    data = trained["run"].parent / "data"
    with pytest.raises(ValueError, match=match):
        train([f"data={data}", f"out={tmp_path / 'run'}", "net.image_size=16", "batch_size=12", override])
