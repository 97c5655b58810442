"""Notification channels. Email over SMTP today; webhooks and in-app notices join later."""
