"""What both model APIs share: app factory, settings, errors, image decoding, health and metrics.

Nothing in here imports a model library; each model service plugs in through
:class:`apis.core.service.ModelService`.
"""
