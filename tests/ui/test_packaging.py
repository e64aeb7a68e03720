"""The UI image installs only the ``ui`` dependency group and copies only ``ui/`` and the routes table."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.support.servers import REPO_ROOT

UI_DIR = REPO_ROOT / "ui"
# streamlit brings altair, pandas and numpy; pydantic-settings brings pydantic.
ALLOWED = {
    "streamlit",
    "altair",
    "pandas",
    "numpy",
    "requests",
    "PIL",
    "pydantic",
    "pydantic_settings",
    "prometheus_client",
    "ui",
}
ALLOWED |= {"cryptography"}  # ui/identity.py checks the load balancer's signed identity header


def test_ui_modules_import_only_the_ui_group_and_the_routes_table():
    imported: set[str] = set()
    for path in UI_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    third_party = {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names}
    assert {name for name in third_party if name.split(".")[0] not in ALLOWED} == {"delivery.routes"}


def test_loading_the_ui_modules_loads_no_model_library():
    probe = (
        "import sys, ui.client, ui.drawing, ui.report, ui.settings, ui.uploads, ui.markup, ui.live_metrics\n"
        "heavy = {'torch', 'ultralytics', 'transformers', 'flask'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy"
        " or m == 'apis' or m.startswith('apis.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_streamlit_reads_the_page_config_from_any_directory_and_the_cookie_secret_from_the_environment(
    tmp_path,
):
    """As ``streamlit run ui/app.py`` does (web/cli.py): the script's own .streamlit/config.toml counts."""
    probe = (
        "from streamlit import config\n"
        f"config._main_script_path = {str(UI_DIR / 'app.py')!r}\n"
        "config.get_config_options(force_reparse=True)\n"
        "names = ('server.maxUploadSize', 'server.enableXsrfProtection', 'browser.gatherUsageStats',"
        " 'server.cookieSecret')\n"
        "print([config.get_option(name) for name in names])"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "STREAMLIT_SERVER_COOKIE_SECRET": "same-on-every-replica",
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[100, True, False, 'same-on-every-replica']"
