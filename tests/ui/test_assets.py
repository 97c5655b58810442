"""Static files: Kiln's own CSS/JS and Plotly's bundle, served from the installed plotly package."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from kiln.ui.vendor import plotly_js_path


class TestPlotlyBundle:
    def test_is_served_as_javascript(self, client: TestClient) -> None:
        response = client.get("/static/vendor/plotly.min.js", headers={"accept-encoding": "identity"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/javascript")
        path = plotly_js_path()
        assert path is not None
        assert response.content == path.read_bytes()
        assert "plotly" in response.text[:2000].lower()

    def test_is_compressed_for_browsers_that_accept_gzip(self, client: TestClient) -> None:
        response = client.get("/static/vendor/plotly.min.js?v=1", headers={"accept-encoding": "gzip, br"})
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        path = plotly_js_path()
        assert path is not None
        # httpx decodes the body; what went over the wire was a fraction of the file.
        assert response.content == path.read_bytes()
        assert int(response.headers["content-length"]) < path.stat().st_size / 2
        assert "immutable" in response.headers["cache-control"]

    def test_revalidation_answers_304(self, client: TestClient) -> None:
        first = client.get("/static/vendor/plotly.min.js")
        again = client.get("/static/vendor/plotly.min.js", headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304
        assert again.content == b""


class TestOwnAssets:
    def test_css_and_js_are_served(self, client: TestClient) -> None:
        css = client.get("/static/kiln.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        js = client.get("/static/kiln.js")
        assert js.status_code == 200
        assert "javascript" in js.headers["content-type"]

    def test_only_small_hand_written_files_are_committed(self) -> None:
        # Third-party bundles are served from installed packages (like Plotly), never copied in.
        static = Path(__file__).parents[2] / "src" / "kiln" / "ui" / "static"
        sizes = {path.name: path.stat().st_size for path in static.rglob("*") if path.is_file()}
        assert {"kiln.css", "kiln.js"} <= set(sizes)
        assert max(sizes.values()) < 64 * 1024, sizes
