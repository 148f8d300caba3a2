"""Endpoint templates for metrics: one series per endpoint, never one per repository."""

from __future__ import annotations

import pytest

from shared.github.endpoints import endpoint_of
from worker.metrics import WorkerMetrics


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/orgs/acme/repos", "/orgs/{org}/repos"),
        ("/repos/acme/bot/contents/.project.yaml", "/repos/{owner}/{repo}/contents/{path}"),
        ("/repos/acme/bot/actions/secrets/public-key",
         "/repos/{owner}/{repo}/actions/secrets/public-key"),
        ("/repos/acme/bot/actions/secrets/API_KEY",
         "/repos/{owner}/{repo}/actions/secrets/{secret_name}"),
        ("/app/installations/42/access_tokens",
         "/app/installations/{installation_id}/access_tokens"),
        ("/orgs/acme/teams/core/repos/acme/bot", "/orgs/{org}/teams/{team_slug}/repos/acme/bot"),
    ],
)  # fmt: skip
def test_paths_become_templates(path: str, template: str) -> None:
    assert endpoint_of(path) == template


def test_github_requests_are_counted_by_endpoint_and_status() -> None:
    metrics = WorkerMetrics()
    metrics.github_request("PUT", "/repos/{owner}/{repo}/contents/{path}", 201, 0.1)
    metrics.github_request("PUT", "/repos/{owner}/{repo}/contents/{path}", None, 0.1)
    labels = {"method": "PUT", "endpoint": "/repos/{owner}/{repo}/contents/{path}"}
    sample = metrics.registry.get_sample_value
    assert sample("provisioner_github_requests_total", {**labels, "status": "201"}) == 1
    assert sample("provisioner_github_requests_total", {**labels, "status": "none"}) == 1
