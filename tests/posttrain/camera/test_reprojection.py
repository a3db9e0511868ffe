"""The reprojection camera model: the geometry against the simulator's own renders, the walks,
training on a tiny dataset with depth (resume, export, load), and the world model's bad input."""

import numpy as np
import pytest
import torch

from posttrain.camera.motion import CameraMotionConfig, action_between, matrix_to_rotvec
from posttrain.camera.reproject import splat, unproject
from posttrain.camera.walks import walk

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _psnr(a, b, mask=None) -> float:
    err = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    mse = err[mask].mean() if mask is not None else err.mean()
    return float(10 * np.log10(255.0 ** 2 / mse))


def _tensors(rgb, depth, k, pose):
    return (torch.from_numpy(rgb).permute(2, 0, 1)[None].double(), torch.from_numpy(depth)[None].double(),
            torch.from_numpy(k)[None], torch.from_numpy(np.asarray(pose, np.float64))[None])


def test_reprojection_matches_the_simulator_render_at_the_new_pose(scene):
    """The first view lifted by its depth and seen from another pose agrees with MuJoCo's own render
    there (where points land), far better than the first view itself; at the same pose it is the
    first view, every pixel hit."""
    scene.reset(7)
    poses = walk("orbit", np.random.default_rng(1), 6, CameraMotionConfig())
    rgb0, depth0 = scene.render_depth(poses[0])
    k = scene.intrinsics().astype(np.float64)
    first, depth, kk, pose0 = _tensors(rgb0, depth0, k, poses[0])
    points, colours = unproject(first, depth, kk, pose0)
    same = splat(points, colours, kk, pose0, (48, 48))
    assert same.hit.min() == 1
    np.testing.assert_allclose(same.rgb[0].permute(1, 2, 0).numpy(), rgb0, atol=1e-6)
    truth = scene.render(poses[6])
    view = splat(points, colours, kk, torch.from_numpy(poses[6])[None], (48, 48))
    hit = view.hit[0, 0].numpy() > 0
    moved = view.rgb[0].permute(1, 2, 0).numpy()
    assert 0.4 < hit.mean() < 1.0
    assert _psnr(moved, truth, hit) > _psnr(rgb0, truth, hit) + 5


def test_walks_do_what_their_names_say():
    motion = CameraMotionConfig()
    pan = walk("pan", np.random.default_rng(0), 5, motion)
    assert np.allclose(pan[:, :3, 3], pan[0, :3, 3])                          # turns in place
    assert np.linalg.norm(matrix_to_rotvec(pan[0, :3, :3].T @ pan[-1, :3, :3])) > 0.1
    dolly = walk("dolly", np.random.default_rng(0), 5, motion)
    assert np.allclose(dolly[:, :3, :3], dolly[0, :3, :3])                    # does not turn
    offset = dolly[-1, :3, 3] - dolly[0, :3, 3]
    assert abs(abs(offset @ dolly[0, :3, 2]) - np.linalg.norm(offset)) < 1e-9 and np.linalg.norm(offset) > 0.05
    for poses in (pan, dolly, walk("orbit", np.random.default_rng(0), 5, motion)):
        actions = np.stack([action_between(a, b, motion) for a, b in zip(poses[:-1], poses[1:])])
        assert np.abs(actions).max() <= 1.0
    with pytest.raises(ValueError, match="allowed: orbit, pan, dolly"):
        walk("zoom", np.random.default_rng(0), 3, motion)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from posttrain.camera.data import main as make_data
    from posttrain.camera.reprojection_export import export
    from posttrain.camera.reprojection_train import main as train

    root = tmp_path_factory.mktemp("reproj")
    data, run = root / "data", root / "run"
    assert make_data(["--out", str(data), "episodes=3", "steps=6", "image_size=32", "depth=true"]) == 0
    args = [f"data={data}", f"out={run}", "net.image_size=32", "net.channels=[16,32]", "net.cond_dim=16",
            "batch_size=4", "holdout_episodes=1", "max_gap=3", "ckpt_every=10"]
    train(args + ["steps=10"])
    first = (run / "loss.log").read_text().splitlines()
    train(args + ["steps=40"])                                   # resumes at step 10
    losses = [float(line.split()[-1]) for line in (run / "loss.log").read_text().splitlines()]
    return {"data": data, "run": run, "folder": export(str(run), str(root / "wm")), "first": first, "losses": losses}


def test_training_resumes_learns_and_reports(trained):
    from worldsim.io import read_json

    losses = trained["losses"]
    assert len(trained["first"]) == 10 and len(losses) == 40
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    metrics = read_json(trained["run"] / "metrics.json")
    assert metrics["pairs"] == 256 and metrics["max_gap"] == 3
    assert all(10 < metrics[k] < 60 for k in ("completed_psnr", "reprojection_psnr", "repeat_source_psnr"))


def test_the_exported_model_steps_in_the_camera_env(trained):
    import gymnasium as gym

    import envs  # noqa: F401

    env = gym.make("worldsim/CameraWorld-v0", checkpoint=str(trained["folder"]))
    obs, _ = env.reset(seed=2)
    assert obs["pixels"]["camera"].shape == (32, 32, 3)
    a = np.array([0.2, 0.0, 0.3, 0.0, 0.4, 0.0], np.float32)
    nxt, reward, terminated, truncated, _ = env.step(a)
    assert nxt["pixels"]["camera"].dtype == np.uint8 and reward == 0.0 and not terminated
    assert not np.array_equal(nxt["pixels"]["camera"], obs["pixels"]["camera"])
    with pytest.raises(ValueError, match="samples nothing"):
        gym.make("worldsim/CameraWorld-v0", checkpoint=str(trained["folder"]), sample_steps=2)
    env.close()


def test_bad_starts_are_refused(trained):
    from posttrain.camera.reprojection_world_model import ReprojectionCameraWorldModel

    wm = ReprojectionCameraWorldModel.load(str(trained["folder"]))
    frames = {"camera": np.zeros((1, 1, 32, 32, 3), np.uint8)}
    pose = np.eye(4)[None]
    depth = {"depth": np.ones((1, 32, 32))}
    with pytest.raises(ValueError, match="depth"):
        wm.start(frames, pose)
    with pytest.raises(ValueError, match=r"depth must be \(N, 32, 32\)"):
        wm.start(frames, pose, {"depth": np.ones((1, 16, 16))})
    skewed = pose.copy()
    skewed[0, 0, 1] = 0.5
    with pytest.raises(ValueError, match="not orthonormal"):
        wm.start(frames, skewed, depth)
    with pytest.raises(ValueError, match="frames must be"):
        wm.start({"camera": np.zeros((1, 1, 16, 16, 3), np.uint8)}, pose, depth)
    with pytest.raises(ValueError, match="expected 'camera_reprojection'"):
        ReprojectionCameraWorldModel.load("assets/world_models/camera_tabletop")
