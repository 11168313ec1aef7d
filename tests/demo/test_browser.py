"""The reference frontend at /demo, clicked through by a customer in real headless Chromium.

Each test asserts what the customer sees at each step (stable `data-testid`s, Turkish text
is free to change) and saves screenshots under tests/demo/artifacts/.
"""

import asyncio
import re

from playwright.async_api import BrowserContext, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from tests.demo.conftest import Browser, Gateway, Shot

TEST_SECONDS = 120  # the bound of one whole test, should any wait misbehave
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
APPROVING_CARD = "4242 4242 4242 4242"
DECLINING_CARD = "4000 0000 0000 0002"


def watch_errors(page: Page) -> list[str]:
    """Script errors on the page. A failed request is expected here (401 before sign-in,
    422 for a bad field): those show as 'Failed to load resource' and are not bugs."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console: {msg.text}")
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    return errors


async def new_page(context: BrowserContext) -> tuple[Page, list[str]]:
    page = context.pages[0] if context.pages else await context.new_page()
    return page, watch_errors(page)


def by_field(page: Page, name: str) -> str:
    """The input of the API field `name`: the one selector the views and errors share."""
    return f'[data-field="{name}"] input, [data-field="{name}"] select'


async def sign_in(page: Page, base: str, shot: Shot) -> None:
    await page.goto(f"{base}/demo/")
    await expect(page.get_by_test_id("view-sign-in")).to_be_visible()  # GET /session: 401
    await expect(page.get_by_test_id("hint")).to_contain_text("11111111110")
    await shot(page, "01-sign-in")
    await page.fill(by_field(page, "identityNumber"), "11111111110")
    await page.fill(by_field(page, "birthDate"), "1990-01-01")
    await page.fill(by_field(page, "phoneNumber"), "+90 532 123 45 67")
    await page.get_by_role("button", name=re.compile("Devam")).click()

    await expect(page.get_by_test_id("view-sms")).to_be_visible()
    await page.fill(by_field(page, "code"), "123456")
    await shot(page, "02-sms")
    await page.get_by_role("button", name=re.compile("Doğrula")).click()
    await expect(page.get_by_test_id("greeting")).to_have_text("Merhaba, Ada Y.")
    await expect(page.get_by_test_id("view-vehicle")).to_be_visible()


async def find_car_and_quote(page: Page, shot: Shot) -> None:
    await page.fill(by_field(page, "plate"), "34 abc 123")
    await page.fill(by_field(page, "documentSerial"), "AB123456")
    await page.get_by_role("button", name=re.compile("Aracı sorgula")).click()
    facts = page.get_by_test_id("vehicle-facts")
    await expect(facts).to_contain_text("RENAULT CLIO")
    await expect(facts).to_contain_text("2021")
    await expect(facts).to_contain_text("34ABC123")
    await shot(page, "03-vehicle")
    await facts.get_by_role("button", name=re.compile("Teklifleri getir")).click()
    await expect(page.get_by_test_id("view-quotes")).to_be_visible()


async def compare(page: Page, shot: Shot, transport: str) -> None:
    """Quotes arrive one by one, then the comparison is complete, in the API's order."""
    products = page.get_by_test_id("product")
    await expect(products.first).to_be_visible()
    await expect(page.get_by_test_id("products")).to_have_attribute("data-transport", transport)
    status = page.get_by_test_id("quotes-status")
    await expect(status).to_have_attribute("data-complete", "true", timeout=30_000)
    await shot(page, "04-quotes")

    quote_id = page.url.rsplit("/", 1)[-1]
    answer = await page.request.get(f"{page.url.split('/demo/')[0]}/api/v1/quotes/{quote_id}")
    api_order = [p["productId"] for p in (await answer.json())["products"]]
    shown = await products.evaluate_all("cards => cards.map(c => c.dataset.productId)")
    assert shown == api_order, "the comparison is shown in the API's order"

    # Robot and other offline products: a call-back text, never a pay button.
    offline = page.locator('[data-testid=product][data-state=active][data-purchasable="false"]')
    assert await offline.count() >= 1
    await expect(offline.first.get_by_test_id("call-me-back")).to_be_visible()
    assert await offline.get_by_test_id("buy").count() == 0
    buyable = page.locator('[data-testid=product][data-purchasable="true"]')
    assert await buyable.count() >= 1
    assert await buyable.get_by_test_id("buy").count() == await buyable.count()


async def choose_card_product(page: Page, installments: str) -> None:
    card = page.locator('[data-testid=product][data-purchasable="true"][data-methods~="3d-secure"]')
    first = card.first
    await first.locator(f'input[type=radio][value="{installments}"]').check()
    await first.get_by_test_id("buy").click()
    await expect(page.get_by_test_id("view-pay")).to_be_visible()
    await expect(page.locator(by_field(page, "installmentNumber"))).to_have_value(installments)


async def fill_card(page: Page, number: str) -> None:
    await page.fill(by_field(page, "card.number"), number)
    await page.fill(by_field(page, "card.expiryMonth"), "12")
    await page.fill(by_field(page, "card.expiryYear"), "2030")
    await page.fill(by_field(page, "card.cvc"), "123")
    await page.fill(by_field(page, "card.holderName"), "ADA YILMAZ")


async def through_the_bank(page: Page, last4: str, shot: Shot) -> None:
    """The sandbox's 3-D Secure page: the bank's SMS code, then Approve."""
    await page.wait_for_url(re.compile(r"/insurup-sandbox/sandbox/pay/"))
    await expect(page.get_by_text(f"**** **** **** {last4}")).to_be_visible()
    await page.fill("input[name=smsCode]", "123456")
    await shot(page, "06-bank")
    await page.get_by_role("button", name=re.compile("Approve")).click()
    await back_on_the_result_view(page, shot)


async def back_on_the_result_view(page: Page, shot: Shot) -> None:
    """The bank -> the gateway's callback -> the result view. Say where it went instead."""
    try:
        await page.wait_for_url(re.compile(r"/demo/#/payment-result\?paymentId=[^&]+&status="))
    except PlaywrightTimeoutError as exc:
        await shot(page, "99-lost")
        raise AssertionError(f"not back on the result view but on {page.url}") from exc


async def test_a_customer_buys_kasko_with_a_card(
    gateway: Gateway, browser: Browser, shot: Shot
) -> None:
    async with asyncio.timeout(TEST_SECONDS), gateway() as base, browser() as context:
        page, errors = await new_page(context)
        await sign_in(page, base, shot)
        await find_car_and_quote(page, shot)
        await compare(page, shot, transport="sse")
        await choose_card_product(page, installments="3")
        await fill_card(page, APPROVING_CARD)
        await shot(page, "05-pay")
        await page.get_by_test_id("pay").click()
        await through_the_bank(page, "4242", shot)

        result = page.get_by_test_id("payment-status")
        await expect(result).to_have_attribute("data-status", "succeeded")
        number = page.get_by_test_id("policy-number")
        await expect(number).to_have_text(re.compile(r"^[\w-]{4,}$"))
        await shot(page, "07-result")

        pdf = page.get_by_test_id("policy-pdf")
        href = await pdf.get_attribute("href")
        assert href is not None and href.startswith("/api/v1/policies/")
        head = await page.evaluate(
            """async (href) => {
                const response = await fetch(href, { credentials: "include" });
                const bytes = new Uint8Array(await response.arrayBuffer());
                return [response.status, String.fromCharCode(...bytes.slice(0, 5))];
            }""",
            href,
        )
        assert head == [200, "%PDF-"]
        # Card data never reaches storage: there is nothing in it at all.
        stored = await page.evaluate("() => localStorage.length + sessionStorage.length")
        assert stored == 0
        assert errors == []


async def test_a_declined_card_ends_on_a_failed_result(
    gateway: Gateway, browser: Browser, shot: Shot
) -> None:
    # Still unpaid half a second after the callback: the gateway calls it failed.
    async with (
        asyncio.timeout(TEST_SECONDS),
        gateway(payment_grace_seconds=0.5) as base,
        browser() as context,
    ):
        page, errors = await new_page(context)
        await sign_in(page, base, shot)
        await find_car_and_quote(page, shot)
        await compare(page, shot, transport="sse")
        await choose_card_product(page, installments="1")

        # A mistyped number: the gateway's message sits under it, and the form is emptied.
        await fill_card(page, "4242 4242 4242 4241")
        await page.get_by_test_id("pay").click()
        await expect(page.get_by_test_id("error-card.number")).not_to_be_empty()
        await expect(page.locator(by_field(page, "card.number"))).to_have_value("")
        await expect(page.locator(by_field(page, "card.cvc"))).to_have_value("")
        await shot(page, "05-card-error")

        await fill_card(page, DECLINING_CARD)
        await page.get_by_test_id("pay").click()
        await through_the_bank(page, "0002", shot)
        result = page.get_by_test_id("payment-status")
        await expect(result).to_have_attribute("data-status", "failed")
        await expect(result.get_by_role("link", name=re.compile("Tekliflere dön"))).to_be_visible()
        await shot(page, "07-result")
        assert errors == []


async def test_on_a_phone_errors_sit_by_their_inputs_and_nothing_scrolls_sideways(
    gateway: Gateway, browser: Browser, shot: Shot
) -> None:
    async with asyncio.timeout(TEST_SECONDS), gateway() as base, browser(**PHONE) as context:
        page, errors = await new_page(context)
        await page.goto(f"{base}/demo/")
        await expect(page.get_by_test_id("view-sign-in")).to_be_visible()
        await page.fill(by_field(page, "identityNumber"), "11111111111")  # bad checksum
        await page.fill(by_field(page, "birthDate"), "1990-01-01")
        await page.fill(by_field(page, "phoneNumber"), "0532 123 45 67")
        await page.get_by_role("button", name=re.compile("Devam")).tap()

        message = page.get_by_test_id("error-identityNumber")
        await expect(message).to_contain_text("T.C. Kimlik No")  # the gateway's own words
        await expect(page.locator(by_field(page, "identityNumber"))).to_have_attribute(
            "aria-invalid", "true"
        )
        await expect(page.get_by_test_id("banner")).to_be_hidden()
        await shot(page, "01-sign-in-error")
        await assert_fits_the_phone(page)

        # The comparison on a phone, with EventSource broken: the view polls instead.
        await page.route("**/api/v1/quotes/*/events", lambda route: route.abort())
        await page.fill(by_field(page, "identityNumber"), "11111111110")
        await page.get_by_role("button", name=re.compile("Devam")).tap()
        await page.fill(by_field(page, "code"), "123456")
        await page.get_by_role("button", name=re.compile("Doğrula")).tap()
        await expect(page.get_by_test_id("view-vehicle")).to_be_visible()
        await assert_fits_the_phone(page)
        await find_car_and_quote(page, shot)
        await compare(page, shot, transport="polling")
        await assert_fits_the_phone(page)

        # Paid on the insurer's own page: no card form here, no SMS code there.
        offer = page.locator(
            '[data-testid=product][data-purchasable="true"]'
            '[data-methods~="insurance-company-redirect"]:not([data-methods~="3d-secure"])'
        ).first
        await offer.get_by_test_id("buy").tap()
        await expect(page.get_by_test_id("view-pay")).to_be_visible()
        await expect(page.locator(by_field(page, "card.number"))).to_be_hidden()
        await shot(page, "05-pay")
        await assert_fits_the_phone(page)
        await page.get_by_test_id("pay").tap()
        await page.wait_for_url(re.compile(r"/insurup-sandbox/sandbox/pay/"))
        await expect(page.get_by_text("Sigorta şirketi ödeme sayfası")).to_be_visible()
        await page.get_by_role("button", name=re.compile("Approve")).tap()
        await back_on_the_result_view(page, shot)
        await expect(page.get_by_test_id("payment-status")).to_have_attribute(
            "data-status", "succeeded"
        )
        await expect(page.get_by_test_id("policy-pdf")).to_be_visible()
        await shot(page, "07-result")
        await assert_fits_the_phone(page)
        assert errors == []


async def assert_fits_the_phone(page: Page) -> None:
    width = await page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"
    # Everything tappable is at least 44 CSS pixels high.
    low = await page.evaluate(
        """() => [...document.querySelectorAll("button, input:not([type=radio]), select, a.button")]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.outerHTML.slice(0, 60), el.getBoundingClientRect().height])
            .filter(([, height]) => height < 44)"""
    )
    assert low == [], f"tap targets too small: {low}"
