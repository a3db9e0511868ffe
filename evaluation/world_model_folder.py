"""Which world-model folder an evaluation uses, and what its ``config.yaml`` says (no weights loaded).

    folder = resolve_world_model(cfg)      # "default" -> the folder shipped for cfg.env; "none" -> None
    cameras = default_cameras(cfg)         # the world model's cameras, else the simulator record's
    sim = world_model_config(folder)["sim"]

``cfg`` is an ``EvalConfig`` (read by attribute: ``world_model``, ``world_model_env``, ``env``);
this module does not import it, so ``EvalConfig`` can ask it for its default cameras.
"""

from __future__ import annotations

from pathlib import Path

from envs.simulators import find_simulator


def resolve_world_model(cfg) -> str | None:
    """The world-model folder to evaluate: ``default`` is the one shipped for ``cfg.env`` (none for
    an env without one), ``none`` or empty means the simulator alone."""
    if cfg.world_model in (None, "", "none"):
        return None
    if cfg.world_model == "default":   # the simulator record's world model
        from assets import asset_path

        spec = find_simulator(cfg.env)
        relative = None if spec is None else spec.world_model_for(getattr(cfg, "task", None))
        return None if relative is None else str(asset_path(relative))
    if not Path(cfg.world_model).exists():
        raise ValueError(f"world_model={cfg.world_model!r} does not exist; give a world-model folder, "
                         "'default' or 'none'")
    return cfg.world_model


def default_cameras(cfg) -> list[str] | None:
    """The cameras of an evaluation that sets none: the world model's (it sees only those), else the
    simulator record's defaults (``envs.simulators``); None for an env without a record."""
    folder = resolve_world_model(cfg) if cfg.world_model_env == "worldsim/WorldModel-v0" else None
    if folder and Path(folder).is_dir():
        sim = world_model_config(folder).get("sim") or {}
        if sim.get("env_id") == cfg.env and sim.get("cameras"):
            return list(sim["cameras"])
    spec = find_simulator(cfg.env)
    return None if spec is None else list(spec.cameras)


def world_model_config(folder: str) -> dict:
    """The world-model folder's ``config.yaml`` as plain data (no weights loaded); {} if it has none."""
    from omegaconf import OmegaConf

    path = Path(folder) / "config.yaml"
    return OmegaConf.to_container(OmegaConf.load(path), resolve=True) if path.is_file() else {}
