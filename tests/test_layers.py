"""The apps are layers, and imports flow one way: core ← aap ← candidatures ← evaluation ←
conventions ← archives ← retention ← api, with demo (and the bench and the tests) on top.

Read with ``ast``, every import counts, also those inside functions: a module may import
its own app and the apps below it, never one above.
"""

import ast
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LAYERS = [
    "core",
    "aap",
    "candidatures",
    "evaluation",
    "conventions",
    "archives",  # a dossier's and a call's archive (ZIP): reads every layer below
    "retention",  # retention periods, the bordereau d'élimination, its visa and the purge
    "api",  # the open API (JSON, OpenAPI, Atom) and staff tokens: reads every layer below
    "demo",
]
# Settings, URLs and Celery, read by every layer (the kernel starts Celery's app).
SHARED = {"config"}
# A module past this many lines becomes a package (the bench and migrations aside).
MAX_LINES = 600
MAX_VIEW_LINES = 400


def imported_apps(path: Path) -> set[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update((name.split(".")[0], node.lineno) for name in names)
    return found


def modules_of(app: str):
    for path in sorted((BASE_DIR / app).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def test_no_app_imports_an_app_above_it():
    wrong = []
    for rank, app in enumerate(LAYERS):
        allowed = set(LAYERS[: rank + 1]) | SHARED
        forbidden = set(LAYERS) - allowed
        for path in modules_of(app):
            for imported, line in imported_apps(path):
                if imported in forbidden:
                    wrong.append(f"{path.relative_to(BASE_DIR)}:{line} imports {imported}")
    assert wrong == []


def test_the_kernel_knows_no_call_dossier_score_or_agreement():
    wrong = [
        f"{path.relative_to(BASE_DIR)}:{line} imports {imported}"
        for path in modules_of("core")
        for imported, line in imported_apps(path)
        if imported in set(LAYERS) - {"core"}
    ]
    assert wrong == []


def test_the_layer_test_sees_an_upward_import(tmp_path):
    """The check itself: an import inside a function is found."""
    module = tmp_path / "module.py"
    module.write_text("def late():\n    from evaluation.models import Score\n")
    assert ("evaluation", 2) in imported_apps(module)


def test_no_module_is_too_long():
    long = []
    for app in LAYERS:
        for path in modules_of(app):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            limit = MAX_VIEW_LINES if "views" in path.parts or path.stem == "views" else MAX_LINES
            if lines > limit:
                long.append(f"{path.relative_to(BASE_DIR)}: {lines} lines (at most {limit})")
    assert long == []
