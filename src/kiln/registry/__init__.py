"""The model registry: registered models, versions, stages, aliases, approvals, and the model folder format.

Kept empty on purpose: the SDK imports ``kiln.registry.model_format`` (and the flavor loaders) without
SQLAlchemy or FastAPI, so importing this package must pull in nothing else.
"""
