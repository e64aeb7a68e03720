"""ONNX export of the configured models (``python -m apis.export``) and what the ONNX backends share.

The exporters (:mod:`apis.export.detection`, :mod:`apis.export.depth`) need torch and the model
libraries; :mod:`apis.export.manifest` and :mod:`apis.export.runtime` need neither, so the served
ONNX backends import only those two.
"""
