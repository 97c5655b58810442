"""Run artifacts over HTTP on the local store: round trips, safe paths, size limits, tamper detection."""

from __future__ import annotations

import hashlib
import http.client
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import create_app, kiln_state
from kiln.core.errors import ChecksumMismatch
from kiln.core.settings import Settings
from tests.api import error_of
from tests.builders import bearer
from tests.builders.auth import admin_client
from tests.live_server import serve
from tests.tracking.api import API, create_run, finish_run
from tests.tracking.stored import run_files, stored_file

MiB = 1024 * 1024


def put(client: httpx.Client, run_id: str, path: str, content: Any) -> httpx.Response:
    return client.put(f"{API}/runs/{run_id}/artifacts/{path}", content=content)


def listing(client: TestClient, run_id: str, **query: str) -> list[dict[str, object]]:
    response = client.get(f"{API}/runs/{run_id}/artifacts", params=query)
    assert response.status_code == 200, response.text
    return list(response.json())


def causes(error: BaseException | None) -> Iterator[BaseException]:
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


def files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


class TestArtifactRoundTrip:
    def test_upload_list_download(self, client: TestClient) -> None:
        run = create_run(client)
        data = os.urandom(300_000)
        digest = hashlib.sha256(data).hexdigest()

        response = put(client, run["id"], "model/weights.bin", data)

        assert response.status_code == 201, response.text
        assert response.json()["path"] == "model/weights.bin"
        assert response.json()["size"] == len(data)
        assert response.json()["sha256"] == digest
        [entry] = listing(client, run["id"])
        assert (entry["path"], entry["size"], entry["sha256"]) == ("model/weights.bin", len(data), digest)
        download = client.get(f"{API}/runs/{run['id']}/artifacts/model/weights.bin")
        assert download.status_code == 200
        assert download.content == data
        assert download.headers["x-checksum-sha256"] == digest
        assert hashlib.sha256(download.content).hexdigest() == digest
        assert download.headers["content-length"] == str(len(data))
        assert 'filename="weights.bin"' in download.headers["content-disposition"]

    def test_empty_file(self, client: TestClient) -> None:
        run = create_run(client)

        assert put(client, run["id"], "empty.txt", b"").status_code == 201

        download = client.get(f"{API}/runs/{run['id']}/artifacts/empty.txt")
        assert download.status_code == 200
        assert download.content == b""
        assert download.headers["x-checksum-sha256"] == hashlib.sha256(b"").hexdigest()

    def test_overwrite_updates_the_checksum(self, client: TestClient) -> None:
        run = create_run(client)
        put(client, run["id"], "report.txt", b"first version")

        response = put(client, run["id"], "report.txt", b"second, longer version")

        assert response.status_code == 201
        [entry] = listing(client, run["id"])
        assert entry["sha256"] == hashlib.sha256(b"second, longer version").hexdigest()
        assert entry["size"] == len(b"second, longer version")
        download = client.get(f"{API}/runs/{run['id']}/artifacts/report.txt")
        assert download.content == b"second, longer version"
        assert download.headers["x-checksum-sha256"] == entry["sha256"]

    def test_stored_under_the_runs_folder(self, client: TestClient, app: FastAPI) -> None:
        run = create_run(client)

        put(client, run["id"], "plots/loss.png", b"\x89PNG")

        [stored] = run_files(app, run["id"])
        assert stored == stored_file(app, run["id"], "plots/loss.png")
        assert stored.read_bytes() == b"\x89PNG"

    def test_listing_by_prefix_and_path_normalisation(self, client: TestClient) -> None:
        run = create_run(client)
        put(client, run["id"], "plots//loss.png", b"a")
        put(client, run["id"], "plots/acc.png/", b"b")
        put(client, run["id"], "model.skops", b"c")

        assert [a["path"] for a in listing(client, run["id"])] == [
            "model.skops",
            "plots/acc.png",
            "plots/loss.png",
        ]
        assert [a["path"] for a in listing(client, run["id"], prefix="plots/")] == [
            "plots/acc.png",
            "plots/loss.png",
        ]

    @pytest.mark.parametrize("name", ["模型.bin", "emoji-🔥.txt", 'say "hi".txt', "sp ace.txt"])
    def test_any_file_name_downloads_with_its_name(self, client: TestClient, name: str) -> None:
        run = create_run(client)
        put(client, run["id"], f"dir/{name}", name.encode())

        download = client.get(f"{API}/runs/{run['id']}/artifacts/dir/{name}")

        assert download.status_code == 200
        assert download.content == name.encode()
        disposition = download.headers["content-disposition"]
        if "filename*=" in disposition:
            assert unquote(disposition.split("filename*=utf-8''", 1)[1]) == name
        else:
            assert disposition == f'attachment; filename="{name}"'

    def test_runs_do_not_see_each_others_artifacts(self, client: TestClient) -> None:
        first = create_run(client)
        second = create_run(client)
        put(client, first["id"], "a.txt", b"mine")

        assert listing(client, second["id"]) == []
        assert client.get(f"{API}/runs/{second['id']}/artifacts/a.txt").status_code == 404


class TestArtifactErrors:
    def test_unknown_path_is_404(self, client: TestClient) -> None:
        run = create_run(client)

        response = client.get(f"{API}/runs/{run['id']}/artifacts/nothing/here.bin")

        assert response.status_code == 404
        assert "nothing/here.bin" in error_of(response)["message"]

    def test_unknown_run_is_404(self, client: TestClient) -> None:
        assert client.get(f"{API}/runs/ghost-run/artifacts/x.bin").status_code == 404
        response = put(client, "ghost-run", "x.bin", b"data")
        assert response.status_code == 404
        assert "ghost-run" in error_of(response)["message"]

    def test_upload_to_a_finished_run_is_409(self, client: TestClient, app: FastAPI) -> None:
        run = create_run(client)
        finish_run(client, run["id"])

        response = put(client, run["id"], "late.txt", b"too late")

        assert response.status_code == 409
        assert error_of(response)["code"] == "invalid_state"
        assert listing(client, run["id"]) == []
        assert run_files(app, run["id"]) == set()


TRAVERSALS = [
    "%2e%2e/%2e%2e/%2e%2e/escape.txt",
    "%2E%2E%2F%2E%2E%2Fescape.txt",
    "inner/%2e%2e/%2e%2e/%2e%2e/%2e%2e/escape.txt",
    "%2Fetc%2Fpasswd",
    "%2Ftmp%2Fescape.txt",
    "..%5C..%5C..%5Cescape.txt",
    "sub%5Cescape.txt",
    "C:%5Cescape.txt",
    "C:/escape.txt",
    "file:%2F%2F%2Ftmp%2Fescape.txt",
    "%2e/escape.txt",
    "a/%00/escape.txt",
]


class TestArtifactPathsStayInside:
    def test_traversal_is_400_and_touches_nothing(self, client: TestClient, tmp_path: Path) -> None:
        run = create_run(client)
        before = files_under(tmp_path)

        uploads = {path: put(client, run["id"], path, b"owned") for path in TRAVERSALS}
        downloads = {path: client.get(f"{API}/runs/{run['id']}/artifacts/{path}") for path in TRAVERSALS}

        assert {path: r.status_code for path, r in uploads.items() if r.status_code != 400} == {}
        assert {path: r.status_code for path, r in downloads.items() if r.status_code != 400} == {}
        for response in uploads.values():
            error = error_of(response)
            assert error["code"] == "invalid"
            assert "path" in error["message"]
        assert files_under(tmp_path) == before
        assert not Path("/tmp/escape.txt").exists()
        assert listing(client, run["id"]) == []

    def test_literal_dot_dot_on_the_wire_is_400(self, app: FastAPI, tmp_path: Path, admin_token: str) -> None:
        # HTTP clients normalise '..' away; a raw request line keeps it, as an attacker would send it.
        with serve(app) as url, httpx.Client(base_url=url, headers=bearer(admin_token)) as live:
            run = create_run(live)
            before = files_under(tmp_path)
            target = urlsplit(url)
            connection = http.client.HTTPConnection(target.hostname or "", target.port)
            try:
                connection.request(
                    "PUT",
                    f"{API}/runs/{run['id']}/artifacts/../../../../escape.txt",
                    body=b"x",
                    headers=bearer(admin_token),
                )
                response = connection.getresponse()
                status, _ = response.status, response.read()
            finally:
                connection.close()

        assert status == 400
        assert files_under(tmp_path) == before

    def test_listing_with_a_traversal_prefix_is_400(self, client: TestClient) -> None:
        run = create_run(client)

        assert client.get(f"{API}/runs/{run['id']}/artifacts", params={"prefix": "../x"}).status_code == 400


class TestUploadLimit:
    def test_declared_length_above_the_limit_is_413_and_records_nothing(
        self, client: TestClient, settings: Settings, app: FastAPI
    ) -> None:
        run = create_run(client)

        response = put(client, run["id"], "big.bin", b"x" * (settings.http.max_upload_bytes + 1))

        assert response.status_code == 413
        error = error_of(response)
        assert error["code"] == "payload_too_large"
        assert str(settings.http.max_upload_bytes) in error["message"]
        assert listing(client, run["id"]) == []
        assert run_files(app, run["id"]) == set()

    def test_chunked_body_above_the_limit_is_413_and_records_nothing(
        self, client: TestClient, settings: Settings, app: FastAPI
    ) -> None:
        run = create_run(client)
        sent = {"bytes": 0}

        def body() -> Iterator[bytes]:
            # No Content-Length: the server must count while it streams.
            for _ in range(settings.http.max_upload_bytes // MiB + 2):
                sent["bytes"] += MiB
                yield b"y" * MiB

        response = put(client, run["id"], "big.bin", body())

        assert response.status_code == 413
        assert error_of(response)["details"] == {"limit_bytes": settings.http.max_upload_bytes}
        assert sent["bytes"] > settings.http.max_upload_bytes
        assert listing(client, run["id"]) == []
        assert run_files(app, run["id"]) == set()

    def test_a_refused_overwrite_keeps_the_previous_version(
        self, client: TestClient, settings: Settings
    ) -> None:
        run = create_run(client)
        put(client, run["id"], "model.bin", b"good model")

        response = put(client, run["id"], "model.bin", (b"z" * MiB for _ in range(8)))

        assert response.status_code == 413
        download = client.get(f"{API}/runs/{run['id']}/artifacts/model.bin")
        assert download.content == b"good model"

    def test_exactly_the_limit_is_accepted(self, client: TestClient, settings: Settings) -> None:
        run = create_run(client)

        response = put(client, run["id"], "edge.bin", b"e" * settings.http.max_upload_bytes)

        assert response.status_code == 201
        assert response.json()["size"] == settings.http.max_upload_bytes


@pytest.fixture
def large_upload_app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings.with_sections(http={"max_upload_bytes": 64 * MiB}), migrate=False)
    yield application
    kiln_state(application).db.dispose()


class TestLargeUpload:
    def test_twenty_megabytes_stream_through(self, large_upload_app: FastAPI) -> None:
        block = os.urandom(MiB)
        expected = hashlib.sha256()
        for i in range(20):
            expected.update(block[i:] + block[:i])

        def body() -> Iterator[bytes]:
            for i in range(20):
                yield block[i:] + block[:i]

        with admin_client(large_upload_app) as client:
            run = create_run(client)
            response = put(client, run["id"], "data/big.bin", body())

            assert response.status_code == 201, response.text
            assert response.json()["size"] == 20 * MiB
            assert response.json()["sha256"] == expected.hexdigest()
            received = hashlib.sha256()
            total = 0
            with client.stream("GET", f"{API}/runs/{run['id']}/artifacts/data/big.bin") as download:
                assert download.headers["x-checksum-sha256"] == expected.hexdigest()
                for chunk in download.iter_bytes():
                    received.update(chunk)
                    total += len(chunk)
            assert total == 20 * MiB
            assert received.hexdigest() == expected.hexdigest()


class TestTamperDetection:
    """Bytes changed on disk after upload must never reach a client as a successful download."""

    def upload(self, client: TestClient, data: bytes) -> str:
        run = create_run(client)
        assert put(client, run["id"], "model.bin", data).status_code == 201
        return str(run["id"])

    def test_in_process_client_gets_an_error(self, client: TestClient, app: FastAPI) -> None:
        run_id = self.upload(client, b"original bytes")
        stored_file(app, run_id, "model.bin").write_bytes(b"tampered bytes")

        # The response has started when the mismatch is found, so the app fails instead of answering.
        with pytest.raises(Exception) as failure:  # noqa: PT011 - the cause is checked below
            client.get(f"{API}/runs/{run_id}/artifacts/model.bin")

        assert any(isinstance(error, ChecksumMismatch) for error in causes(failure.value))

    @pytest.mark.parametrize(
        ("original", "tampered"),
        [
            (b"original bytes", b"Original bytes"),
            (b"a" * (3 * MiB + 5), b"a" * (3 * MiB + 4) + b"b"),
            (b"b" * (2 * MiB), b"b" * (2 * MiB) + b"extra"),
            (b"short and sweet", b"short"),
        ],
        ids=["same-size-small", "same-size-multi-chunk", "grown", "shrunk"],
    )
    def test_http_client_never_receives_a_complete_altered_body(
        self, app: FastAPI, original: bytes, tampered: bytes, admin_token: str
    ) -> None:
        with serve(app) as url, httpx.Client(base_url=url, timeout=10, headers=bearer(admin_token)) as live:
            run = create_run(live)
            assert put(live, run["id"], "model.bin", original).status_code == 201
            stored_file(app, run["id"], "model.bin").write_bytes(tampered)

            # A complete 200 body would mean the altered bytes were delivered as if they were good.
            with pytest.raises(httpx.RemoteProtocolError):
                live.get(f"{API}/runs/{run['id']}/artifacts/model.bin")

    def test_deleted_file_is_reported_not_streamed(self, client: TestClient, app: FastAPI) -> None:
        run_id = self.upload(client, b"will vanish")
        stored_file(app, run_id, "model.bin").unlink()

        response = client.get(f"{API}/runs/{run_id}/artifacts/model.bin")

        assert response.status_code == 404
        assert "missing from the store" in error_of(response)["message"]

    def test_untouched_file_still_downloads_over_http(self, app: FastAPI, admin_token: str) -> None:
        data = os.urandom(2 * MiB + 17)
        with serve(app) as url, httpx.Client(base_url=url, timeout=10, headers=bearer(admin_token)) as live:
            run = create_run(live)
            put(live, run["id"], "ok.bin", data)

            response = live.get(f"{API}/runs/{run['id']}/artifacts/ok.bin")

        assert response.status_code == 200
        assert response.content == data
