"""Artifact storage over fsspec (local folders, S3), with checksums and safe paths."""
