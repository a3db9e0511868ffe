"""Every import goes to the same or a lower layer (docs/design.md, "Layers and import direction").

Every ``import`` and ``from ... import`` in worldsim/, posttrain/, envs/, policies/ and evaluation/
counts, those inside functions and under ``if TYPE_CHECKING:`` included. A module may import its
own layer or a layer below it; anything else is listed as ``file:line: importer (layer) -> imported
(layer)``. ``assets`` (data) and third-party packages have no layer and are not checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("worldsim", "posttrain", "envs", "policies", "evaluation")

# module prefix -> layer; the longest matching prefix wins.
LAYERS = {
    "worldsim": 1,              # models and I/O
    "posttrain": 2,             # recipes
    "envs": 3,                  # simulators, render sources, world-model envs
    "policies": 4,              # policies and their training task
    "evaluation": 4,            # rollouts, metrics, the report
    "worldsim.cli": 5,          # the command line
    "evaluation.cli_entry": 5,
    "worldsim.generation": 5,   # job 3 (`worldsim generate` and the recipes' data makers): commands
    "posttrain.camera.data": 5,     # `python -m posttrain.camera.data`: the command name only
    "posttrain.transfer.data": 5,   # `python -m posttrain.transfer.data`: the command name only
}
NAMES = {1: "models and I/O", 2: "recipes", 3: "envs", 4: "policies and evaluation", 5: "command line"}

# (importer module, imported module) -> why it is allowed. Keep empty; an entry that no longer
# occurs fails the test, so the list stays true.
ALLOWED: dict[tuple[str, str], str] = {}


def layer_of(module: str, layers: dict = LAYERS):
    """The layer of a dotted module name, None outside the layered packages."""
    best = None
    for prefix in layers:
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best)):
            best = prefix
    return None if best is None else layers[best]


def module_name(root: Path, path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_pkg = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_pkg else parts), is_pkg


def imported_modules(node, name: str, is_pkg: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:  # relative: resolve against the importing module's package
        base = name.split(".") if is_pkg else name.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        mod = ".".join(base + ([node.module] if node.module else []))
    else:
        mod = node.module or ""
    # ``from pkg import sub`` may name a submodule: check both the module and module.name
    return [mod] + [f"{mod}.{a.name}" for a in node.names if a.name != "*"]


def upward_imports(root: Path, packages=PACKAGES, layers: dict = LAYERS) -> list[tuple[str, int, str, int, str, int]]:
    """Every import in ``packages`` under ``root`` that points to a higher layer:
    (file, line, importer module, its layer, imported module, its layer)."""
    files = {module_name(root, p): p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))}
    known = {name for name, _ in files}
    found = []
    for (name, is_pkg), path in files.items():
        mine = layer_of(name, layers)
        if mine is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            targets = []
            for target in imported_modules(node, name, is_pkg):
                while target not in known and "." in target:  # ``from m import name``: the module m
                    target = target.rpartition(".")[0]
                if target not in targets:
                    targets.append(target)
            for target in targets:
                theirs = layer_of(target, layers)
                if theirs is not None and theirs > mine:
                    found.append((str(path.relative_to(root)), node.lineno, name, mine, target, theirs))
    # ``from a import b`` names both a and a.b: keep the most specific module per line
    return [f for f in found if not any(g[:2] == f[:2] and g[4].startswith(f[4] + ".") for g in found)]


def describe(edge) -> str:
    file, line, importer, mine, target, theirs = edge
    return f"{file}:{line}: {importer} (layer {mine}, {NAMES[mine]}) -> {target} (layer {theirs}, {NAMES[theirs]})"


def against_the_direction(edges, allowed: dict) -> tuple[list, list]:
    """(upward imports not allowlisted, allowlisted (importer, imported) pairs that no longer occur)."""
    bad = [e for e in edges if (e[2], e[4]) not in allowed]
    return bad, sorted(set(allowed) - {(e[2], e[4]) for e in edges})


def test_imports_go_to_the_same_or_a_lower_layer():
    bad, stale = against_the_direction(upward_imports(ROOT), ALLOWED)
    assert not bad, "imports against the layer direction (docs/design.md):\n" + "\n".join(map(describe, bad))
    assert not stale, f"allowlisted upward imports that no longer occur (remove them from ALLOWED): {stale}"


def test_every_module_has_a_layer():
    for pkg in PACKAGES:
        assert layer_of(pkg) is not None, pkg


def test_checker_catches_an_upward_import(tmp_path):
    files = {
        "low/__init__.py": "",
        "low/core.py": "import os\nfrom low import helper\n",
        "low/helper.py": "def f():\n    from high.user import thing\n    return thing\n",
        "high/__init__.py": "",
        "high/user.py": "from low.core import os\nfrom . import other\nthing = 1\n",
        "high/other.py": "from ..low import helper\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    edges = upward_imports(tmp_path, ("low", "high"), {"low": 1, "high": 2})
    assert [(e[0], e[1], e[2], e[4]) for e in edges] == [("low/helper.py", 2, "low.helper", "high.user")]
    assert "low/helper.py:2: low.helper (layer 1, models and I/O) -> high.user (layer 2, recipes)" == describe(edges[0])
    assert against_the_direction(edges, {}) == (edges, [])
    assert against_the_direction(edges, {("low.helper", "high.user"): "why"}) == ([], [])
    assert against_the_direction([], {("low.helper", "high.user"): "why"}) == ([], [("low.helper", "high.user")])
