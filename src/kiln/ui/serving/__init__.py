"""Serving's pages: the deployments list and one deployment (health, traffic, predictions, try it)."""
