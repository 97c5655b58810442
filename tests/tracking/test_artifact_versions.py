"""Every upload is stored under its own object (security review H3, L1, L12).

A refused, failed or concurrent upload never changes the bytes a recorded artifact points to, so
what was stored keeps downloading intact; a replaced version's object is deleted once the new one
is recorded.
"""

from __future__ import annotations

import hashlib
import threading
import unicodedata
from collections.abc import Iterator

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api import error_of
from tests.builders import bearer
from tests.live_server import serve
from tests.tracking.api import API, create_run
from tests.tracking.stored import run_files, stored_file

PARALLEL_UPLOADS = 8
ROUNDS = 3


def put(client: httpx.Client, run_id: str, path: str, content: object) -> httpx.Response:
    return client.put(f"{API}/runs/{run_id}/artifacts/{path}", content=content)  # type: ignore[arg-type]


def download(client: httpx.Client, run_id: str, path: str) -> httpx.Response:
    return client.get(f"{API}/runs/{run_id}/artifacts/{path}")


def recorded_sha256(client: httpx.Client, run_id: str, path: str) -> str:
    [entry] = [a for a in client.get(f"{API}/runs/{run_id}/artifacts").json() if a["path"] == path]
    return str(entry["sha256"])


class TestARefusedUploadKeepsTheStoredVersion:
    def test_finishing_the_run_mid_upload(self, client: TestClient, app: FastAPI, admin_token: str) -> None:
        run = create_run(client)
        assert put(client, run["id"], "model.bin", b"v1-good-model-bytes").status_code == 201

        def slow_body() -> Iterator[bytes]:
            yield b"v2-partial-"
            # The server is reading this upload now: finish the run from another client meanwhile.
            other = TestClient(app, headers=bearer(admin_token))
            assert other.patch(f"{API}/runs/{run['id']}", json={"status": "finished"}).status_code == 200
            yield b"rest"

        refused = put(client, run["id"], "model.bin", slow_body())

        assert refused.status_code == 409
        assert error_of(refused)["code"] == "invalid_state"
        good = download(client, run["id"], "model.bin")
        assert good.status_code == 200
        assert good.content == b"v1-good-model-bytes"
        assert recorded_sha256(client, run["id"], "model.bin") == hashlib.sha256(good.content).hexdigest()
        # The refused upload's own object was removed again.
        assert run_files(app, run["id"]) == {stored_file(app, run["id"], "model.bin")}

    def test_replacing_a_version_deletes_the_old_object(self, client: TestClient, app: FastAPI) -> None:
        run = create_run(client)
        put(client, run["id"], "report.txt", b"first")
        first = stored_file(app, run["id"], "report.txt")

        put(client, run["id"], "report.txt", b"second")

        assert not first.exists()
        assert run_files(app, run["id"]) == {stored_file(app, run["id"], "report.txt")}
        assert download(client, run["id"], "report.txt").content == b"second"


class TestConcurrentUploadsOfOnePath:
    def test_the_download_always_matches_the_recorded_checksum(self, app: FastAPI, admin_token: str) -> None:
        with serve(app) as url, httpx.Client(base_url=url, timeout=60, headers=bearer(admin_token)) as live:
            run = create_run(live)
            for round_ in range(ROUNDS):
                path = f"shared-{round_}.bin"
                bodies = [f"body {i} ".encode() * (1000 + 10 * i) for i in range(PARALLEL_UPLOADS)]
                barrier = threading.Barrier(PARALLEL_UPLOADS)
                statuses: list[int] = []

                def upload(
                    body: bytes,
                    path: str = path,
                    barrier: threading.Barrier = barrier,
                    statuses: list[int] = statuses,
                ) -> None:
                    with httpx.Client(base_url=url, timeout=60, headers=bearer(admin_token)) as client:
                        barrier.wait(timeout=30)
                        statuses.append(put(client, run["id"], path, body).status_code)

                threads = [threading.Thread(target=upload, args=(body,)) for body in bodies]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=90)

                assert statuses == [201] * PARALLEL_UPLOADS
                response = download(live, run["id"], path)
                assert response.status_code == 200
                assert response.content in bodies
                digest = hashlib.sha256(response.content).hexdigest()
                assert (
                    digest == recorded_sha256(live, run["id"], path) == response.headers["x-checksum-sha256"]
                )


class TestFileAndFolderNamesClash:
    def test_a_file_cannot_become_a_folder_or_the_other_way_round(
        self, client: TestClient, app: FastAPI
    ) -> None:
        run = create_run(client)
        assert put(client, run["id"], "conf", b"a file").status_code == 201
        assert put(client, run["id"], "d2/inner", b"inside a folder").status_code == 201

        into_file = put(client, run["id"], "conf/inner", b"x")
        over_folder = put(client, run["id"], "d2", b"x")

        assert into_file.status_code == 409
        assert (
            "artifact 'conf' is a file, so 'conf/inner' cannot be stored inside it"
            in error_of(into_file)["message"]
        )
        assert over_folder.status_code == 409
        assert "'d2' is a folder of artifacts (it holds 'd2/inner')" in error_of(over_folder)["message"]
        # Nothing half-written is left behind: exactly the two stored objects.
        assert run_files(app, run["id"]) == {
            stored_file(app, run["id"], "conf"),
            stored_file(app, run["id"], "d2/inner"),
        }
        assert [a["path"] for a in client.get(f"{API}/runs/{run['id']}/artifacts").json()] == [
            "conf",
            "d2/inner",
        ]


class TestLookAlikeNames:
    def test_nfc_and_nfd_spellings_are_one_artifact(self, client: TestClient) -> None:
        run = create_run(client)
        put(client, run["id"], unicodedata.normalize("NFD", "café.txt"), b"one")

        put(client, run["id"], unicodedata.normalize("NFC", "café.txt"), b"two")

        assert [a["path"] for a in client.get(f"{API}/runs/{run['id']}/artifacts").json()] == ["café.txt"]
        assert download(client, run["id"], unicodedata.normalize("NFD", "café.txt")).content == b"two"

    def test_a_bidi_override_is_refused(self, client: TestClient) -> None:
        run = create_run(client)

        response = put(client, run["id"], "\u202etxt.exe", b"x")

        assert response.status_code == 400
        assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in error_of(response)["message"]
