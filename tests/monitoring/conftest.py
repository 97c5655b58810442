from tests.auth.apps import mail_server

__all__ = ["mail_server"]
