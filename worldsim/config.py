"""Typed configs: one dataclass per component, YAML presets and ``key=value`` overrides.

    cfg = load_config(GenerateConfig, yaml_path=None, overrides=["episodes=10", "image_size=128"])

An unknown key is an error that lists the valid ones; the resolved config is plain data that
``save_config`` writes next to every run.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import TypeVar

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

T = TypeVar("T")


def _valid_keys(cls) -> str:
    return ", ".join(f.name for f in dataclasses.fields(cls))


def _owner(cls, full_key: str):
    """The dataclass that should have held ``full_key`` (a.b.c -> the type of field a.b)."""
    for part in full_key.split(".")[:-1]:
        try:
            nested = typing.get_type_hints(cls).get(part)
        except (NameError, TypeError):
            break
        if not (isinstance(nested, type) and dataclasses.is_dataclass(nested)):
            break
        cls = nested
    return cls


def load_config(cls: type[T], yaml_path: str | Path | None = None, overrides=(), **values) -> T:
    """Build ``cls`` from defaults, then a YAML file, then explicit values, then ``key=value`` strings."""
    base = OmegaConf.structured(cls)
    layers = []
    if yaml_path is not None:
        layers.append(OmegaConf.load(yaml_path))
    if values:
        layers.append(OmegaConf.create(values))
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r} is not key=value; valid keys: {_valid_keys(cls)}")
    if overrides:
        layers.append(OmegaConf.from_dotlist(list(overrides)))
    try:
        merged = OmegaConf.merge(base, *layers)
    except ConfigKeyError as e:
        owner = _owner(cls, str(e.full_key or e.key))
        raise ValueError(f"unknown config key {e.key!r} for {owner.__name__}; valid keys: {_valid_keys(owner)}") from None
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None) or "?"
        if "is not a ListConfig" in str(e.msg):   # policies=expert: a list written without brackets
            given = next((item.split("=", 1)[1] for item in reversed(list(overrides))
                          if item.split("=", 1)[0] == key), None)
            shown = f"{key}={given}" if given is not None else key
            raise ValueError(f"{shown} is not a list; {key} takes a list: write {key}=[{given or 'a,b'}]") from None
        raise ValueError(f"bad value for {cls.__name__}.{key}: {str(e.msg).splitlines()[0]}") from None
    return OmegaConf.to_object(merged)


def structured(cls: type[T], values: dict) -> T:
    """A dataclass from a plain dict (a config read back from YAML), unknown keys refused (OmegaConf)."""
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(cls), values))


def to_dict(cfg) -> dict:
    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)


def save_config(cfg, path: str | Path) -> None:
    Path(path).write_text(OmegaConf.to_yaml(OmegaConf.structured(cfg)))
