"""Serving: deployments, routes, predictors, the model cache, the prediction log and the inference protocols.

Kept empty on purpose: the protocol codecs (``inference_*``) are pure numpy and must load without the
database or the web framework, and importing this package must pull in nothing else.
"""
