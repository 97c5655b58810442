"""Monitoring: windowed metrics from the prediction log and feedback, drift, alert rules, incidents."""
