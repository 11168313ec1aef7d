"""The gateway as `make run` serves it (embedded sandbox, the demo at /demo, plain-http
cookie), on a free loopback port, and a real headless Chromium driven by Playwright; both
live in the test's event loop."""

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.main import create_app
from bench.servers import free_port, serving

try:
    from playwright.async_api import BrowserContext, Page, async_playwright, expect
except ImportError as exc:  # say what to do instead of a bare ModuleNotFoundError
    raise ImportError("tests/demo need Playwright: pip install -e '.[dev]'") from exc

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Debian's Chromium, headless, with nothing that reaches out to the internet.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
STEP_MS = 20_000  # the longest any single browser action or expectation may take
expect.set_options(timeout=STEP_MS)  # expect() has its own default (5 s), apart from the context's

Gateway = Callable[..., AbstractAsyncContextManager[str]]
Browser = Callable[..., AbstractAsyncContextManager[BrowserContext]]
Shot = Callable[[Page, str], Awaitable[None]]


@pytest.fixture
def gateway(settings: Settings) -> Gateway:
    """`async with gateway(**overrides) as base_url:` a served gateway with the demo."""

    @asynccontextmanager
    async def serve(**overrides: Any) -> AsyncIterator[str]:
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        custom = settings.model_copy(
            update={
                "insurup_base_url": "sandbox",
                "insurup_agent_id": None,
                "coverage_group_ids": [],
                "public_base_url": public,
                "cookie_secure": False,
                # The default result page, /demo/#/payment-result, is what is under test.
                "payment_result_url": None,
                "quote_poll_seconds": 0.2,
                "payment_verify_seconds": 0.05,
                **overrides,
            }
        )
        async with serving(create_app(custom, configure_logs=False), port) as base:
            yield base

    return serve


@pytest.fixture
def browser(tmp_path: Path) -> Browser:
    """`async with browser(**context_options) as context:` Chromium with a fresh profile."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: run scripts/ensure-chromium.sh "
            "(installs Debian's chromium package)",
            pytrace=False,
        )

    @asynccontextmanager
    async def launch(**options: Any) -> AsyncIterator[BrowserContext]:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                tmp_path / "profile",
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                locale="tr-TR",
                timezone_id="Europe/Istanbul",
                **options,
            )
            context.set_default_timeout(STEP_MS)
            context.set_default_navigation_timeout(STEP_MS)
            try:
                yield context
            finally:
                await context.close()

    return launch


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shot:
    """Save a full-page screenshot as tests/demo/artifacts/<test>-<step>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    test = request.node.name.removeprefix("test_")
    for stale in ARTIFACTS.glob(f"{test}-*.png"):  # only this run's steps stay
        stale.unlink()

    async def save(page: Page, step: str) -> None:
        await page.screenshot(path=ARTIFACTS / f"{test}-{step}.png", full_page=True)

    return save
