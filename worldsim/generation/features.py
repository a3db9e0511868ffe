"""The LeRobot feature spec of a generated dataset, derived from the env's spaces and the config."""

from __future__ import annotations

HWC = ["height", "width", "channels"]


def dataset_features(obs_space, action_space, cfg, seg_dtype: str = "uint8", sim_state_names=()) -> dict[str, dict]:
    feats: dict[str, dict] = {}
    cameras = obs_space["pixels"].spaces.items() if getattr(cfg, "render", True) else ()
    for cam, space in cameras:
        feats[f"observation.images.{cam}"] = {"dtype": "video", "shape": tuple(space.shape), "names": HWC}
    feats["observation.state"] = _vector(obs_space["agent_pos"].shape)
    feats["observation.environment_state"] = _vector(obs_space["environment_state"].shape)
    if getattr(cfg, "sim_state", False):
        feats["observation.sim_state"] = {"dtype": "float32", "shape": (len(sim_state_names),),
                                          "names": list(sim_state_names)}
    feats["action"] = _vector(action_space.shape)
    feats["next.reward"] = {"dtype": "float32", "shape": (1,), "names": None}
    feats["next.done"] = {"dtype": "bool", "shape": (1,), "names": None}
    feats["next.success"] = {"dtype": "bool", "shape": (1,), "names": None}
    for cam, space in cameras:
        feats.update(_camera_extras(cam, space.shape[:2], cfg, seg_dtype))
    return feats


def _vector(shape) -> dict:
    return {"dtype": "float32", "shape": tuple(shape), "names": None}


def _camera_extras(cam: str, hw, cfg, seg_dtype: str) -> dict:
    h, w = hw
    out = {}
    if cfg.depth:
        out[f"observation.depth.{cam}"] = {"dtype": "float32", "shape": (h, w, 1), "names": HWC}
    if cfg.segmentation:
        out[f"observation.segmentation.{cam}"] = {"dtype": seg_dtype, "shape": (h, w, 1), "names": HWC}
    if cfg.camera_params:
        out[f"observation.camera.{cam}.intrinsics"] = {"dtype": "float32", "shape": (3, 3), "names": None}
        out[f"observation.camera.{cam}.extrinsics"] = {"dtype": "float32", "shape": (4, 4), "names": None}
    return out
