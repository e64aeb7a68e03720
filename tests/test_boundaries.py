"""Import boundaries of the tree: each rule read from the source (every import, also inside functions)
and, where transitive imports matter, checked in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_LIBRARIES = {"torch", "torchvision", "ultralytics", "transformers", "onnxruntime", "onnx"}
WEB_FRAMEWORK = {"flask", "flask_cors", "werkzeug"}


def imports_of(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def offenders(folder: str, forbidden: set[str], *, files: str = "**/*.py") -> dict[str, set[str]]:
    found = {}
    for path in sorted((REPO_ROOT / folder).glob(files)):
        bad = {name for name in imports_of(path) if any(_within(name, f) for f in forbidden)}
        if bad:
            found[str(path.relative_to(REPO_ROOT))] = bad
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def modules_loaded_by(statement: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after ``statement`` runs in a fresh interpreter."""
    probe = f"{statement}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_the_core_imports_no_model_library():
    assert offenders("apis/core", MODEL_LIBRARIES) == {}


def test_loading_the_core_and_a_service_contract_loads_no_model_library():
    loaded = modules_loaded_by("import apis.core.app, apis.core.hooks, apis.core.predict_route")
    assert loaded & MODEL_LIBRARIES == set()


def test_serving_never_imports_the_export_package():
    for folder in ("apis/core", "apis/detection", "apis/depth", "apis/runtimes"):
        assert offenders(folder, {"apis.export"}) == {}


@pytest.mark.parametrize("folder", ["apis/detection", "apis/depth"])
def test_model_services_import_no_web_framework(folder):
    """Services implement the core's hooks; HTTP is the core's (apis.core.predict_route)."""
    assert offenders(folder, WEB_FRAMEWORK) == {}


@pytest.mark.parametrize("service", ["detection", "depth"])
def test_backends_never_read_the_service_settings(service):
    """Each backend takes its own small config from the factory in backends.py, so the torch backend
    never sees the ONNX paths and the onnx backend never sees the weights cache or download switch."""
    assert offenders(f"apis/{service}", {f"apis.{service}.settings"}, files="*model.py") == {}
    assert {path.name for path in (REPO_ROOT / "apis" / service).glob("*model.py")} == {
        "model.py",
        "onnx_model.py",
    }


def test_the_hook_contract_and_errors_load_no_web_framework():
    assert modules_loaded_by("import apis.core.hooks, apis.core.errors") & WEB_FRAMEWORK == set()


def test_the_manifest_the_export_writes_needs_only_the_standard_library():
    loaded = modules_loaded_by("import apis.runtimes.onnx_manifest")
    third_party = {m for m in loaded if m not in sys.stdlib_module_names and not m.startswith("_")}
    assert third_party == {"apis"}


def test_no_launcher_or_routes_table_inside_apis():
    """The launcher runs all three services, the UI included; the routes table is read by the UI too."""
    assert offenders("apis", {"delivery.launcher", "ui"}) == {}
    assert not (REPO_ROOT / "apis" / "launcher.py").exists()
    assert not (REPO_ROOT / "apis" / "routes.py").exists()  # the table lives once, in delivery/


def test_the_ui_imports_nothing_from_apis():
    assert offenders("ui", {"apis"}) == {}
    assert modules_loaded_by("import ui.client, ui.drawing, ui.report, ui.settings") & {"apis"} == set()


def test_make_run_starts_the_launcher_module_that_exists():
    makefile = (REPO_ROOT / "Makefile").read_text()
    module = makefile.split("\nrun:", 1)[1].split("-m ", 1)[1].split()[0]
    assert module == "delivery.launcher"
    help_text = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "--models {real,demo}" in help_text
