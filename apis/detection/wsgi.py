"""gunicorn entry point: ``gunicorn -c python:apis.core.gunicorn_conf apis.detection.wsgi:app``.

The only module of the detection API that reads the environment.
"""

from apis.core.app import create_app
from apis.core.settings import CoreSettings
from apis.detection.service import DetectionService
from apis.detection.settings import DetectionSettings

core_settings = CoreSettings()
app = create_app(DetectionService(DetectionSettings(), core_settings), core_settings)
