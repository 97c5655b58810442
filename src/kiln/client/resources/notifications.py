"""``client.notifications``: the caller's in-app notifications and their settings per kind."""

from __future__ import annotations

from collections.abc import Iterator

from kiln.client.pages import ResultPage, fetch_page, iterate
from kiln.client.resources.base import Resource, segment
from kiln.notify.schemas import MarkedRead, NotificationKind, NotificationRead, NotificationSettingRead

# Named outside the class: inside it, ``list`` is the method.
SettingsList = list[NotificationSettingRead]


class NotificationsResource(Resource):
    def list(
        self, *, unread: bool = False, limit: int = 100, cursor: str | None = None
    ) -> ResultPage[NotificationRead]:
        """One page of the caller's notifications, newest first (``unread=True``: only unread ones);
        ``iter`` walks every page."""
        params = {"unread": "true" if unread else None, "limit": limit, "cursor": cursor}
        return fetch_page(self.transport, "/notifications", NotificationRead, params)

    def iter(self, *, unread: bool = False, page_size: int = 100) -> Iterator[NotificationRead]:
        """Every notification of the caller, following the cursor from page to page."""
        return iterate(lambda cursor: self.list(unread=unread, limit=page_size, cursor=cursor))

    def unread_count(self) -> int:
        """How many of the caller's notifications are unread (the number on the UI's bell)."""
        return int(self.transport.request("GET", "/notifications/unread-count")["unread"])

    def mark_read(self, notification_id: str) -> NotificationRead:
        """Mark one notification read; another user's answers ``kiln.NotFound``."""
        path = f"/notifications/{segment(notification_id)}/read"
        return NotificationRead.model_validate(self.transport.request("POST", path))

    def mark_all_read(self) -> int:
        """Mark every unread notification read; returns how many there were."""
        return MarkedRead.model_validate(self.transport.request("POST", "/notifications/read-all")).marked

    def settings(self) -> SettingsList:
        """Every notification kind with the channels (in-app, email) in effect for the caller."""
        data = self.transport.request("GET", "/me/notification-settings")
        return [NotificationSettingRead.model_validate(item) for item in data]

    def update_settings(
        self, kind: NotificationKind | str, *, in_app: bool | None = None, email: bool | None = None
    ) -> SettingsList:
        """Turn a kind's channels on or off (``None`` keeps one as it is); needs a login session's
        token, not an API key. Returns every kind's settings as now in effect."""
        body = [{"kind": str(kind), "in_app": in_app, "email": email}]
        data = self.transport.request("PUT", "/me/notification-settings", json_body=body)
        return [NotificationSettingRead.model_validate(item) for item in data]
