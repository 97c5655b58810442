"""scikit-learn integration: ``kiln.sklearn.autolog()`` records every ``fit`` in Kiln.

Thin on purpose: the work lives in ``kiln.client.sklearn_autolog`` (patching) and
``kiln.client.sklearn_model`` (saving with skops, never pickle).
"""

from __future__ import annotations

from kiln.client.sklearn_autolog import KilnAutologWarning, autolog, estimator_params
from kiln.client.sklearn_model import DESCRIPTOR_FILE, MODEL_FILE, save_model

__all__ = ["DESCRIPTOR_FILE", "MODEL_FILE", "KilnAutologWarning", "autolog", "estimator_params", "save_model"]
