"""How well generated views follow the commanded camera: two-view geometry with OpenCV.

Small frames (32x32) have too few corners for sparse features, so correspondences come from
dense optical flow (Farnebäck, on frames upsampled ``upsample`` times, kept where forward and
backward flow agree and the image is textured: flow in flat sky or floor is zero whatever the
motion, which would pull the estimate to "no rotation"). From them, ``cv2.findEssentialMat`` with the known K and
``cv2.recoverPose`` estimate the relative rotation and the direction of translation, compared
with the commanded motion:

    p0, p1 = dense_matches(frame0, frame_t)                      # uint8 (H, W, 3) each -> (N, 2) pixels
    est = relative_motion(p0, p1, K)                             # (R, t_unit) or None when it fails
    R_cmd, t_cmd = commanded_motion(pose0, pose_t)               # OpenCV two-view convention: x_t = R x_0 + t
    rotation_error_deg(est[0], R_cmd), direction_error_deg(est[1], t_cmd)
    flow_error(gen0, gen_t, true0, true_t)                       # mean end-point error of the flow, pixels

Running the same estimator on the simulator's own renders gives the error floor of the measure
(at 32x32 it is large: small baselines and little texture). A measure that needs no pose estimate
is ``motion_scale``: the simulator renders the scene along the commanded motion scaled by s
(s = 0: the first view, s = 1: the commanded view) and the s whose render best matches the
generated view (PSNR) says how far the generated camera moved: 1 follows, 0 ignores the command.

    s = motion_scale(generated_t, lambda pose: scene.render(pose), pose0, pose_t)
"""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np


def _gray(frame: np.ndarray, upsample: int) -> np.ndarray:
    g = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    return cv2.resize(g, None, fx=upsample, fy=upsample, interpolation=cv2.INTER_CUBIC)


def _flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # (H, W, 2)


def flow(frame0: np.ndarray, frame1: np.ndarray, upsample: int = 4) -> np.ndarray:
    """Forward flow in original pixels at the upsampled grid: (H*u, W*u, 2)."""
    return _flow(_gray(frame0, upsample), _gray(frame1, upsample)) / upsample


def dense_matches(frame0: np.ndarray, frame1: np.ndarray, upsample: int = 4, step: int = 2,
                  max_disagreement: float = 0.25, min_texture: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Pixel correspondences (N, 2) x2 in continuous image coordinates (pixel centres at u + 0.5)."""
    g0, g1 = _gray(frame0, upsample), _gray(frame1, upsample)
    fwd, bwd = _flow(g0, g1), _flow(g1, g0)
    ys, xs = np.mgrid[0:g0.shape[0]:step, 0:g0.shape[1]:step]
    p0 = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)  # upsampled pixel indices
    p1 = p0 + fwd[ys.ravel(), xs.ravel()]
    back = cv2.remap(bwd, p1[:, 0].reshape(-1, 1), p1[:, 1].reshape(-1, 1), cv2.INTER_LINEAR).reshape(-1, 2)
    inside = (p1 >= 0).all(1) & (p1[:, 0] < g0.shape[1] - 1) & (p1[:, 1] < g0.shape[0] - 1)
    agree = np.linalg.norm(fwd[ys.ravel(), xs.ravel()] + back, axis=1) < max_disagreement * upsample
    texture = cv2.cornerMinEigenVal(g0.astype(np.float32), 2 * upsample + 1, 3)[ys.ravel(), xs.ravel()]
    keep = inside & agree & (texture > min_texture * texture.max())
    return (p0[keep] + 0.5) / upsample, (p1[keep] + 0.5) / upsample


def relative_motion(p0: np.ndarray, p1: np.ndarray, intrinsics: np.ndarray,
                    min_points: int = 16) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """(R, unit t) with x1 = R x0 + t from matches, or None when there are too few or no model fits."""
    if len(p0) < min_points:
        return None
    k = np.asarray(intrinsics, np.float64)
    e, inliers = cv2.findEssentialMat(p0.astype(np.float64), p1.astype(np.float64), k, method=cv2.RANSAC,
                                      prob=0.999, threshold=0.3)
    if e is None or e.shape != (3, 3) or inliers is None or int(inliers.sum()) < min_points:
        return None
    _, r, t, _ = cv2.recoverPose(e, p0.astype(np.float64), p1.astype(np.float64), k, mask=inliers)
    return r, t.ravel() / max(np.linalg.norm(t), 1e-12)


def commanded_motion(pose0: np.ndarray, pose1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World-from-camera poses -> (R, t) with x_cam1 = R x_cam0 + t."""
    rel = np.linalg.inv(np.asarray(pose0, np.float64)) @ np.asarray(pose1, np.float64)  # camera 1 in camera 0
    r = rel[:3, :3].T
    return r, -r @ rel[:3, 3]


def scaled_pose(pose0: np.ndarray, pose1: np.ndarray, s: float) -> np.ndarray:
    """The pose a fraction ``s`` of the way along the rigid motion from pose0 to pose1 (s may exceed 1)."""
    from posttrain.camera.motion import matrix_to_rotvec, rotvec_to_matrix

    rel = np.linalg.inv(np.asarray(pose0, np.float64)) @ np.asarray(pose1, np.float64)
    step = np.eye(4)
    step[:3, :3] = rotvec_to_matrix(s * matrix_to_rotvec(rel[:3, :3]))
    step[:3, 3] = s * rel[:3, 3]
    return np.asarray(pose0, np.float64) @ step


def motion_scale(frame: np.ndarray, render, pose0: np.ndarray, pose1: np.ndarray,
                 scales: np.ndarray = np.linspace(0.0, 1.5, 13)) -> float:
    """The s in ``scales`` whose render at ``scaled_pose(pose0, pose1, s)`` is closest (MSE) to ``frame``."""
    errors = [np.mean((render(scaled_pose(pose0, pose1, s)).astype(np.float64) - frame) ** 2) for s in scales]
    return float(scales[int(np.argmin(errors))])


def rotation_error_deg(r_est: np.ndarray, r_true: np.ndarray) -> float:
    cos = np.clip((np.trace(r_est.T @ r_true) - 1.0) / 2.0, -1.0, 1.0)
    return float(np.degrees(np.arccos(cos)))


def direction_error_deg(t_est: np.ndarray, t_true: np.ndarray) -> float:
    cos = np.dot(t_est, t_true) / max(np.linalg.norm(t_est) * np.linalg.norm(t_true), 1e-12)
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def flow_error(gen0: np.ndarray, gen1: np.ndarray, true0: np.ndarray, true1: np.ndarray) -> float:
    """Mean end-point distance (pixels) between the flow of the generated and of the true frame pair."""
    return float(np.linalg.norm(flow(gen0, gen1) - flow(true0, true1), axis=-1).mean())
