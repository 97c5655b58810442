"""Kiln: a self-hostable MLOps platform."""

__version__ = "0.1.0"
