"""The auth domain's resources: ``client.auth`` (log in and out, who am I), ``client.projects``
and ``client.api_keys`` (the caller's own keys)."""

from __future__ import annotations

from collections.abc import Iterator

from kiln.auth.permissions import Role
from kiln.auth.schemas import ApiKeyCreated, ApiKeyRead, ProjectRead, TokenPair, UserRead
from kiln.client.pages import ResultPage, fetch_page, iterate
from kiln.client.resources.base import Resource, segment


class AuthResource(Resource):
    def login(self, email: str, password: str) -> TokenPair:
        """Exchange a password for an access token and a refresh token (a browser-style session)."""
        data = self.transport.request("POST", "/auth/login", json_body={"email": email, "password": password})
        return TokenPair.model_validate(data)

    def logout(self, refresh_token: str) -> None:
        """End the session the refresh token belongs to."""
        self.transport.request("POST", "/auth/logout", json_body={"refresh_token": refresh_token})

    def me(self) -> UserRead:
        """The account the client's token acts for."""
        return UserRead.model_validate(self.transport.request("GET", "/me"))


class ProjectsResource(Resource):
    def list(self, *, limit: int = 100, cursor: str | None = None) -> ResultPage[ProjectRead]:
        """One page of the projects the caller may see, by name, each with ``my_role`` (the caller's
        role there, if a member); ``iter`` walks every page."""
        params = {"limit": limit, "cursor": cursor}
        return fetch_page(self.transport, "/projects", ProjectRead, params)

    def iter(self, *, page_size: int = 100) -> Iterator[ProjectRead]:
        """Every project the caller may see, following the cursor from page to page."""
        return iterate(lambda cursor: self.list(limit=page_size, cursor=cursor))

    def create(self, name: str, *, description: str = "") -> ProjectRead:
        """Create a project (administrators)."""
        body = {"name": name, "description": description}
        return ProjectRead.model_validate(self.transport.request("POST", "/projects", json_body=body))


class ApiKeysResource(Resource):
    def list(self, *, limit: int = 100, cursor: str | None = None) -> ResultPage[ApiKeyRead]:
        """One page of the caller's API keys, newest first, revoked and expired ones included (see
        ``status``; the secret is never shown again)."""
        params = {"limit": limit, "cursor": cursor}
        return fetch_page(self.transport, "/me/api-keys", ApiKeyRead, params)

    def iter(self, *, page_size: int = 100) -> Iterator[ApiKeyRead]:
        """Every key of the caller, following the cursor from page to page."""
        return iterate(lambda cursor: self.list(limit=page_size, cursor=cursor))

    def create(
        self,
        name: str,
        *,
        project_id: str | None,
        role: Role | str,
        expires_in_days: int = 90,
        scope: str = "project",
    ) -> ApiKeyCreated:
        """A key acting in one project at ``role`` (at most the caller's); ``.key`` is shown only here.

        ``scope="global"`` (admins only, with ``project_id=None``) makes a key that acts in every project.
        """
        body = {
            "name": name,
            "scope": scope,
            "project_id": project_id,
            "role": str(role),
            "expires_in_days": expires_in_days,
        }
        return ApiKeyCreated.model_validate(self.transport.request("POST", "/me/api-keys", json_body=body))

    def revoke(self, key_id: str) -> ApiKeyRead:
        return ApiKeyRead.model_validate(self.transport.request("DELETE", f"/me/api-keys/{segment(key_id)}"))

    def revoke_current(self) -> ApiKeyRead:
        """Revoke the key this client authenticates with (all a key may do to keys)."""
        return ApiKeyRead.model_validate(self.transport.request("DELETE", "/me/api-keys/current"))
