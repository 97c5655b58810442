"""Lineage pages, and the graph drawing other domains' pages include (``lineage/graph.html``)."""
