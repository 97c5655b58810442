from tests.auth.apps import build_app, mail_app, mail_server

__all__ = ["build_app", "mail_app", "mail_server"]
