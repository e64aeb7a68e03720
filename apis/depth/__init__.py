"""Depth API: Depth Anything V2 through transformers, with per-object depth (``POST /predict_depth``)."""
