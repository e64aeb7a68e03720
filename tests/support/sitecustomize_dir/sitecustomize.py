"""Loaded by servers that tests start (via PYTHONPATH): installs the same network guard."""

import os
import sys

sys.path.insert(0, os.environ["NETGUARD_SUPPORT_DIR"])
import netguard

netguard.install()

# Test hook for servers started by tests: make every model call slow, so a test can catch a
# request in flight (graceful shutdown, overload). Never set outside tests.
_slow_s = float(os.environ.get("OBJDEPTH_TEST_SLOW_PREDICT_S", "0") or 0)
if _slow_s:
    import time

    from apis.detection import model as _detection_model

    _original_predict = _detection_model.YoloDetector.predict

    def _slow_predict(detector, *args, **kwargs):
        time.sleep(_slow_s)
        return _original_predict(detector, *args, **kwargs)

    _detection_model.YoloDetector.predict = _slow_predict
