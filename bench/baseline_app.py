"""The original design, for comparison only: provisioning inside the request.

``POST /api/projects/`` validates the body like the real API (same schema, the
repository-name rule, GitHub's secret rules), then awaits
``Provisioner.provision(...)`` against GitHub (here: the sandbox) and answers
201 only when the repository is ready. No database, no queue, no auth: every
cost it leaves out makes this baseline faster, not slower.

Serve it with ``python -m bench.baseline_app --port P`` and the GitHub settings
in the environment (``GITHUB_API_URL``, ``GITHUB_APP_ID``,
``GITHUB_APP_PRIVATE_KEY_PATH``, ``GITHUB_ORG``). It draws on no fleet budget:
one process of this design has nothing to share GitHub's limits with.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from shared.github.client import GitHubClient
from shared.github.config import GitHubConfig
from shared.projects.schemas import ProjectCreate
from shared.provisioning.repo_name import InvalidRepositoryName, repository_name
from shared.provisioning.secret_rules import check_secrets
from shared.provisioning.steps import Provisioner
from shared.provisioning.values import ProjectSpec
from shared.settings import load_settings

__all__ = ["create_app", "main"]


def create_app(settings: GitHubConfig) -> FastAPI:
    """The provisioning-in-the-request app, with one GitHub client for its whole life."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with GitHubClient(settings) as github:
            app.state.provisioner = Provisioner(github)
            yield

    app = FastAPI(title="provisioner baseline (provisioning in the request)", lifespan=lifespan)

    @app.post("/api/projects/", status_code=201, response_model=None)
    async def create_project(
        body: ProjectCreate, request: Request
    ) -> dict[str, Any] | JSONResponse:
        try:
            repo_name = repository_name(body.name)
        except InvalidRepositoryName as exc:
            return JSONResponse({"error": "invalid_name", "detail": str(exc)}, status_code=422)
        secrets = {k: v.get_secret_value() for k, v in (body.secrets or {}).items()}
        problems = check_secrets(secrets)
        if problems:
            detail = problems[0].message
            return JSONResponse({"error": "invalid_secret", "detail": detail}, status_code=422)
        spec = ProjectSpec(
            id=body.id or uuid.uuid4(),
            display_name=body.name,
            repo_name=repo_name,
            description=body.description,
            owner="bench",
            config=body.config or {},
            secret_names=sorted(secrets),
        )
        provisioner: Provisioner = request.app.state.provisioner
        result = await provisioner.provision(
            spec, {name: SecretStr(value) for name, value in secrets.items()}
        )
        return {
            "id": str(spec.id),
            "status": "ready",
            "repo": result.repository.full_name,
            "secrets": {name: outcome.state for name, outcome in result.secrets.items()},
        }

    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the baseline on 127.0.0.1 until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m bench.baseline_app")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    app = create_app(load_settings(require_github=True).github.app)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
