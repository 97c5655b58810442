"""An identity for the benchmark on a fresh Kiln server: the first account (which becomes admin).

The web UI needs a login (the ``kiln_access`` cookie); the API takes the same token as a Bearer
header, which is what a real user's SDK sends once the API enforces authentication. Logging in
happens outside every timed section.
"""

from __future__ import annotations

import secrets

import httpx

EMAIL = "bench@kiln.dev"
ACCESS_COOKIE = "kiln_access"


class Identity:
    """Registers once per server; ``token()`` logs in afresh (access tokens are short-lived)."""

    def __init__(self, url: str, *, setup_token: str | None = None) -> None:
        self.url = url
        self.password = secrets.token_urlsafe(24)
        self.available = True
        with httpx.Client(base_url=url, timeout=60) as client:
            response = client.post(
                "/api/v1/auth/register",
                # A fresh Kiln takes its first account only with the setup token from its log.
                json={
                    "email": EMAIL,
                    "password": self.password,
                    "name": "Benchmark",
                    "setup_token": setup_token,
                },
            )
        if response.status_code == 404:  # a Kiln without accounts: nothing to log in to
            self.available = False
        elif response.status_code != 201:
            raise RuntimeError(f"could not register the benchmark account: {response.text[:300]}")

    def token(self) -> str | None:
        if not self.available:
            return None
        with httpx.Client(base_url=self.url, timeout=60) as client:
            response = client.post("/api/v1/auth/login", json={"email": EMAIL, "password": self.password})
        if response.status_code != 200:
            raise RuntimeError(f"could not log in the benchmark account: {response.text[:300]}")
        return str(response.json()["access_token"])

    def api_key(self, project: str = "bench") -> str:
        """A new project and an API key for it (ml_engineer), as automation would authenticate."""
        token = self.token()
        if token is None:
            raise RuntimeError("this Kiln has no accounts, so it has no API keys")
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=self.url, timeout=60, headers=headers) as client:
            created = client.post("/api/v1/projects", json={"name": project})
            if created.status_code != 201:
                raise RuntimeError(f"could not create the benchmark project: {created.text[:300]}")
            body = {"name": project, "project_id": created.json()["id"], "role": "ml_engineer"}
            response = client.post("/api/v1/me/api-keys", json=body)
        if response.status_code != 201:
            raise RuntimeError(f"could not create the benchmark API key: {response.text[:300]}")
        return str(response.json()["key"])

    def authorize(self, client: httpx.Client) -> None:
        """Make ``client`` logged in, for the API (Bearer header) and the UI pages (cookie)."""
        token = self.token()
        if token is not None:
            client.headers["Authorization"] = f"Bearer {token}"
            client.cookies.set(ACCESS_COOKIE, token)
