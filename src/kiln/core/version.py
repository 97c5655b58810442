"""Kiln's version, importable from any layer (the package's __init__ pulls in the SDK)."""

VERSION = "0.1.0"
