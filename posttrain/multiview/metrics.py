"""Multi-view video metrics: cross-view epipolar consistency (Sampson error) and per-view PSNR.

    from posttrain.multiview.metrics import cross_view_sampson, per_view_psnr
    F = fundamental_matrix(K_a, pose_a, K_b, pose_b)        # x_b^T F x_a = 0 for one 3D point
    d = sampson_distance(F, pts_a, pts_b)                   # (N,) pixels; 0 on the epipolar geometry
    scores = cross_view_sampson(frames, intrinsics, extrinsics)   # {"front/front_left": array, ...}
    summary = summarize_sampson(scores)                     # median / mean / matches over all pairs
    psnr = per_view_psnr(generated, simulated)              # {camera: dB}

Cameras follow worldsim/data/frames.py: ``intrinsics`` (3, 3) pinhole matrices whose principal
point is in continuous pixel coordinates (pixel (i, j) covers [j, j+1) x [i, i+1)), ``extrinsics``
(4, 4) world-from-camera poses in OpenCV axes. Features are SIFT keypoints on frames upsampled
``upsample`` times (a 32 px view is too small for a detector's border and scale space), matched
with Lowe's ratio test, nothing filtered by the geometry being measured; the Sampson distance
is the square root of the Sampson error, the first-order distance of a correspondence (x_a, x_b)
from the nearest pair that satisfies the epipolar constraint. Real renders give its floor
(mismatches and feature localisation); a generated set of views is consistent when it comes
close to that floor. Plain numpy + OpenCV (imported when a function is called).
"""

from __future__ import annotations

import numpy as np

# neighbouring cameras of the nuScenes ring whose fields of view overlap
DRIVING_PAIRS = (("front", "front_left"), ("front", "front_right"), ("front_left", "back_left"),
                 ("front_right", "back_right"), ("back_left", "back"), ("back_right", "back"))
PSNR_CAP_DB = 100.0


def skew(t: np.ndarray) -> np.ndarray:
    """[t]_x, so that skew(t) @ v = cross(t, v)."""
    return np.array([[0.0, -t[2], t[1]], [t[2], 0.0, -t[0]], [-t[1], t[0], 0.0]])


def check_camera(K: np.ndarray, pose: np.ndarray, name: str = "camera") -> tuple[np.ndarray, np.ndarray]:
    K, pose = np.asarray(K, np.float64), np.asarray(pose, np.float64)
    if K.shape != (3, 3) or not np.isfinite(K).all() or abs(np.linalg.det(K)) < 1e-12:
        raise ValueError(f"{name} intrinsics must be an invertible finite (3, 3) matrix, got {K.tolist()}")
    rot = pose[:3, :3] if pose.shape == (4, 4) else None
    if rot is None or not np.allclose(rot @ rot.T, np.eye(3), atol=1e-4) or np.linalg.det(rot) < 0:
        raise ValueError(f"{name} extrinsics must be a (4, 4) world-from-camera pose with a rotation block, "
                         f"got {pose.tolist()}")
    return K, pose


def fundamental_matrix(K_a, pose_a, K_b, pose_b) -> np.ndarray:
    """F (3, 3) with x_b^T F x_a = 0 for homogeneous pixels x_a, x_b of one point; poses world-from-camera."""
    K_a, pose_a = check_camera(K_a, pose_a, "camera a")
    K_b, pose_b = check_camera(K_b, pose_b, "camera b")
    b_from_a = np.linalg.inv(pose_b) @ pose_a  # (4, 4): x_b = R x_a + t
    essential = skew(b_from_a[:3, 3]) @ b_from_a[:3, :3]
    return np.linalg.inv(K_b).T @ essential @ np.linalg.inv(K_a)


def sampson_distance(F: np.ndarray, pts_a: np.ndarray, pts_b: np.ndarray) -> np.ndarray:
    """(N,) sqrt of the Sampson error of correspondences pts_a[i] <-> pts_b[i] (N, 2) pixels."""
    pts_a, pts_b = np.asarray(pts_a, np.float64).reshape(-1, 2), np.asarray(pts_b, np.float64).reshape(-1, 2)
    if len(pts_a) != len(pts_b):
        raise ValueError(f"pts_a has {len(pts_a)} points and pts_b {len(pts_b)}: they must pair up")
    xa = np.concatenate([pts_a, np.ones((len(pts_a), 1))], axis=1)  # (N, 3)
    xb = np.concatenate([pts_b, np.ones((len(pts_b), 1))], axis=1)
    line_b, line_a = xa @ F.T, xb @ F  # (N, 3): F x_a, F^T x_b
    residual = np.sum(xb * line_b, axis=1)  # (N,)
    grad = line_b[:, 0] ** 2 + line_b[:, 1] ** 2 + line_a[:, 0] ** 2 + line_a[:, 1] ** 2
    return np.abs(residual) / np.sqrt(np.maximum(grad, 1e-30))


def match_features(img_a: np.ndarray, img_b: np.ndarray, upsample: int = 4, ratio: float = 0.8):
    """SIFT matches between two uint8 (H, W, 3) frames: (pts_a, pts_b) (N, 2) in continuous pixels."""
    import cv2

    if upsample < 1:
        raise ValueError(f"upsample={upsample} must be >= 1")
    sift = cv2.SIFT_create()
    found = []
    for img in (img_a, img_b):
        gray = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)
        big = cv2.resize(gray, None, fx=upsample, fy=upsample, interpolation=cv2.INTER_CUBIC)
        found.append(sift.detectAndCompute(big, None))
    (kp_a, des_a), (kp_b, des_b) = found
    if des_a is None or des_b is None or len(kp_a) < 2 or len(kp_b) < 2:
        return np.zeros((0, 2)), np.zeros((0, 2))
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(des_a, des_b, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < ratio * n.distance]
    # cv2 resize maps continuous coordinates by the factor; keypoints sit at pixel-centre coordinates
    to_orig = lambda kps, idx: (np.array([kps[i].pt for i in idx]).reshape(-1, 2) + 0.5) / upsample  # noqa: E731
    return to_orig(kp_a, [m.queryIdx for m in good]), to_orig(kp_b, [m.trainIdx for m in good])


def cross_view_sampson(frames: dict, intrinsics: dict, extrinsics: dict, pairs=DRIVING_PAIRS,
                       upsample: int = 4) -> dict[str, np.ndarray]:
    """{"a/b": (N,) Sampson distances of matched features} for each neighbouring pair of one time step."""
    missing = sorted({c for pair in pairs for c in pair} - set(frames))
    if missing:
        raise ValueError(f"frames lack camera(s) {missing} named in pairs; got {sorted(frames)}")
    out = {}
    for a, b in pairs:
        F = fundamental_matrix(intrinsics[a], extrinsics[a], intrinsics[b], extrinsics[b])
        pts_a, pts_b = match_features(frames[a], frames[b], upsample)
        out[f"{a}/{b}"] = sampson_distance(F, pts_a, pts_b)
    return out


def summarize_sampson(scores: list[dict[str, np.ndarray]] | dict[str, np.ndarray]) -> dict[str, float]:
    """Median and mean Sampson distance (pixels) over all matches, and matches per frame set."""
    scores = [scores] if isinstance(scores, dict) else list(scores)
    flat = np.concatenate([d for s in scores for d in s.values()] or [np.zeros(0)])
    out = {"matches_per_frame_set": float(len(flat) / max(len(scores), 1))}
    out["sampson_median_px"] = float(np.median(flat)) if len(flat) else float("nan")
    out["sampson_mean_px"] = float(np.mean(flat)) if len(flat) else float("nan")
    out["inliers_1px"] = float(np.mean(flat < 1.0)) if len(flat) else float("nan")
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR (dB) of two uint8 arrays of one shape, pooled over the whole array; ``PSNR_CAP_DB`` when identical.

    Per-frame PSNR of uint8 frames is ``posttrain.camera.evaluate.frame_psnr``; of [-1, 1] video,
    ``worldsim.tokenizer.metrics.psnr``."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"frames of shapes {a.shape} and {b.shape} cannot be compared")
    mse = np.mean((a - b) ** 2)
    return PSNR_CAP_DB if mse == 0 else float(min(PSNR_CAP_DB, 10 * np.log10(255.0**2 / mse)))


def per_view_psnr(generated: dict, reference: dict) -> dict[str, float]:
    """{camera: PSNR dB} of generated against reference frames (uint8 (..., H, W, 3) per camera)."""
    if set(generated) != set(reference):
        raise ValueError(f"generated cameras {sorted(generated)} differ from reference {sorted(reference)}")
    return {cam: psnr(generated[cam], reference[cam]) for cam in reference}
