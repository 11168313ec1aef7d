"""The API reference works offline: /docs and /redoc load every file from the gateway (none
from a CDN), and Swagger UI's Authorize button can drive the API (`X-CSRF: 1` for the cookie
session, `Authorization: Bearer` for mobile). Off where docs are off, as in production."""

import asyncio
import re

import httpx
from playwright.async_api import Request, expect

from tests.demo.conftest import Browser, Gateway, Shot

ASSET = re.compile(r"""(?:href|src)=["']([^"']+)["']""")


async def test_docs_and_redoc_name_only_files_the_gateway_serves(gateway: Gateway) -> None:
    async with gateway() as served, httpx.AsyncClient(base_url=served.base) as web:
        for page, marker in (("/docs", "SwaggerUIBundle"), ("/redoc", "<redoc")):
            answer = await web.get(page)
            assert answer.status_code == 200
            html = answer.text
            assert marker in html
            assert "https://" not in html and "http://" not in html, f"{page} names a remote URL"
            assets = ASSET.findall(html)
            assert assets, f"{page} loads no script or style"
            for url in assets:
                assert url.startswith("/docs/assets/"), url
                fetched = await web.get(url)
                assert fetched.status_code == 200, url
                assert len(fetched.content) > 100, url
        spec = (await web.get("/openapi.json")).json()
        schemes = spec["components"]["securitySchemes"]
        assert schemes["csrfHeader"] == {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRF",
            "description": schemes["csrfHeader"]["description"],
        }
        assert schemes["bearerSession"]["type"] == "http"
        assert schemes["bearerSession"]["scheme"] == "bearer"
        purchase = spec["paths"]["/api/v1/quotes/{quoteId}/products/{productId}/purchase"]["post"]
        assert purchase["security"] == [{"csrfHeader": []}, {"bearerSession": []}]
        quote = spec["paths"]["/api/v1/quotes/{quoteId}"]["get"]
        assert {"bearerSession": []} in quote["security"]
        callback = spec["paths"]["/api/v1/payments/callback/{callbackToken}"]["post"]
        assert "security" not in callback, "the bank's callback needs no customer credential"


async def test_docs_are_off_where_the_settings_turn_them_off(gateway: Gateway) -> None:
    async with (
        gateway(docs_enabled=False) as served,
        httpx.AsyncClient(base_url=served.base) as web,
    ):
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"):
            assert (await web.get(path)).status_code == 404, path


async def test_swagger_ui_offline_signs_in_with_the_csrf_header_from_authorize(
    gateway: Gateway, browser: Browser, shot: Shot
) -> None:
    """Swagger UI renders from local files only (every request the page makes goes to the
    gateway), and Try it out on `POST /api/v1/session` works once Authorize has `X-CSRF`."""
    async with (
        asyncio.timeout(60),
        gateway() as served,
        browser(viewport={"width": 1280, "height": 900}) as context,
    ):
        page = context.pages[0] if context.pages else await context.new_page()
        requested: list[str] = []

        def note(request: Request) -> None:
            requested.append(request.url)

        page.on("request", note)
        await page.goto(f"{served.base}/docs")
        await expect(page.locator(".opblock").first).to_be_visible()
        assert await page.locator(".opblock").count() > 20
        elsewhere = [url for url in requested if not url.startswith(served.base)]
        assert elsewhere == [], f"/docs fetched from outside the gateway: {elsewhere}"

        await page.locator("button.authorize").first.click()
        csrf = page.locator(".auth-container").filter(has_text="csrfHeader")
        await expect(csrf).to_be_visible()
        await expect(
            page.locator(".auth-container").filter(has_text="bearerSession")
        ).to_be_visible()
        await csrf.locator("input").fill("1")
        # "Authorize" (its aria-label says "Apply credentials")
        await csrf.locator("button[type=submit]").click()
        await expect(csrf.locator("input")).to_have_count(0)  # authorized: the value is hidden
        await page.locator(".close-modal").click()
        await shot(page, "01-authorized")

        operation = page.locator("#operations-session-start_login_api_v1_session_post")
        await operation.locator(".opblock-summary").click()
        await operation.locator("button.try-out__btn").click()
        body = operation.locator("textarea.body-param__text")
        await body.fill(
            '{"customerType": "individual", "identityNumber": "11111111110", '
            '"birthDate": "1990-01-01", "phoneNumber": "+905321234567", "consents": ["KVKK"]}'
        )
        async with page.expect_response(re.compile(r"/api/v1/session$")) as answered:
            await operation.locator("button.execute").click()
        answer = await answered.value
        assert answer.status == 202, await answer.text()
        assert (await answer.request.all_headers()).get("x-csrf") == "1"
        status = operation.locator(".live-responses-table tr.response .response-col_status")
        await expect(status.first).to_contain_text("202")
        await shot(page, "02-signed-in")
        elsewhere = [url for url in requested if not url.startswith(served.base)]
        assert elsewhere == [], f"/docs fetched from outside the gateway: {elsewhere}"
