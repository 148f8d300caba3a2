"""``provisioner projects update|secrets|archive|reconcile`` against an in-memory API."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx
import pytest
from typer.testing import CliRunner, Result

import provisioner_client
from cli.main import app

runner = CliRunner()
PROJECT = {"id": "p1", "name": "Bot", "status": "ready", "sync": {"generation": 3}}
SECRET = "s3cret-value"


@dataclass
class FakeApi:
    """Answers GET with an ETag and every change with 202; ``error`` answers every change."""

    requests: list[httpx.Request] = field(default_factory=list)
    error: httpx.Response | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "GET":
            return httpx.Response(200, json=PROJECT, headers={"ETag": 'W/"p1.7"'})
        return self.error or httpx.Response(202, json=PROJECT, headers={"ETag": 'W/"p1.8"'})

    def sent(self) -> list[tuple[str, str]]:
        return [(r.method, str(r.url).removeprefix("http://api")) for r in self.requests]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    for name in ("PROVISIONER_TOKEN", "PROVISIONER_URL"):
        monkeypatch.delenv(name, raising=False)
    fake = FakeApi()
    real = provisioner_client.ProjectsClient

    def client(url: str, token: str) -> provisioner_client.ProjectsClient:
        return real(url, token, transport=httpx.MockTransport(fake))

    monkeypatch.setattr(provisioner_client, "ProjectsClient", client)
    return fake


def _run(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(
        app, ["projects", *args, "--token", "prv_t", "--url", "http://api"], input=stdin
    )


def _one_line(result: Result, code: int, message: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_update_builds_the_merge_patch_from_the_options(api: FakeApi) -> None:
    result = _run(
        "update", "p1", "--topic", "a", "--topic", "b", "--variable", "K=V",
        "--remove-variable", "OLD",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == PROJECT
    get, patch = api.requests
    assert (get.method, patch.method, patch.url.path) == ("GET", "PATCH", "/api/projects/p1")
    assert patch.headers["If-Match"] == 'W/"p1.7"'
    assert patch.headers["Content-Type"] == "application/merge-patch+json"
    assert json.loads(patch.content) == {
        "repository": {"topics": ["a", "b"], "variables": {"K": "V", "OLD": None}}
    }


def test_update_merges_teams_and_the_json_options(api: FakeApi) -> None:
    result = _run(
        "update", "p1", "--description", "new", "--team", "platform=push",
        "--remove-team", "old-team", "--config-json", '{"tier": null, "owner": "a"}',
        "--repository-json", '{"visibility": "internal", "teams": {"ops": "admin"}}',
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(api.requests[-1].content) == {
        "description": "new",
        "config": {"tier": None, "owner": "a"},
        "repository": {
            "visibility": "internal",
            "teams": {"ops": "admin", "platform": "push", "old-team": None},
        },
    }


def test_update_can_remove_a_whole_key(api: FakeApi) -> None:
    assert _run("update", "p1", "--config-json", "null").exit_code == 0
    assert json.loads(api.requests[-1].content) == {"config": None}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to change"),
        (["--variable", "K="], "--variable takes NAME=VALUE (got 'K='); --remove-variable"),
        (["--variable", "NOVALUE"], "--variable takes NAME=VALUE"),
        (["--team", "=push"], "--team takes SLUG=ROLE"),
        (["--variable", "K=V", "--remove-variable", "K"], "'K' is both set"),
        (["--config-json", "[1]"], "--config-json takes a JSON object or null"),
        (["--config-json", "{nope"], "--config-json is not JSON"),
        (["--repository-json", "null", "--topic", "a"], "--repository-json null removes"),
        (["--repository-json", '{"variables": null}', "--variable", "K=V"], "cannot merge"),
    ],
)
def test_bad_update_options_are_one_line_and_send_nothing(
    api: FakeApi, args: list[str], message: str
) -> None:
    _one_line(_run("update", "p1", *args), 2, message)
    assert api.requests == []


def test_an_api_error_is_one_line(api: FakeApi) -> None:
    api.error = httpx.Response(
        422,
        json={"error": "validation_error", "detail": "bad", "field": "repository.topics[0]"},
    )
    result = _run("update", "p1", "--topic", "Capital")
    _one_line(result, 1, "422 validation_error (repository.topics[0]): bad")
    assert result.stdout == ""


def test_secrets_set_reads_the_value_from_stdin(api: FakeApi) -> None:
    result = _run("secrets", "set", "p1", "API_KEY", stdin=f"{SECRET}\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == PROJECT
    [request] = api.requests
    assert api.sent() == [("PUT", "/api/projects/p1/secrets/API_KEY")]
    assert json.loads(request.content) == {"value": SECRET}
    assert SECRET not in result.output
    assert SECRET not in result.stderr


def test_secrets_set_takes_no_value_argument(api: FakeApi) -> None:
    result = _run("secrets", "set", "p1", "API_KEY", SECRET, stdin="x")
    assert result.exit_code == 2
    assert api.requests == []


@pytest.mark.parametrize(
    ("stdin", "value"),
    [("a b\n\n", "a b\n"), ("line\r\n", "line"), ("no newline", "no newline"), (" x ", " x ")],
)
def test_secrets_set_strips_one_trailing_newline(api: FakeApi, stdin: str, value: str) -> None:
    assert _run("secrets", "set", "p1", "K", stdin=stdin).exit_code == 0
    assert json.loads(api.requests[0].content) == {"value": value}


@pytest.mark.parametrize("stdin", ["", "\n"])
def test_secrets_set_refuses_an_empty_value(api: FakeApi, stdin: str) -> None:
    _one_line(_run("secrets", "set", "p1", "K", stdin=stdin), 2, "the value of K is empty")
    assert api.requests == []


def test_secrets_set_prompts_without_echo_on_a_terminal(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cli.projects._stdin_is_a_terminal", lambda: True)
    result = _run("secrets", "set", "p1", "K", stdin=f"{SECRET}\n")
    assert result.exit_code == 0, result.output
    assert json.loads(api.requests[0].content) == {"value": SECRET}
    assert SECRET not in result.output
    assert "K (not shown)" in result.stderr


def test_secrets_set_without_a_token_stops_before_reading(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cli.projects._secret_value", lambda _: pytest.fail("read"))
    result = runner.invoke(app, ["projects", "secrets", "set", "p1", "K"], input=SECRET)
    _one_line(result, 2, "no API token")


@pytest.mark.parametrize(
    ("args", "sent"),
    [
        (["secrets", "rm", "p1", "API_KEY"], ("DELETE", "/api/projects/p1/secrets/API_KEY")),
        (["archive", "p1"], ("DELETE", "/api/projects/p1")),
        (["archive", "p1", "--purge"], ("DELETE", "/api/projects/p1?purge=true")),
        (["reconcile", "p1"], ("POST", "/api/projects/p1/reconcile")),
    ],
)
def test_each_command_sends_its_request_and_prints_the_project(
    api: FakeApi, args: list[str], sent: tuple[str, str]
) -> None:
    result = _run(*args)
    assert result.exit_code == 0, result.output
    assert api.sent() == [sent]
    assert json.loads(result.stdout) == PROJECT


@pytest.mark.parametrize(
    "args", [["secrets", "rm", "p1", "K"], ["archive", "p1", "--purge"], ["reconcile", "p1"]]
)
def test_their_api_errors_are_one_line(api: FakeApi, args: list[str]) -> None:
    api.error = httpx.Response(403, json={"error": "forbidden", "detail": "ops tokens only"})
    _one_line(_run(*args), 1, "provisioner: 403 forbidden: ops tokens only")
