"""``client.<resource>``: one object per domain over the shared transport, and the old flat names."""

from __future__ import annotations

import inspect

import pytest
from fastapi import FastAPI

import kiln
from kiln.app import kiln_state
from kiln.client.resources import ArtifactsResource, ExperimentsResource, RunsResource
from tests.builders.auth import PASSWORD, make_project


class TestTrackingResources:
    def test_runs_and_experiments_and_artifacts_are_reached_through_their_resource(
        self, client: kiln.Client
    ) -> None:
        experiment = client.experiments.get_or_create("resources")
        run = client.runs.create(experiment.id, name="first")
        client.runs.log_batch(
            run.id, metrics=[{"key": "acc", "value": 0.9}], params=[{"key": "C", "value": "1"}]
        )

        detail = client.runs.get(run.id)
        page = client.runs.search(experiment="resources")

        assert client.experiments.get_or_create("resources").id == experiment.id
        assert (detail.metrics, detail.params) == ({"acc": 0.9}, {"C": "1"})
        assert [found.id for found in page] == [run.id]
        assert client.artifacts.list(run.id) == []
        with pytest.raises(kiln.NotFound):
            client.runs.get("no-such-run")

    def test_the_flat_names_are_the_same_calls(self, client: kiln.Client) -> None:
        experiment = client.create_experiment("flat")
        run = client.create_run(experiment.id, name="flat-run")

        assert client.get_run(run.id) == client.runs.get(run.id)
        assert client.get_experiment_by_name("flat") == client.experiments.get_by_name("flat")
        assert client.search_runs(experiment="flat") == client.runs.search(experiment="flat")

    @pytest.mark.parametrize(
        ("alias", "resource", "method"),
        [
            ("get_run", RunsResource, "get"),
            ("search_runs", RunsResource, "search"),
            ("list_experiments", ExperimentsResource, "list"),
            ("download_artifacts", ArtifactsResource, "download_tree"),
        ],
    )
    def test_an_alias_keeps_the_signature_and_docs_of_the_resource_method(
        self, alias: str, resource: type, method: str
    ) -> None:
        flat = getattr(kiln.Client, alias)
        original = getattr(resource, method)

        assert flat.__doc__ == original.__doc__
        assert inspect.signature(flat) == inspect.signature(original)


class TestAuthResources:
    def test_login_then_keys_for_a_project_then_revoke(self, client: kiln.Client, live_url: str) -> None:
        admin = client.auth.me()
        with kiln.Client(live_url, token="unused") as anonymous:
            tokens = anonymous.auth.login(admin.email, PASSWORD)

        with kiln.Client(live_url, token=tokens.access_token) as session:
            default = next(project for project in session.projects.list() if project.name == "default")
            created = session.api_keys.create("ci", project_id=default.id, role="viewer", expires_in_days=1)
            session.auth.logout(tokens.refresh_token)

        assert default.my_role == "admin"
        assert created.key.startswith("kiln_")
        with kiln.Client(live_url, token=created.key) as keyed:
            assert keyed.auth.me().email == admin.email
            assert keyed.experiments.list() == []
        listed = {key.id: key for key in client.api_keys.list()}
        assert listed[created.id].revoked_at is None

        client.api_keys.revoke(created.id)

        with kiln.Client(live_url, token=created.key) as keyed, pytest.raises(kiln.Unauthenticated):
            keyed.experiments.list()

    def test_a_wrong_password_raises_unauthenticated_with_the_servers_message(
        self, client: kiln.Client
    ) -> None:
        email = client.auth.me().email

        with pytest.raises(kiln.Unauthenticated, match="invalid email or password"):
            client.auth.login(email, "not the password")


class TestPagedResources:
    def test_projects_and_keys_come_as_result_pages_and_iter_walks_them(
        self, client: kiln.Client, app: FastAPI
    ) -> None:
        with kiln_state(app).db.unit_of_work() as session:
            for name in ("sdk-a", "sdk-b", "sdk-c"):
                make_project(session, name)
        default = next(p for p in client.projects.iter() if p.name == "default")

        first = client.projects.list(limit=2)
        rest = client.projects.list(limit=2, cursor=first.next_cursor)

        assert isinstance(first, kiln.ResultPage)
        assert len(first) == 2
        assert first.total == 4
        assert [p.name for p in [*first, *rest]] == [p.name for p in client.projects.iter(page_size=1)]
        assert rest.next_cursor is None
        # Keys (the caller's own) page the same way, each with its status.
        for number in range(3):
            client.api_keys.create(f"k{number}", project_id=default.id, role="viewer")
        keys = list(client.api_keys.iter(page_size=2))
        assert [key.name for key in keys] == ["k2", "k1", "k0"]
        assert {key.status for key in keys} == {"active"}
