"""Datasets: declared schemas, immutable content-addressed versions, ingestion, rules, quarantine, quality."""
