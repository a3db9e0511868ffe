"""Policies for an evaluation from spec strings: the ``policies`` grammar plus ``bc:PATH``.

    policy = build_policy("bc:runs/bc/checkpoints/step_0000500+noise:0.1", env_id, action_space)
    policy = build_policy("expert+eps:0.3", env_id, action_space, env_kwargs)
    fingerprint("bc:runs/bc")     # changes when the checkpoint behind the spec changes

Plain specs go to ``policies.make_policy``, ``bc:`` specs to ``policies.bc_spec``, ``lerobot:PATH``
(a lerobot ``save_pretrained`` folder; needs the lerobot extra) to ``policies.lerobot_adapter``.
"""

from __future__ import annotations

import json
from pathlib import Path


def build_policy(spec: str, env_id: str, action_space, env_kwargs: dict | None = None, task: str | None = ""):
    from policies.bc_spec import is_bc_spec, make_bc_policy

    if is_bc_spec(spec):
        return make_bc_policy(spec, action_space)
    if spec.strip().startswith("lerobot:"):
        from policies.lerobot_adapter import make_lerobot_policy

        return make_lerobot_policy(spec, action_space, task=task)
    from policies import make_policy

    return make_policy(spec, env_id, action_space, env_kwargs)


def check_spec(spec: str) -> None:
    """ValueError naming the spec and what is allowed, before anything runs."""
    from policies.bc_spec import is_bc_spec, resolve_bc_checkpoint, split_bc_spec
    from policies.spec import parse_spec

    if is_bc_spec(spec):
        resolve_bc_checkpoint(split_bc_spec(spec)[0])
    elif spec.strip().startswith("lerobot:"):
        path, sep, rest = spec.strip()[len("lerobot:"):].partition("+")
        if not Path(path).is_dir():
            raise ValueError(f"policy spec {spec!r}: {path!r} is not a lerobot pretrained-model folder")
        parse_spec("expert" + sep + rest)
    else:
        parse_spec(spec)


def fingerprint(spec: str) -> str:
    """The spec itself, plus for ``bc:`` the checkpoint's step, save time and weights' shape hash."""
    from policies.bc_spec import is_bc_spec, resolve_bc_checkpoint, split_bc_spec

    if not is_bc_spec(spec):
        return spec
    ckpt = resolve_bc_checkpoint(split_bc_spec(spec)[0])
    meta_path = Path(ckpt) / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    return f"{spec}@{ckpt.name}:{meta.get('step')}:{meta.get('saved_at')}:{meta.get('param_shapes_hash')}"
