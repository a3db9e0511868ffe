"""Replicator BasicWriter layout: writer/reader round trip, camera conventions, Isaac-style folders.

    .venv/bin/python -m pytest tests/data/test_replicator.py -q
"""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import pytest
from PIL import Image

from worldsim.data.replicator import ReplicatorFolder, ReplicatorWriter
from worldsim.data.replicator_camera import camera_from_params, camera_params
from worldsim.optional import MissingExtraError, is_available

NEAR, FAR = 0.01, 1_000_000.0


# -- helpers written from Isaac's definitions, independent of the code under test ------------------

def isaac_pixel(point, view16, proj16, width, height):
    """Project a world point as Isaac does: row vector @ view @ projection, divide, flip v."""
    clip = np.append(point, 1.0) @ np.reshape(view16, (4, 4)) @ np.reshape(proj16, (4, 4))
    ndc = clip[:2] / clip[3]
    return np.array([(ndc[0] + 1) / 2 * width, (1 - ndc[1]) / 2 * height])


def cv_pixel(point, intrinsics, extrinsics):
    """Project a world point with our pinhole K and world-from-camera pose (OpenCV axes)."""
    cam = np.linalg.inv(extrinsics) @ np.append(point, 1.0)
    uvw = intrinsics @ cam[:3]
    return uvw[:2] / uvw[2]


def isaac_projection(fx, fy, width, height):
    """Isaac's reversed-Z projection for a centred pinhole, written out by hand."""
    return [2 * fx / width, 0, 0, 0,
            0, 2 * fy / height, 0, 0,
            0, 0, NEAR / (FAR - NEAR), -1,
            0, 0, NEAR * FAR / (FAR - NEAR), 0]


# The hand-worked camera: 2 m above the origin looking straight down, 64x48 px, f = 40 px.
# OpenCV axes in the world: x -> +x, y (image down) -> -y, z (forward) -> -z.
DOWN_K = np.array([[40.0, 0, 32], [0, 40, 24], [0, 0, 1]])
DOWN_E = np.array([[1.0, 0, 0, 0], [0, -1, 0, 0], [0, 0, -1, 2], [0, 0, 0, 1]])
# USD camera axes are the world axes here (looks down -z, up is +y); view = inverse pose,
# transposed for row vectors: translation -2 along z in the last row.
DOWN_VIEW = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, -2, 1]
DOWN_PROJ = isaac_projection(40, 40, 64, 48)
# World point (0.5, 0.25, 0) is (0.5, -0.25, 2) in the camera: u = 40*0.5/2 + 32, v = 40*-0.25/2 + 24.
POINT, PIXEL = np.array([0.5, 0.25, 0.0]), np.array([42.0, 19.0])


def down_params(width=64, height=48):
    return {"cameraViewTransform": DOWN_VIEW, "cameraProjection": DOWN_PROJ, "cameraModel": "pinhole",
            "cameraNearFar": [NEAR, FAR], "metersPerSceneUnit": 1.0,
            "renderProductResolution": [width, height]}


def look_at_pose(position, target):
    """World-from-camera in OpenCV axes for a camera at ``position`` looking at ``target`` (z up)."""
    z = np.subtract(target, position) / np.linalg.norm(np.subtract(target, position))
    x = np.cross(z, [0, 0, 1.0])
    x /= np.linalg.norm(x)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    pose[:3, 3] = position
    return pose


# -- camera conventions ------------------------------------------------------------------------------

def test_hand_worked_camera_projects_to_the_same_pixel_both_ways():
    assert np.allclose(cv_pixel(POINT, DOWN_K, DOWN_E), PIXEL)
    assert np.allclose(isaac_pixel(POINT, DOWN_VIEW, DOWN_PROJ, 64, 48), PIXEL)


def test_writer_camera_params_match_isaac_matrices_of_hand_worked_camera():
    params = camera_params(DOWN_K, DOWN_E, 64, 48, (NEAR, FAR))
    assert np.allclose(params["cameraViewTransform"], DOWN_VIEW)
    assert np.allclose(params["cameraProjection"], DOWN_PROJ)
    assert params["renderProductResolution"] == [64, 48]
    assert params["cameraApertureOffset"] == [0.0, 0.0]
    # USD pinhole: fx = W * focal / horizontal aperture.
    assert params["cameraFocalLength"] * 64 / params["cameraAperture"][0] == pytest.approx(40.0)


def test_reader_recovers_hand_worked_camera_from_isaac_matrices():
    k, e = camera_from_params(down_params())
    assert np.allclose(k, DOWN_K) and np.allclose(e, DOWN_E, atol=1e-6)


def test_off_centre_tilted_camera_agrees_with_isaac_projection():
    k = np.array([[50.0, 0, 30.5], [0, 45, 20], [0, 0, 1]])
    e = look_at_pose([1.0, -2.0, 1.5], [0.1, 0.2, 0.0])
    params = camera_params(k, e, 64, 48)
    rng = np.random.default_rng(0)
    for point in rng.uniform(-0.3, 0.3, (20, 3)):
        got = isaac_pixel(point, params["cameraViewTransform"], params["cameraProjection"], 64, 48)
        assert np.allclose(got, cv_pixel(point, k, e), atol=1e-6)
    k2, e2 = camera_from_params(params)
    assert np.allclose(k2, k, atol=1e-5) and np.allclose(e2, e, atol=1e-6)


def test_scene_units_scale_translation_to_metres():
    params = {**down_params(), "cameraViewTransform": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, -200, 1],
              "metersPerSceneUnit": 0.01}
    _, e = camera_from_params(params)
    assert np.allclose(e, DOWN_E, atol=1e-6)


def test_camera_params_sample_from_real_isaac_output():
    """A camera_params JSON as Isaac Sim wrote it (3-decimal rounding), 640x480 looking at the origin."""
    params = {
        "cameraAperture": [22.53, 15.29], "cameraFocalLength": 34.54, "cameraModel": "pinhole",
        "cameraNearFar": [0.01, 1000000.0], "metersPerSceneUnit": 1.0, "renderProductResolution": [640, 480],
        "cameraProjection": [3.066, 0, 0, 0, 0, 4.089, 0, 0, 0, 0, 1e-08, -1.0, 0, 0, 0.01, 0],
        "cameraViewTransform": [-0.177, -0.711, 0.681, 0, 0.984, -0.128, 0.122, 0,
                                0, 0.692, 0.722, 0, 0, 0, -2.461, 1.0],
    }
    k, e = camera_from_params(params)
    assert k[0, 0] == pytest.approx(34.54 / 22.53 * 640, rel=1e-3)  # focal / aperture * width
    assert k[1, 1] == pytest.approx(k[0, 0], rel=1e-3)  # square pixels
    assert (k[0, 2], k[1, 2]) == (320, 240)
    position, forward, image_down = e[:3, 3], e[:3, 2], e[:3, 1]
    assert np.linalg.norm(position) == pytest.approx(2.461, rel=1e-2)
    assert np.allclose(forward, -position / np.linalg.norm(position), atol=1e-2)  # looks at origin
    assert image_down[2] < -0.5  # image rows go down in the world: the camera is upright


# -- round trip of real renders ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def tabletop_steps():
    from envs.tabletop_push import TabletopPushEnv

    env = TabletopPushEnv(cameras=("top", "front", "side"), image_size=(48, 64))
    env.reset(seed=3)
    steps = []
    for _ in range(3):
        steps.append(env.capture(("rgb", "depth", "segmentation")))
        env.step(np.array([0.8, -0.5], np.float32))
    env.close()
    return steps


def test_round_trip_of_tabletop_renders(tmp_path, tabletop_steps):
    writer = ReplicatorWriter(tmp_path, ("top", "front", "side"))
    for i, frames in enumerate(tabletop_steps):
        writer.write(i, frames)
    folder = ReplicatorFolder(tmp_path)
    assert sorted(folder.cameras) == ["front", "side", "top"] and folder.num_frames == 3
    assert any(np.isinf(f.depth).any() for f in tabletop_steps[0].values())  # the inf path is used
    for i, frames in enumerate(tabletop_steps):
        back = folder.read(i)
        for cam, want in frames.items():
            got = back[cam]
            assert np.array_equal(got.rgb, want.rgb)
            assert got.depth.dtype == np.float32 and np.array_equal(got.depth, want.depth)
            assert np.array_equal(got.segmentation, want.segmentation) and got.labels == want.labels
            assert np.allclose(got.intrinsics, want.intrinsics, atol=1e-5)
            assert np.allclose(got.extrinsics, want.extrinsics, atol=1e-5)


def test_writer_uses_isaac_multi_render_product_layout(tmp_path, tabletop_steps):
    ReplicatorWriter(tmp_path, ("top", "front", "side")).write(0, tabletop_steps[0])
    cam = tmp_path / "front"
    rgba = np.asarray(Image.open(cam / "rgb" / "rgb_0000.png"))
    assert rgba.shape == (48, 64, 4) and (rgba[..., 3] == 255).all()
    depth = np.load(cam / "distance_to_image_plane" / "distance_to_image_plane_0000.npy")
    assert depth.dtype == np.float32 and depth.shape == (48, 64)
    seg = np.asarray(Image.open(cam / "semantic_segmentation" / "semantic_segmentation_0000.png"))
    labels_path = cam / "semantic_segmentation" / "semantic_segmentation_labels_0000.json"
    labels = json.loads(labels_path.read_text())
    assert seg.shape == (48, 64, 4) and labels["(0, 0, 0, 0)"] == {"class": "BACKGROUND"}
    assert {tuple(c) for c in seg.reshape(-1, 4)} <= {tuple(json.loads("[" + k[1:-1] + "]")) for k in labels}
    params = json.loads((cam / "camera_params" / "camera_params_0000.json").read_text())
    assert len(params["cameraViewTransform"]) == 16 and len(params["cameraProjection"]) == 16


def test_writer_rejects_wrong_cameras(tmp_path, tabletop_steps):
    with pytest.raises(ValueError, match="cameras"):
        ReplicatorWriter(tmp_path, ("top", "wrist")).write(0, tabletop_steps[0])


# -- a folder written the way Isaac Sim writes it -----------------------------------------------------

BG, UNLAB = (0, 0, 0, 0), (0, 0, 0, 255)


def _key(rgba):
    return "({}, {}, {}, {})".format(*rgba)


def _png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8)).save(path)


def _json(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def isaac_rgb(i, h=48, w=64):
    rgba = np.full((h, w, 4), 255, np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = 10 * i, np.arange(w)[None], np.arange(h)[:, None]
    return rgba


def isaac_semantic(frame):
    """Colourized ids as Isaac writes them; colours and key order differ between the two frames."""
    cube = [(140, 25, 255, 255), (25, 255, 140, 255)][frame]
    sphere = [(255, 197, 25, 255), (54, 255, 25, 255)][frame]
    img = np.zeros((48, 64, 4), np.uint8)  # BACKGROUND everywhere
    img[:10] = UNLAB
    img[20:30, 10:20], img[30:40, 40:50] = cube, sphere
    labels = {_key(BG): {"class": "BACKGROUND"}, _key(UNLAB): {"class": "UNLABELLED"},
              _key(cube): {"class": "cube"}, _key(sphere): {"class": "sphere"}}
    if frame == 1:
        labels = dict(reversed(list(labels.items())))
    expected = np.zeros((48, 64), np.int32)
    expected[20:30, 10:20], expected[30:40, 40:50] = 1, 2
    return img, labels, expected


def make_isaac_folder(root, nested=True):
    """Two render products as Isaac names them; the second has only rgb and camera params."""
    def put(rp, annotator, name):
        return root / rp / annotator / name if nested else root / rp / name

    side_view = [0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, -0.5, -3, 1]
    side_params = {**down_params(), "cameraViewTransform": side_view}
    for i in range(2):
        _png(put("Replicator", "rgb", f"rgb_{i:04d}.png"), isaac_rgb(i))
        depth = np.full((48, 64), 1.5 + i, np.float32)
        depth[0, :5], depth[1, :5] = np.inf, 0.0  # no hit: inf as Isaac writes it, 0 as its docs say
        depth_path = put("Replicator", "distance_to_image_plane", f"distance_to_image_plane_{i:04d}.npy")
        depth_path.parent.mkdir(parents=True, exist_ok=True)
        np.save(depth_path, depth)
        img, labels, _ = isaac_semantic(i)
        _png(put("Replicator", "semantic_segmentation", f"semantic_segmentation_{i:04d}.png"), img)
        _json(put("Replicator", "semantic_segmentation", f"semantic_segmentation_labels_{i:04d}.json"),
              labels)
        _json(put("Replicator", "camera_params", f"camera_params_{i:04d}.json"), down_params())
        _png(put("Replicator_01", "rgb", f"rgb_{i:04d}.png"), isaac_rgb(i + 5))
        _json(put("Replicator_01", "camera_params", f"camera_params_{i:04d}.json"), side_params)
    (root / "metadata.txt").write_text("written by a test as Isaac's BasicWriter would")
    return root


@pytest.mark.parametrize("nested", [True, False], ids=["annotator-folders", "flat-per-camera"])
def test_reads_isaac_style_folder(tmp_path, nested):
    folder = ReplicatorFolder(make_isaac_folder(tmp_path, nested))
    assert folder.cameras == ("Replicator", "Replicator_01") and folder.num_frames == 2
    for i, frames in enumerate(folder.iter_frames()):
        main, side = frames["Replicator"], frames["Replicator_01"]
        assert np.array_equal(main.rgb, isaac_rgb(i)[..., :3]) and main.rgb.dtype == np.uint8
        assert np.isinf(main.depth[:2, :5]).all() and (main.depth[2:] == 1.5 + i).all()
        assert np.array_equal(main.segmentation, isaac_semantic(i)[2])
        assert main.labels == {0: "background", 1: "cube", 2: "sphere"}
        assert np.allclose(main.intrinsics, DOWN_K) and np.allclose(main.extrinsics, DOWN_E, atol=1e-6)
        assert side.depth is None and side.segmentation is None
        # Side camera: USD camera x = world y, camera y (up) = world z, camera z = world x;
        # at (3, 0, 0.5), so it looks down world -x.
        assert np.allclose(side.extrinsics[:3, 3], [3.0, 0.0, 0.5])
        assert np.allclose(side.extrinsics[:3, 2], [-1.0, 0.0, 0.0])  # forward
        assert np.allclose(side.extrinsics[:3, 1], [0.0, 0.0, -1.0])  # image down is world down


def test_reads_single_render_product_written_flat(tmp_path):
    _png(tmp_path / "rgb_0000.png", isaac_rgb(0))
    _json(tmp_path / "camera_params_0000.json", down_params())
    assert ReplicatorFolder(tmp_path).cameras == ("Replicator",)
    frames = ReplicatorFolder(tmp_path, single_camera_name="top").read(0)
    assert list(frames) == ["top"] and frames["top"].depth is None
    assert np.allclose(cv_pixel(POINT, frames["top"].intrinsics, frames["top"].extrinsics), PIXEL)


# -- malformed folders: one-line errors that name the bad path ---------------------------------------

RGB1 = "Replicator/rgb/rgb_0001.png"
PARAMS0, PARAMS0_SIDE = "Replicator/camera_params/camera_params_0000.json", \
    "Replicator_01/camera_params/camera_params_0000.json"
DEPTH0 = "Replicator/distance_to_image_plane/distance_to_image_plane_0000.npy"
SEG0 = "Replicator/semantic_segmentation/semantic_segmentation_0000.png"
LABELS1 = "Replicator/semantic_segmentation/semantic_segmentation_labels_0001.json"


def _add_side_frame(root):
    _png(root / "Replicator_01/rgb/rgb_0002.png", isaac_rgb(2))
    _json(root / "Replicator_01/camera_params/camera_params_0002.json", down_params())


# case: (how to break the folder, the path the error must name, raised by "init" or "read")
MALFORMED = {
    "missing-rgb": (lambda r: (r / RGB1).unlink(), RGB1, "init"),
    "missing-camera-params": (lambda r: (r / PARAMS0_SIDE).unlink(), PARAMS0_SIDE, "init"),
    "missing-depth-frame": (lambda r: (r / DEPTH0).unlink(), DEPTH0, "init"),
    "missing-labels": (lambda r: (r / LABELS1).unlink(), LABELS1, "init"),
    "frame-counts-differ": (_add_side_frame, "Replicator_01", "init"),
    "unreadable-labels-json": (lambda r: (r / LABELS1).write_text("{not json"), LABELS1, "init"),
    "unreadable-camera-params": (lambda r: (r / PARAMS0).write_text("[1, "), PARAMS0, "read"),
    "camera-params-without-view": (
        lambda r: _json(r / PARAMS0_SIDE, {"renderProductResolution": [64, 48]}), PARAMS0_SIDE, "read"),
    "resolution-mismatch": (lambda r: _json(r / PARAMS0, down_params(32, 24)), PARAMS0, "read"),
    "colour-not-in-labels": (lambda r: _png(r / SEG0, np.full((48, 64, 4), 7, np.uint8)), SEG0, "read"),
    "depth-not-an-array": (lambda r: (r / DEPTH0).write_bytes(b"garbage"), DEPTH0, "read"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_folder_errors_name_the_bad_path(tmp_path, case):
    break_it, bad_path, when = MALFORMED[case]
    root = make_isaac_folder(tmp_path)
    break_it(root)
    with pytest.raises(ValueError) as err:
        ReplicatorFolder(root).read(0) if when == "read" else ReplicatorFolder(root)
    message = str(err.value)
    assert bad_path in message and "\n" not in message, message


@pytest.mark.parametrize("make", [lambda p: p / "absent", lambda p: p], ids=["no-folder", "empty-folder"])
def test_folder_without_output_names_the_path(tmp_path, make):
    with pytest.raises(ValueError, match=re.escape(str(make(tmp_path)))):
        ReplicatorFolder(make(tmp_path))


# -- Isaac Sim source -------------------------------------------------------------------------------

@pytest.mark.skipif(is_available("isaacsim"), reason="isaacsim is installed here")
def test_isaac_source_without_isaacsim_names_the_install_command(tmp_path):
    from envs.render.isaac_source import IsaacCameraConfig, IsaacSimRenderSource, IsaacSourceConfig

    cfg = IsaacSourceConfig(scene_usd="scene.usd", out_dir=str(tmp_path / "out"),
                            cameras=(IsaacCameraConfig("top", position=(0, 0, 2), look_at=(0, 0, 0)),))
    with pytest.raises(MissingExtraError, match=r"pip install 'worldsim\[isaac\]'"):
        IsaacSimRenderSource(cfg)
    assert not any(m == "isaacsim" or m.startswith("omni.") for m in sys.modules)
