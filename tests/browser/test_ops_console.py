"""The ops console in a real browser: sign in, find a failure and why, retry it, see it ready.

API, worker and the GitHub sandbox run as in production (child processes, the
sandbox in this process so the test can change GitHub). A repository someone
else made takes the project's name, so the project fails with
``repo_name_taken``; the test deletes that repository (the fix), presses retry
with the keyboard, and the page turns ``ready`` by itself, without a reload.
Screenshots of every page land in :data:`tests.browser.chromium.SCREENSHOTS`;
any console error fails the test.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect

from cli.harness import ORG
from provisioner_client import ProjectFailed, ProjectsClient
from shared.provisioning.repo_name import repository_name
from tests.browser.chromium import SCREENSHOTS, ConsoleErrors, chromium_path
from tests.stack import Stack, module_stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

stack = module_stack("ops_console", redis_db=9, OPS_CONSOLE="1")

FAILING = "Weather station bot"
READY = ("Invoice parser", "Support triage agent", "Docs summariser")
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=900)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    path = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=path, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            await launched.close()


async def _seed(stack: Stack) -> str:
    """Three ready projects and one that fails: its name is taken by someone else's repo."""
    stack.sandbox.add_repository(ORG, repository_name(FAILING), {"README.md": "# not ours\n"})
    async with ProjectsClient(stack.api_url, await stack.token("user", "dana")) as client:
        for name in READY:
            created = await client.create(name, secrets={"OPENAI_API_KEY": "sk-test"})
            await client.wait_until_ready(created["id"], timeout_s=60)
        failing = await client.create(
            FAILING, description="forecasts for the field team", secrets={"WEATHER_KEY": "w-1"}
        )
        with pytest.raises(ProjectFailed) as failed:
            await client.wait_until_ready(failing["id"], timeout_s=60)
    assert failed.value.code == "repo_name_taken"
    return str(failing["id"])


async def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


async def _fits_width(page: Page) -> bool:
    scroll_width: int = await page.evaluate("document.documentElement.scrollWidth")
    return scroll_width <= page.viewport_size["width"] if page.viewport_size else False


async def test_sign_in_find_the_failure_retry_it_and_see_it_ready(
    stack: Stack, browser: Browser
) -> None:
    project_id = await _seed(stack)
    ops_token = await stack.token("ops", "oscar")
    errors = ConsoleErrors()
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    errors.watch(page)

    await page.goto(f"{stack.api_url}/ops")
    await expect(page).to_have_url(re.compile(r"/ops/login\?next=/ops$"))
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
    await _shot(page, "1-sign-in")
    await page.get_by_label("Ops token").fill(ops_token)
    await page.get_by_role("button", name="Sign in").click()

    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    await expect(page.locator("#live")).to_contain_text("1 repo_failed")
    await expect(page.locator("#h-workers + .table-wrap")).to_contain_text(":")  # a heartbeat
    assert await _fits_width(page)
    await _shot(page, "2-overview")

    await page.get_by_role("link", name="Failed", exact=True).click()
    await expect(page.get_by_role("heading", name="Failed projects", exact=True)).to_be_visible()
    group = page.get_by_role("row").filter(has_text="repo_name_taken").first
    await expect(group).to_contain_text("1")
    row = page.get_by_role("row").filter(has_text=FAILING)
    await expect(row).to_contain_text("already")
    await _shot(page, "3-failed")

    await row.get_by_role("link", name=FAILING).click()
    await expect(page.get_by_role("heading", name=FAILING)).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("repo_name_taken")
    status = page.get_by_role("status").filter(has_text="Status")
    await expect(status).to_contain_text("repo_failed")
    await _shot(page, "4-failed-project")

    stack.sandbox.delete_repository(ORG, repository_name(FAILING))  # the fix, on GitHub
    await page.evaluate("window.__sameDocument = true")
    retry = page.locator(f"#retry-{project_id}")
    await retry.focus()
    await page.keyboard.press("Enter")

    await expect(page.get_by_role("status").filter(has_text="Retry requested")).to_be_visible()
    await expect(status).to_contain_text("ready", timeout=30_000)
    await expect(page.get_by_role("link", name=f"{ORG}/{repository_name(FAILING)}")).to_be_visible()
    assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    await expect(page.locator(".timeline")).to_contain_text("retry_requested")
    await _shot(page, "5-project-ready")

    await page.locator(f"#reconcile-{project_id}").click()  # a drift check, in place
    await expect(
        page.get_by_role("status").filter(has_text="Drift check requested")
    ).to_be_visible()
    await expect(page.locator(".timeline")).to_contain_text("reconcile_requested")
    await page.locator(f"#archive-open-{project_id}").click()
    await expect(page.get_by_role("heading", name=f"Archive {FAILING}")).to_be_visible()
    await page.locator(f"#archive-{project_id}").click()
    await expect(page.get_by_role("status").filter(has_text="Archive requested")).to_be_visible()
    await expect(status).to_contain_text("archived", timeout=30_000)
    assert stack.sandbox.repository(ORG, repository_name(FAILING)).archived  # type: ignore[union-attr]
    await _shot(page, "5b-project-archived")

    await page.set_viewport_size(PHONE)
    await page.goto(f"{stack.api_url}/ops")
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    assert await _fits_width(page), "the overview scrolls sideways on a phone"
    await _shot(page, "6-overview-phone")
    await page.goto(f"{stack.api_url}/ops/projects/{project_id}")
    assert await _fits_width(page), "the project page scrolls sideways on a phone"
    await _shot(page, "7-project-phone")

    await context.close()
    assert errors.seen == []


async def test_a_user_token_cannot_sign_in(stack: Stack, browser: Browser) -> None:
    errors = ConsoleErrors()
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    errors.watch(page)

    await page.goto(f"{stack.api_url}/ops/login")
    await page.get_by_label("Ops token").fill(await stack.token("user", "not-ops"))
    await page.get_by_role("button", name="Sign in").click()

    await expect(page.get_by_role("alert")).to_contain_text("A user token cannot sign in")
    await expect(page.get_by_label("Ops token")).to_have_attribute("aria-invalid", "true")
    await page.goto(f"{stack.api_url}/ops")
    await expect(page).to_have_url(re.compile(r"/ops/login"))
    await context.close()
    # The refusal is a 403 page, which Chromium reports; nothing else may be.
    assert len(errors.seen) == 1
    assert "status of 403" in errors.seen[0] and "/ops/login" in errors.seen[0]
