"""Lineage: typed nodes (dataset versions, runs, model versions, ...) and the edges between them.

Below auth, so every domain can record edges (``service.record_edge``) and describe its nodes
(``describers.register_describer``) without lineage importing any of them.
"""
