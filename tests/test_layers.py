"""The house rule: imports between the package's layers only go down, and no module imports itself
back through a circle (module-level and function-level imports both count; parsed with `ast`)."""

import ast
from pathlib import Path

import hieralign

ROOT = Path(hieralign.__file__).parent
# layer -> rank; a module may import from its own layer, from lower ranks, and from `utils`.
RANK = {"knowledge": 0, "data": 1, "lines": 1, "models": 2, "train": 3, "eval": 3, "index": 4, "export": 4,
        "serve": 4, "recognize": 4, "transcribe": 4, "testing": 5, "demo": 6, "cli": 6, "defaults": 0, "errors": -1, "utils": -1, "__init__": -1}


def _modules() -> dict[str, Path]:
    mods = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
            module = ".".join(base[: len(base) - node.level + 1] + [node.module or ""]) if node.level else node.module
            targets = [f"{module}.{a.name}" for a in node.names] + [module or ""]
        else:
            continue
        for target in targets:
            while target and target not in mods:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith("hieralign") and not name.startswith(target + "."):
                found.add(target)
    return found


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {name: _imports(name, path, mods) for name, path in mods.items()}


def test_every_module_belongs_to_a_known_layer():
    assert {_layer(m) for m in _graph()} <= set(RANK)


def test_no_upward_import_between_layers():
    upward = [f"{m} -> {t}" for m, targets in _graph().items() for t in targets
              if RANK[_layer(t)] > RANK[_layer(m)] and _layer(m) not in ("utils", "errors", "__init__")
              and _layer(t) not in ("utils",)]
    assert not upward, upward


def test_library_never_imports_test_support():
    users = [m for m, targets in _graph().items() if any(_layer(t) == "testing" for t in targets)
             and _layer(m) != "testing"]
    assert not users, users


def test_no_import_circle():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            assert cycle is None, " -> ".join(cycle)
