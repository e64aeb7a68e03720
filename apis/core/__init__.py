"""What both model APIs share: app factory, settings, errors, image decoding, health and metrics.

Nothing in here imports a model library; each model service plugs in by implementing the hooks of
:class:`apis.core.hooks.ModelService`, which :mod:`apis.core.predict_route` calls in one pass.
"""
