"""The gateway as `make run` serves it (embedded sandbox, the demo at /demo, plain-http
cookie), on a free loopback port, and a real headless Chromium driven by Playwright; both
live in the test's event loop. Screenshots and accessibility reports go to ARTIFACTS."""

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.routing import Mount

from app.config import Settings
from app.main import SANDBOX_MOUNT, create_app
from app.sandbox import get_sandbox_state
from app.sandbox.state import FaultKnobs
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
# axe-core's browser build (npm `axe-core`), a pinned dev dependency of the TypeScript client:
# `make test` installs the client's packages first.
AXE = Path(__file__).resolve().parents[2] / "clients/typescript/node_modules/axe-core/axe.min.js"
STEP_MS = 20_000  # the longest any single browser action or expectation may take
expect.set_options(timeout=STEP_MS)  # expect() has its own default (5 s), apart from the context's


@dataclass(frozen=True)
class Served:
    """A served gateway: where it answers, and its embedded sandbox's fault knobs."""

    base: str
    faults: FaultKnobs


Gateway = Callable[..., AbstractAsyncContextManager[Served]]
Browser = Callable[..., AbstractAsyncContextManager[BrowserContext]]
Shot = Callable[[Page, str], Awaitable[None]]
Axe = Callable[[Page, str], Awaitable[None]]


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """`SANDBOX_*` variables while the app is built: the embedded sandbox reads its knobs from
    the environment (`config_from_env`), as it does under `make run`."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def sandbox_of(app: FastAPI) -> FaultKnobs:
    for route in app.routes:
        if isinstance(route, Mount) and route.path == SANDBOX_MOUNT:
            assert isinstance(route.app, FastAPI)
            return get_sandbox_state(route.app).faults
    raise AssertionError("the gateway serves no embedded sandbox")


@pytest.fixture
def gateway(settings: Settings) -> Gateway:
    """`async with gateway(env={"SANDBOX_...": ...}, **overrides) as served:` a served gateway
    with the demo."""

    @asynccontextmanager
    async def serve(
        env: Mapping[str, str] | None = None, **overrides: Any
    ) -> AsyncIterator[Served]:
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
        with environment(env or {}):
            app = create_app(custom, configure_logs=False)
        async with serving(app, port) as base:
            yield Served(base=base, faults=sandbox_of(app))

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


def _test_name(request: pytest.FixtureRequest) -> str:
    return str(request.node.name).removeprefix("test_")


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shot:
    """Save a full-page screenshot as tests/demo/artifacts/<test>-<step>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    test = _test_name(request)
    for stale in ARTIFACTS.glob(f"{test}-*"):  # only this run's steps stay
        stale.unlink()

    async def save(page: Page, step: str) -> None:
        await page.screenshot(path=ARTIFACTS / f"{test}-{step}.png", full_page=True)

    return save


# The impacts a view may not have: axe's "serious" and "critical" (WCAG A/AA failures such as
# missing labels, contrast below 4.5:1, names missing on buttons or links).
BLOCKING = ("serious", "critical")


@pytest.fixture
def axe(request: pytest.FixtureRequest) -> Axe:
    """`await axe(page, "quotes")`: run axe-core on the page as it is; fail on serious or
    critical violations, and keep the full report as tests/demo/artifacts/<test>-axe-<view>.json.
    axe is evaluated through the DevTools protocol, which the page's CSP does not govern (a
    `<script>` tag added to the page would be refused by `script-src 'self'`)."""
    source = AXE.read_text(encoding="utf-8")
    test = _test_name(request)

    async def check(page: Page, view: str) -> None:
        if not await page.evaluate("() => typeof window.axe === 'object'"):
            await page.evaluate(f"() => {{ {source}\n}}")
        report = await page.evaluate(
            """async () => {
                const result = await axe.run(document, { resultTypes: ["violations"] });
                return result.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map((n) => n.target.join(" ") + " :: " + n.failureSummary),
                }));
            }"""
        )
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"{test}-axe-{view}.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        blocking = [v for v in report if v["impact"] in BLOCKING]
        assert blocking == [], f"axe-core on {view}: " + json.dumps(
            blocking, ensure_ascii=False, indent=2
        )

    return check


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if ARTIFACTS.is_dir() and any(ARTIFACTS.iterdir()):
        terminalreporter.write_line(
            f"demo screenshots and axe-core reports: {ARTIFACTS.relative_to(Path.cwd())}"
            if ARTIFACTS.is_relative_to(Path.cwd())
            else f"demo screenshots and axe-core reports: {ARTIFACTS}"
        )
