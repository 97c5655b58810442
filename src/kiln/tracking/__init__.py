"""Experiment tracking: experiments, runs, params, metrics, tags, artifacts, environment."""
