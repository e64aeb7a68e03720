"""gunicorn entry point: ``gunicorn -c python:apis.core.gunicorn_conf apis.depth.wsgi:app``.

The only module of the depth API that reads the environment.
"""

from apis.core.app import create_app
from apis.core.settings import CoreSettings
from apis.depth.service import DepthService
from apis.depth.settings import DepthSettings

core_settings = CoreSettings()
app = create_app(DepthService(DepthSettings(), core_settings), core_settings)
