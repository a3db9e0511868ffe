"""Which evaluated policies a world model never saw in training, from its folder's provenance.

    train = train_policies("assets/world_models/tabletop_push")   # None: the folder does not say
    unseen_policies(["expert", "expert+noise:1.5", "expert+eps:0.8", "random"], ["expert", "expert+eps:0.3"])
    # -> ["expert+noise:1.5", "random"]

A world-model folder's ``config.yaml`` may carry ``provenance: {train_policies: [spec, ...]}``,
the policy specs (or comma-separated mixes) whose episodes it was trained on. An evaluated spec
is unseen when its base, or any of its degradations (by name, whatever the strength), appears
in no training spec: ``expert+noise:1.5`` is seen when training had ``expert+noise:0.3``. The
base of ``bc:PATH`` / ``lerobot:PATH`` specs is the prefixed path.
"""

from __future__ import annotations

MIN_POLICIES = 3   # fewer unseen policies than this: no agreement numbers over them


def spec_parts(spec: str) -> tuple[str, set[str]]:
    """(base, degradation names) of a policy spec, e.g. "expert+noise:0.3+delay:1" -> ("expert", {"noise", "delay"})."""
    base, *rest = [p.strip() for p in str(spec).strip().split("+")]
    return base, {p.partition(":")[0] for p in rest if p}


def train_policies(folder: str | None) -> list[str] | None:
    """The specs in the folder's ``provenance.train_policies``; None without a folder or that entry."""
    from evaluation.world_model_folder import world_model_config

    if not folder:
        return None
    listed = (world_model_config(folder).get("provenance") or {}).get("train_policies")
    if listed is None:
        return None
    return split_mixes([listed] if isinstance(listed, str) else listed)


def split_mixes(specs) -> list[str]:
    """Specs with every comma-separated mix split into its specs."""
    return [s.strip() for entry in specs for s in str(entry).split(",") if s.strip()]


def unseen_policies(specs: list[str], train: list[str]) -> list[str]:
    """The specs whose base or any degradation name no training spec (or mix) has, in the order given."""
    bases, degradations = set(), set()
    for spec in split_mixes(train):
        base, names = spec_parts(spec)
        bases.add(base)
        degradations |= names
    out = []
    for spec in specs:
        base, names = spec_parts(spec)
        if base not in bases or not names <= degradations:
            out.append(spec)
    return out
