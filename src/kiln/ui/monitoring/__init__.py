"""Pages of monitoring: dashboards per deployment and over all of them, alerts, notification settings."""
