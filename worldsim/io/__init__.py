"""Small I/O shared by training and inference: atomic files, safe safetensors, checkpoint reading.

    from worldsim.io import load_model_weights, read_config, write_json
    load_model_weights(model, "runs/base", ema=True)

``files`` (atomic bytes/JSON/YAML; imports neither torch nor omegaconf), ``tensors`` (safetensors
without pickles), ``state`` (a model's tensors, strict matching) and ``checkpoints`` (resolve a
folder, load weights, read config/meta). The names below resolve lazily, so importing
``worldsim.io.files`` stays light. Writing and resuming training checkpoints lives in
``worldsim.training``.
"""

from __future__ import annotations

import importlib

_HOMES = {
    "checkpoints": ("CONFIG", "EMA", "LATEST", "META", "MODEL", "check_architecture", "complete_checkpoints",
                    "latest_checkpoint", "load_model_weights", "make_meta", "read_config", "read_meta", "resolve_checkpoint", "versions",
                    "FORMAT_VERSION"),
    "files": ("read_json", "remove_partial", "write_bytes", "write_json", "write_text", "write_yaml"),
    "lock": ("hold_folder", "LOCK_NAME"),
    "state": ("check_matches", "load_tensor_state", "model_state_for_saving", "param_shapes_hash", "tensor_state"),
    "tensors": ("read_tensors", "refuse_pickle", "write_tensors"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'worldsim.io' has no attribute {name!r}")
    return getattr(importlib.import_module(f"worldsim.io.{_MODULE_OF[name]}"), name)
