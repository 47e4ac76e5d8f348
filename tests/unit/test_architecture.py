"""The shape of the code, read with the standard library's `ast`: imports run one way inside every package,
a message's state changes only in the composer's domain, and no service's tests lean on another service."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {
    "hlasatel_registry": ROOT / "services/registry",
    "hlasatel_composer": ROOT / "services/composer",
    "hlasatel_dispatch_sms": ROOT / "services/dispatch-sms",
    "hlasatel_dispatch_email": ROOT / "services/dispatch-email",
    "hlasatel_dispatch_push": ROOT / "services/dispatch-push",
    "hlasatel_console": ROOT / "services/console",
    "hlasatel_public_web": ROOT / "services/public-web",
}
LIBRARIES = {
    "hlasatel_contracts": ROOT / "contracts",
    "hlasatel_runtime": ROOT / "libs/runtime",
    "hlasatel_dispatch": ROOT / "libs/dispatch-core",
    "hlasatel_web": ROOT / "libs/web",
    "hlasatel_devstack": ROOT / "devstack",
}
PACKAGES = SERVICES | LIBRARIES


def modules(package: str) -> dict[str, Path]:
    """Every module of a package by its dotted name."""
    source = PACKAGES[package] / "src" / package
    found = {}
    for path in sorted(source.rglob("*.py")):
        parts = path.relative_to(source.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """What a module imports, wherever the import statement is (a function-level import counts too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def import_graph(package: str) -> dict[str, set[str]]:
    known = modules(package)
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for target, _ in imported(ast.parse(path.read_text(), str(path))):
            if target in known and target != name:
                graph[name].add(target)
    return graph


def a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as the modules around it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_package_imports_itself_in_a_circle(package: str) -> None:
    cycle = a_cycle(import_graph(package))
    assert cycle is None, "an import cycle: " + " → ".join(cycle or [])


def test_the_cycle_finder_finds_one() -> None:
    """The check above can fail: a bootstrap and an entrypoint importing each other, as they once did."""
    graph = {"bootstrap": {"entrypoints.api"}, "entrypoints.api": {"deps"}, "deps": {"bootstrap"}}
    assert a_cycle(graph) == ["bootstrap", "entrypoints.api", "deps", "bootstrap"]
    assert a_cycle({"a": {"b"}, "b": set()}) is None


def state_writes(tree: ast.AST) -> Iterator[int]:
    """Lines that set a message's state: `x.state = …` (or +=, or annotated), `MessageRow(state=…)`, and
    `update(MessageRow)….values(state=…)`."""
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        while targets:
            target = targets.pop()
            if isinstance(target, ast.Tuple | ast.List):
                targets.extend(target.elts)
            elif isinstance(target, ast.Attribute) and target.attr == "state":  # not `app.state.x = …`
                yield node.lineno
        if isinstance(node, ast.Call) and any(k.arg == "state" for k in node.keywords):
            called = ast.unparse(node.func)
            if called == "MessageRow" or (called.endswith(".values") and "update(MessageRow)" in called):
                yield node.lineno
        if (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) == "setattr"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "state"
        ):
            yield node.lineno


def test_only_the_composers_domain_sets_a_messages_state() -> None:
    source = SERVICES["hlasatel_composer"] / "src" / "hlasatel_composer"
    outside = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted(source.rglob("*.py"))
        if "domain" not in path.relative_to(source).parts
        for line in state_writes(ast.parse(path.read_text(), str(path)))
    ]
    assert outside == []
    inside = [
        line
        for path in (source / "domain").rglob("*.py")
        for line in state_writes(ast.parse(path.read_text()))
    ]
    assert inside, "the domain sets the state, so the check above finds what it looks for"


@pytest.mark.parametrize(
    "code",
    [
        "row.state = 'sent'",
        "other, row.state = 1, 'sent'",
        "message.row.state += ''",
        "MessageRow(id=1, state='draft')",
        "update(MessageRow).where(MessageRow.id == 1).values(state='cancelled')",
        "setattr(row, 'state', 'done')",
    ],
)
def test_the_state_check_sees_every_way_of_writing_it(code: str) -> None:
    assert list(state_writes(ast.parse(code)))


@pytest.mark.parametrize(
    "code", ["update(DeliveryRow).values(state=bindparam('b_state'))", "app.state.composer = composer"]
)
def test_what_is_not_a_messages_state(code: str) -> None:
    assert not list(state_writes(ast.parse(code)))


def _test_files(root: Path) -> Iterator[Path]:
    yield from sorted((root / "tests").rglob("*.py"))


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_tests_of_a_package_import_another_service(package: str) -> None:
    """A service's tests, and a library's, use their own code, the libraries and devstack's kit: another
    service is reached over the bus or HTTP, as in production. (The cross-service tests are tests/.)"""
    others = set(SERVICES) - {package}
    leaning = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in _test_files(PACKAGES[package])
        for target, line in imported(ast.parse(path.read_text(), str(path)))
        if target.split(".")[0] in others
    ]
    assert leaning == []


@pytest.mark.parametrize("package", sorted(LIBRARIES))
def test_no_library_imports_a_service(package: str) -> None:
    leaning = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in modules(package).values()
        for target, line in imported(ast.parse(path.read_text(), str(path)))
        if target.split(".")[0] in SERVICES
    ]
    assert leaning == []


@pytest.mark.parametrize("package", sorted(SERVICES))
def test_no_service_imports_another(package: str) -> None:
    """Services meet over the bus or HTTP only; the console reads and writes through the composer's and the
    registry's APIs, as GOV.UK Notify's admin does."""
    others = set(SERVICES) - {package}
    leaning = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in modules(package).values()
        for target, line in imported(ast.parse(path.read_text(), str(path)))
        if target.split(".")[0] in others
    ]
    assert leaning == []


@pytest.mark.parametrize("package", ["hlasatel_console", "hlasatel_public_web"])
def test_the_web_pages_keep_no_database_of_their_own(package: str) -> None:
    drivers = ("sqlalchemy", "sqlite3", "psycopg", "asyncpg", "aiosqlite", "alembic", "aiokafka")
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in modules(package).values()
        for target, line in imported(ast.parse(path.read_text(), str(path)))
        if target.split(".")[0] in drivers
    ]
    assert found == []
