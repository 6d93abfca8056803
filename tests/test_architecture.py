"""The package's layers: a vocabulary leaf, one statement of each shared rule, no import cycle.

Reads the code with :mod:`ast`, so what it checks is what a reader sees: module-level imports
(those inside functions, and those only for type checkers, are not dependencies at import time).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from accounts import vocabulary
from accounts.ledger.sql import common as sql_common
from accounts.models import Account, Kind

from .factories import AccountFactory

PACKAGE = Path(vocabulary.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            pending += node.body + node.orelse
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody
            for handler in node.handlers:
                pending += handler.body
    return found


def import_graph(modules: set[str] | None = None) -> dict[str, set[str]]:
    """Module name -> the ``accounts`` modules it imports at module level."""
    paths = {
        _module_name(path): path
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.relative_to(PACKAGE).parts
    }
    known = set(paths)
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _top_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                bases = [alias.name for alias in node.names]
                names: list[str] = []
            else:
                base = package
                for _ in range(max(node.level - 1, 0)):
                    base = base.rpartition(".")[0]
                module = node.module or ""
                base = (f"{base}.{module}" if module else base) if node.level else module
                bases = [base]
                names = [f"{base}.{alias.name}" for alias in node.names]
            for candidate in [*bases, *names]:
                if candidate in known and candidate != name:
                    targets.add(candidate)
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_module_of_the_package_imports_itself_round_a_cycle():
    graph = import_graph()
    assert len(graph) > 30
    assert find_cycle(graph) is None


def test_the_cycle_finder_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


#: The layers of the package, bottom first, as docs/architecture.rst draws them. A module belongs
#: to the layer of the longest name here that it equals or sits under.
LAYERS: list[tuple[str, list[str]]] = [
    (
        "leaves",
        [
            "accounts",
            "accounts.apps",
            "accounts.codes",
            "accounts.compat",
            "accounts.conf",
            "accounts.exceptions",
            "accounts.fields",
            "accounts.ledger",
            "accounts.ledger.sql",
            "accounts.money",
            "accounts.progress",
            "accounts.roles",
            "accounts.rules",
            "accounts.tree",
            "accounts.vocabulary",
        ],
    ),
    ("queries", ["accounts.ledger.balances", "accounts.managers"]),
    ("models", ["accounts.models"]),
    (
        "engine",
        [
            "accounts.audit",
            "accounts.checks",
            "accounts.events",
            "accounts.integrity",
            "accounts.ledger.checks",
            "accounts.ledger.idempotency",
            "accounts.ledger.periods",
            "accounts.ledger.posting",
            "accounts.ledger.posting_bulk",
            "accounts.ledger.posting_sql",
            "accounts.ledger.retries",
            "accounts.signals",
        ],
    ),
    ("public API", ["accounts.facade", "accounts.reports", "accounts.statements"]),
    (
        "surfaces",
        [
            "accounts.admin",
            "accounts.api",
            "accounts.dashboard",
            "accounts.management",
            "accounts.outbox",
            "accounts.templatetags",
        ],
    ),
]


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of ``module``'s layer (KeyError: in none)."""
    best: tuple[int, int] | None = None
    for index, (_, names) in enumerate(LAYERS):
        for name in names:
            if module == name or (name != "accounts" and module.startswith(name + ".")):
                if best is None or len(name) > best[0]:
                    best = (len(name), index)
    if best is None:
        raise KeyError(module)
    return best[1]


def test_every_module_belongs_to_a_layer():
    assert {module: layer_of(module) for module in import_graph()}


def test_every_module_level_import_points_to_its_own_layer_or_one_below():
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in import_graph().items()
        for target in targets
        if layer_of(target) > layer_of(module)
    ]
    assert upward == []


def test_the_layer_check_sees_an_import_going_up():
    assert layer_of("accounts.models.account") > layer_of("accounts.ledger.balances")
    assert layer_of("accounts.ledger.posting_sql") > layer_of("accounts.ledger.sql.postgresql")
    assert layer_of("accounts.facade.transfers") > layer_of("accounts.ledger.posting")
    assert layer_of("accounts.dashboard.views") > layer_of("accounts.facade")


def test_the_vocabulary_is_a_leaf_that_imports_nothing_of_the_app():
    assert import_graph()["accounts.vocabulary"] == set()


def test_the_trigger_sql_modules_import_only_the_vocabulary_and_what_they_share():
    """No models, facade or integrity: the vendors' SQL is a layer below all of them."""
    shared = {"__future__", "accounts.vocabulary", "accounts.ledger.sql.common"}
    modules = sorted((PACKAGE / "ledger" / "sql").glob("*.py"))
    stems = [path.stem for path in modules]
    assert stems == ["__init__", "common", "mysql", "postgresql", "sqlite"]
    for path in modules:
        # The vendors may also read the frozen SQL's schema placeholder.
        allowed = shared if path.stem == "common" else shared | {"accounts.migrations.sql"}
        imported: set[str | None] = set()
        for node in _top_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            assert isinstance(node, ast.ImportFrom) and not node.level, path.name
            imported.add(node.module)
        assert imported <= allowed, path.name


def test_models_reach_up_a_layer_only_through_their_one_gateway():
    importing = {
        f"{path.stem}.{node.name}": sorted(
            alias.name
            for inner in ast.walk(node)
            if isinstance(inner, ast.ImportFrom)
            for alias in inner.names
        )
        for path in (PACKAGE / "models").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef)
        and any(isinstance(inner, (ast.Import, ast.ImportFrom)) for inner in ast.walk(node))
    }
    assert importing == {"account._facade": ["facade"]}


def test_the_as_of_builder_imports_no_model():
    assert not {
        target for target in import_graph()["accounts.ledger.balances"] if "models" in target
    }


# -- the sign rule, stated once -----------------------------------------------------------------


def test_the_equation_sides_split_every_kind_by_its_sign():
    assert set(vocabulary.EQUATION_LEFT) == set(vocabulary.DEBIT_NORMAL_KINDS)
    assert set(vocabulary.EQUATION_LEFT) | set(vocabulary.EQUATION_RIGHT) == set(Kind)
    assert not set(vocabulary.EQUATION_LEFT) & set(vocabulary.EQUATION_RIGHT)
    assert all(vocabulary.normal_sign(k) == -1 for k in vocabulary.EQUATION_LEFT)
    assert all(vocabulary.normal_sign(k) == 1 for k in vocabulary.EQUATION_RIGHT)


@pytest.mark.django_db
def test_the_orm_sign_agrees_with_the_python_sign_for_every_kind():
    for kind in Kind:
        AccountFactory(kind=kind, code=f"SIGN-{kind.value}", credit_limit=None)
    signs = dict(
        Account.objects.filter(code__startswith="SIGN-")
        .annotate(sign=vocabulary.normal_sign_expression())
        .values_list("kind", "sign")
    )
    assert signs == {kind.value: vocabulary.normal_sign(kind) for kind in Kind}


def test_the_sql_list_of_debit_normal_kinds_comes_from_the_vocabulary():
    assert vocabulary.debit_normal_sql() == "('asset', 'expense')"
    # The triggers use it; no Python module spells the list out by hand.
    assert sql_common.DEBIT_NORMAL == vocabulary.debit_normal_sql()
    spelled = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.relative_to(PACKAGE).parts
        and "('asset', 'expense')" in path.read_text(encoding="utf-8")
    ]
    assert spelled == []


def test_the_dashboards_post_actions_share_one_skeleton():
    from accounts.dashboard import common, confirmations, hold_views, views

    actions = [
        views.AccountTopUpView,
        views.AccountWithdrawView,
        confirmations.AccountFreezeView,
        confirmations.AccountThawView,
        confirmations.AccountCloseView,
        confirmations.TransferReverseView,
        confirmations.TransferRefundView,
        hold_views.HoldCaptureView,
        hold_views.HoldVoidView,
    ]
    for view in actions:
        assert issubclass(view, common.FacadeActionMixin), view.__name__
        assert view.perform is common.FacadeActionMixin.perform, view.__name__


#: The longest a function of the package may be, as STYLE.md asks ("about 70 lines").
FUNCTION_LINES_MAX = 70


def test_no_function_of_the_package_is_longer_than_its_limit():
    long = [
        f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({length} lines)"
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.relative_to(PACKAGE).parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and (length := node.end_lineno - node.lineno + 1) > FUNCTION_LINES_MAX
    ]
    assert long == []


#: The longest a module of the package may be, as STYLE.md asks ("about 500 lines").
MODULE_LINES_MAX = 500


def test_no_module_of_the_package_is_longer_than_its_limit():
    long = [
        f"{path.relative_to(PACKAGE)} ({length} lines)"
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.relative_to(PACKAGE).parts
        and (length := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LINES_MAX
    ]
    assert long == []
