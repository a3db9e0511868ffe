"""Policy spec strings, as written on the command line.

A spec is a base policy followed by ``+``-separated degradations, each ``name:strength``:
``expert``, ``random``, ``expert+noise:0.3``, ``expert+eps:0.2+delay:2``. A mix of policies is
a comma-separated list of specs: ``expert,expert+noise:0.5,random``.
"""

from __future__ import annotations

from dataclasses import dataclass

BASES = ("expert", "random", "play")
DEGRADATIONS = {  # name: (description, allowed range)
    "noise": ("Gaussian action noise, std in half-ranges", (0.0, 10.0)),
    "eps": ("probability of a random action per step", (0.0, 1.0)),
    "delay": ("actions delayed by this many steps", (0, 50)),
    "stuck": ("probability per episode that the last actuator is stuck at 0", (0.0, 1.0)),
    "bias": ("constant action offset, in half-ranges", (-2.0, 2.0)),
}


@dataclass(frozen=True)
class PolicySpec:
    base: str
    degradations: tuple[tuple[str, float], ...] = ()

    def __str__(self) -> str:
        return "+".join([self.base] + [f"{n}:{_fmt(v)}" for n, v in self.degradations])


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _allowed() -> str:
    return f"a base ({', '.join(BASES)}) with optional +name:value degradations ({', '.join(DEGRADATIONS)})"


def parse_spec(text: str) -> PolicySpec:
    parts = [p.strip() for p in str(text).strip().split("+")]
    base, degradations = parts[0], []
    if base.startswith(("bc:", "lerobot:")):
        kind = base.split(":")[0]
        raise ValueError(f"policy {text!r}: {kind}: checkpoints are evaluated with `worldsim eval "
                         f"policies=[{text}]`; here (e.g. `worldsim generate --policy`) allowed: {_allowed()}")
    if base not in BASES:
        raise ValueError(f"unknown policy {base!r} in spec {text!r}; allowed: {_allowed()}")
    for part in parts[1:]:
        degradations.append(_parse_degradation(part, text))
    return PolicySpec(base, tuple(degradations))


def _parse_degradation(part: str, text: str) -> tuple[str, float]:
    name, sep, value = part.partition(":")
    if name not in DEGRADATIONS:
        raise ValueError(f"unknown degradation {name!r} in spec {text!r}; allowed: {', '.join(DEGRADATIONS)}")
    lo, hi = DEGRADATIONS[name][1]
    try:
        v = float(value) if sep else float("nan")
    except ValueError:
        v = float("nan")
    if not lo <= v <= hi or (isinstance(lo, int) and not v.is_integer()):
        kind = "an integer" if isinstance(lo, int) else "a number"
        raise ValueError(f"degradation {part!r} in spec {text!r} needs {kind} in [{lo}, {hi}], as {name}:VALUE")
    return name, v


def parse_mix(text: str) -> list[PolicySpec]:
    specs = [s for s in str(text).split(",") if s.strip()]
    if not specs:
        raise ValueError(f"policy mix {text!r} is empty; expected e.g. 'expert,expert+noise:0.5,random'")
    return [parse_spec(s) for s in specs]
