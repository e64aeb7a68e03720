"""What the model backends share per runtime: torch's device and threads, ONNX Runtime's session and
the manifest of an exported model, and how each backend's small config is filled from a service's
settings (``backend_config``). Serving and the offline export both import from here; the core
imports none of it (no model library in ``apis.core``).
"""
