"""ONNX export of the configured models (``python -m apis.export``), run at build time with torch.

The exporters (:mod:`apis.export.detection`, :mod:`apis.export.depth`) need torch and the model
libraries. What they write, and what the served ONNX backends read, is described by
:mod:`apis.runtimes.onnx_manifest` (standard library only); serving never imports this package.
"""
