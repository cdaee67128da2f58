"""The architecture of docs/architecture.md, enforced: which parts may import which, and no
import cycle between parts.

A part is a subpackage of ``motiongen`` (``io``, ``data``, ``models`` ...) or a top-level
module (``motion``, ``features`` ...). Every import counts, at module level or inside a
function, except those under ``if TYPE_CHECKING:`` (annotations only).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "motiongen"

# part -> parts it must never import
FORBIDDEN: dict[str, set[str]] = {
    # the core: a motion and what is done to one alone (a loop) know nothing above them
    "motion": {"postprocess", "pipeline", "serve", "cli", "train", "eval", "evaluators",
               "generation", "data", "models", "generative", "conditioning", "retrieval"},
    "loop": {"postprocess", "pipeline", "serve", "cli", "train", "eval", "evaluators",
             "generation", "data", "models", "generative", "conditioning", "retrieval", "io"},
    # networks and samplers know nothing of data, conditioning encoders or the layers above
    "models": {"conditioning", "data", "pipeline", "serve", "cli", "train", "eval", "evaluators",
               "generation", "generative", "io", "postprocess", "checkpoint"},
    "generative": {"conditioning", "data", "pipeline", "serve", "cli", "train", "eval",
                   "evaluators", "generation", "models", "io", "postprocess", "checkpoint"},
    # data preparation and post-processing use the core artifact measures, never eval
    "data": {"eval", "evaluators", "pipeline", "serve", "cli", "train"},
    "postprocess": {"eval", "evaluators", "data", "pipeline", "serve", "cli", "train"},
    "io": {"data", "eval", "pipeline", "serve", "cli", "train", "conditioning"},
    # metrics, the evaluation loop and reports take generate functions, not pipelines
    "eval": {"pipeline", "train", "serve", "cli"},
    "evaluators": {"eval", "pipeline", "serve", "cli", "generation"},
    "generation": {"pipeline", "serve", "cli", "train", "eval", "data"},
    "conditioning": {"data", "eval", "pipeline", "serve", "cli", "train", "models"},
    "pipeline": {"serve", "cli", "train", "eval", "data"},
    "train": {"pipeline", "serve", "cli", "eval", "evaluators"},
    "serve": {"cli", "train", "eval"},
    "artifacts": {"eval", "data", "postprocess", "pipeline", "io"},
    # stick figures are drawn from motions; the story engine will drive the pipeline
    "stick": {"serve", "cli", "train", "eval", "evaluators", "models", "generative"},
    # the stick-native model family trains its own networks; it never drives the 3-D pipeline
    "stickgen": {"pipeline", "serve", "cli"},
    # retrieval indexes data and builds priors; generation and the pipeline call it
    "retrieval": {"pipeline", "generation", "serve", "cli", "train", "eval"},
    # capture lifts keypoints with its own small network; it never generates
    "capture": {"pipeline", "generation", "generative", "models", "serve", "cli", "train",
                "eval", "evaluators"},
}  # fmt: skip

# Import edges that are allowed to close a cycle, with the reason.
ALLOWED_CYCLE_EDGES = {
    ("motion", "io"): "Motion.save(path) is a convenience facade over motiongen.io.save",
}


def part_of(module: str) -> str | None:
    """``motiongen.io.bvh`` -> ``io``; ``motiongen.motion`` -> ``motion``; the package's own
    ``__init__`` (the public facade) -> None."""
    parts = module.split(".")
    if parts[0] != "motiongen" or len(parts) < 2:
        return None
    return parts[1]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(tree: ast.AST) -> list[str]:
    """Absolute module names imported anywhere in ``tree`` outside TYPE_CHECKING blocks."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(package: Path) -> dict[str, dict[str, str]]:
    """part -> {imported part: a file that imports it}, for every .py under ``package``."""
    graph: dict[str, dict[str, str]] = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        src = part_of(module)
        if src is None:
            continue
        edges = graph.setdefault(src, {})
        for name in imports_of(ast.parse(path.read_text(), filename=str(path))):
            dst = part_of(name)
            if dst is None or dst == src:
                continue
            if (package / dst).is_dir() or (package / f"{dst}.py").is_file():
                edges.setdefault(dst, str(path.relative_to(package.parent)))
    return graph


def violations(graph: dict[str, dict[str, str]]) -> list[str]:
    out = []
    for src, banned in FORBIDDEN.items():
        for dst in sorted(banned & set(graph.get(src, {}))):
            out.append(f"{src} imports {dst} ({graph[src][dst]})")
    return out


def cycles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one part (Tarjan), allowed edges removed."""
    edges = {s: [d for d in ds if (s, d) not in ALLOWED_CYCLE_EDGES] for s, ds in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, []):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strongconnect(v)
    return found


def test_layers_are_respected():
    graph = import_graph(PACKAGE)
    assert {"models", "generative", "data", "eval", "pipeline"} <= set(graph)
    assert violations(graph) == []


def test_no_import_cycle_between_parts():
    assert cycles(import_graph(PACKAGE)) == []


def test_allowed_cycle_edges_still_exist():
    # An allowance whose import is gone should be removed, not kept as a silent loophole.
    graph = import_graph(PACKAGE)
    for src, dst in ALLOWED_CYCLE_EDGES:
        assert dst in graph.get(src, {}), (src, dst)


@pytest.mark.parametrize(
    ("file", "source", "expected"),
    [
        # the kind of import this test exists to stop: a network reaching for data
        ("models/bad.py", "from motiongen.data.store import PreparedData\n",
         "models imports data"),
        # ... and a lazy one inside a function counts just the same
        ("postprocess/bad.py", "def f():\n    from motiongen.eval import sanity\n",
         "postprocess imports eval"),
    ],
)  # fmt: skip
def test_a_deliberately_wrong_import_is_caught(tmp_path, file, source, expected):
    root = tmp_path / "motiongen"
    for part in ("models", "data", "postprocess", "eval"):
        (root / part).mkdir(parents=True)
        (root / part / "__init__.py").write_text("")
    (root / file).write_text(source)
    found = violations(import_graph(root))
    assert len(found) == 1 and found[0].startswith(expected), found


def test_a_cycle_is_caught(tmp_path):
    root = tmp_path / "motiongen"
    for part, imports in (("a", "b"), ("b", "c"), ("c", "a")):
        (root / part).mkdir(parents=True)
        (root / part / "__init__.py").write_text(f"import motiongen.{imports}\n")
    assert cycles(import_graph(root)) == [["a", "b", "c"]]


def test_type_checking_imports_do_not_count():
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from motiongen.data import x\n"
        "import motiongen.io\n"
    )
    assert "motiongen.data" not in imports_of(tree) and "motiongen.io" in imports_of(tree)
