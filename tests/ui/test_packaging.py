"""The UI image installs only the ``ui`` dependency group and copies only ``ui/`` and ``apis/routes.py``."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.support.servers import REPO_ROOT

UI_DIR = REPO_ROOT / "ui"
# streamlit brings altair, pandas and numpy; pydantic-settings brings pydantic.
ALLOWED = {"streamlit", "altair", "pandas", "numpy", "requests", "PIL", "pydantic", "pydantic_settings", "ui"}


def test_ui_modules_import_only_the_ui_group_and_the_routes_table():
    imported: set[str] = set()
    for path in UI_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    third_party = {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names}
    assert {name for name in third_party if name.split(".")[0] not in ALLOWED} == {"apis.routes"}


def test_loading_the_ui_modules_loads_no_model_library():
    probe = (
        "import sys, ui.client, ui.drawing, ui.report, ui.settings\n"
        "heavy = {'torch', 'ultralytics', 'transformers', 'flask'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy"
        " or (m.startswith('apis.') and m != 'apis.routes')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
