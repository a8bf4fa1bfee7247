"""The package's layers: no module imports one above it, and no imports go round in a circle
(function-level imports included)."""

import ast
from pathlib import Path

import bachgan

ARCHITECTURE = Path(__file__).parents[1] / "docs" / "ARCHITECTURE.md"


def read_layers(text: str) -> list[set[str]]:
    """The layer table under docs/ARCHITECTURE.md's "## Layers", bottom to top: a module may
    import its own layer and those below. ``__init__`` is the package itself."""
    section = text.split("\n## Layers", 1)[1]
    layers = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].isdigit():
            names = [name.strip().replace("\\_", "_") for name in cells[1].split(",")]
            layers.append({"" if name == "__init__" else name for name in names})
    return layers


LAYERS = read_layers(ARCHITECTURE.read_text(encoding="utf-8"))
PACKAGE = Path(bachgan.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The bachgan modules ``path`` imports, anywhere in the file."""
    own = module_name(path).split(".") if module_name(path) else []
    package = own if path.name == "__init__.py" else own[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom) or not node.level:
            continue
        base = package[: len(package) - node.level + 1]
        target = [*base, *(node.module.split(".") if node.module else [])]
        for alias in node.names:
            candidate = ".".join([*target, alias.name])
            found.add(candidate if candidate in MODULES else ".".join(target))
    return found - {""} if module_name(path) else found


MODULES = {module_name(p) for p in PACKAGE.rglob("*.py")}


def layer(module: str) -> int:
    return next(index for index, names in enumerate(LAYERS) if module in names)


def test_every_module_has_a_layer():
    assert len(LAYERS) >= 8
    assert set().union(*LAYERS) == MODULES


def test_no_module_imports_one_above_it():
    above = [
        (module_name(path), imported)
        for path in PACKAGE.rglob("*.py")
        for imported in imports_of(path)
        if layer(imported) > layer(module_name(path))
    ]
    assert above == []


def test_no_import_circle():
    graph = {module_name(p): imports_of(p) - {module_name(p)} for p in PACKAGE.rglob("*.py")}
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for imported in graph.get(module, ()):
            assert state.get(imported) != "open", " -> ".join([*trail, imported])
            if imported not in state:
                visit(imported, [*trail, imported])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [module])
