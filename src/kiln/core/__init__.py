"""Shared foundations: settings, database, errors, logging, ids and time."""
