"""The package's shape: data flows one way, so no module imports (even inside a function) a module that
imports it back. Read from the source with `ast`; nothing is imported."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "feint"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Every feint module `path` imports, at module level or in a function, `TYPE_CHECKING` included: a
    cycle through a type-only import is still a knot a reader must untie."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `from feint.x import name` names module feint.x
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    known = {module_name(p) for p in paths}
    graph = {module_name(p): imported_modules(p, known) for p in paths}
    # A package's __init__ that gathers its modules (the CLI's commands, a package's public names) while
    # they import it back is how Python packages are built, not a knot: a module's edge to its own package
    # is left out.
    return {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in graph.items()}


def test_no_module_imports_one_that_imports_it_back():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as err:
        raise AssertionError(f"import cycle: {' -> '.join(err.args[1])}") from None


def test_the_cycle_check_finds_a_cycle():
    """The check above can fail: two modules importing each other are reported."""
    graph = import_graph()
    graph["feint.graph.loader"] = graph["feint.graph.loader"] | {"feint.studies.spec"}
    graph["feint.studies.spec"] = graph["feint.studies.spec"] | {"feint.graph.loader"}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError:
        return
    raise AssertionError("a planted cycle was not found")
