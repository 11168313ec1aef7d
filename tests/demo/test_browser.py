"""The reference frontend at /demo, clicked through by a customer in real headless Chromium.

Each test asserts what the customer sees at each step (stable `data-testid`s; the Turkish
text is checked where it is the point), runs axe-core on the views (no serious or critical
violation) and saves screenshots under tests/demo/artifacts/ (printed at the end of the run).
"""

import asyncio
import re
from typing import Any

from playwright.async_api import BrowserContext, Page, Request, Route, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from tests.demo.conftest import Axe, Browser, Gateway, Shot

TEST_SECONDS = 120  # the bound of one whole test, should any wait misbehave
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
APPROVING_CARD = "4242 4242 4242 4242"
DECLINING_CARD = "4000 0000 0000 0002"
# English the gateway writes for developers; the page must never show it.
ENGLISH = re.compile(r"is not a valid|is required|must be|Field required|The request|Check these")


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


def by_field(name: str) -> str:
    """The input of the API field `name`: the one selector the views and errors share."""
    return f'[data-field="{name}"] input, [data-field="{name}"] select'


async def assert_no_english(page: Page) -> None:
    """Nothing the gateway wrote for developers, and no leaked `null` / `undefined`."""
    text = await page.locator("main").inner_text()
    assert not ENGLISH.search(text), f"the gateway's English reached the page: {text!r}"
    assert not re.search(r"\b(null|undefined|NaN)\b", text), f"a missing value shows: {text!r}"


async def tab_to(page: Page, selector: str, presses: int = 120) -> None:
    """Press Tab until the element `selector` has the focus: reachable by keyboard, in order."""
    for _ in range(presses):
        await page.keyboard.press("Tab")
        if await page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


async def sign_in(page: Page, base: str, shot: Shot, axe: Axe | None = None) -> None:
    await page.goto(f"{base}/demo/")
    await expect(page.get_by_test_id("view-sign-in")).to_be_visible()  # GET /session: 401
    await expect(page.get_by_test_id("consent-KVKK")).to_be_visible()  # GET /consents
    await expect(page.get_by_test_id("hint")).to_contain_text("11111111110")
    await page.fill(by_field("identityNumber"), "11111111110")
    await page.fill(by_field("birthDate"), "1990-01-01")
    await page.fill(by_field("phoneNumber"), "+90 532 123 45 67")
    # In development the notices have no address: their text is built in, one click away.
    notice = page.get_by_test_id("notice-KVKK")
    await notice.locator("summary").click()
    await expect(notice).to_contain_text("6698 sayılı")
    await page.get_by_test_id("consent-KVKK").check()
    await shot(page, "01-sign-in")
    if axe:
        await axe(page, "sign-in")
    await page.get_by_role("button", name="Devam et").click()

    await expect(page.get_by_test_id("view-sms")).to_be_visible()
    await page.fill(by_field("code"), "123456")
    await shot(page, "02-sms")
    if axe:
        await axe(page, "sms")
    await page.get_by_role("button", name="Doğrula").click()
    await expect(page.get_by_test_id("greeting")).to_have_text("Merhaba, Ada Y.")
    await expect(page.get_by_test_id("view-vehicle")).to_be_visible()


async def find_car_and_quote(page: Page, shot: Shot, axe: Axe | None = None) -> None:
    await page.fill(by_field("plate"), "34 abc 123")
    await page.fill(by_field("documentSerial"), "AB123456")
    await page.get_by_role("button", name="Aracı sorgula").click()
    facts = page.get_by_test_id("vehicle-facts")
    await expect(facts).to_contain_text("RENAULT CLIO")
    await expect(facts).to_contain_text("2021")
    await expect(facts).to_contain_text("34ABC123")
    await shot(page, "03-vehicle")
    if axe:
        await axe(page, "vehicle")
    await facts.get_by_role("button", name="Teklifleri getir").click()
    await expect(page.get_by_test_id("view-quotes")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"#/quotes/[^?]+\?vehicle="))


async def api_json(page: Page, path: str) -> Any:
    """The gateway's own answer (the page's cookie session), to check the page against it."""
    base = page.url.split("/demo/")[0]
    answer = await page.request.get(f"{base}/api/v1{path}")
    assert answer.ok, await answer.text()
    return await answer.json()


def quote_id_of(page: Page) -> str:
    return page.url.split("#/quotes/")[1].split("?")[0]


async def compare(page: Page, shot: Shot, transport: str) -> dict[str, Any]:
    """The comparison completes; products are grouped by package in the API's order; insurers
    are counted once; robot prices have a call-back instead of a pay button and are never
    called the lowest. Returns the quote as the API has it."""
    status = page.get_by_test_id("quotes-status")
    await expect(status).to_have_attribute("data-complete", "true", timeout=30_000)
    await expect(page.get_by_test_id("products")).to_have_attribute("data-transport", transport)
    await shot(page, "04-quotes")

    quote = await api_json(page, f"/quotes/{quote_id_of(page)}")
    groups = page.get_by_test_id("group")
    names = [await g.locator("h2").inner_text() for g in await groups.all()]
    assert names == list(dict.fromkeys(p["coverageGroup"]["name"] for p in quote["products"]))
    assert set(names) == {"Dar Kasko", "Genişletilmiş Kasko"}
    for group in await groups.all():
        name = await group.locator("h2").inner_text()
        api_order = [p for p in quote["products"] if p["coverageGroup"]["name"] == name]
        shown = await group.get_by_test_id("product").evaluate_all(
            "cards => cards.map(c => c.dataset.productId)"
        )
        assert shown == [p["productId"] for p in api_order], "each package in the API's order"
        insurers = len({p["insurer"]["id"] for p in api_order})
        assert len(api_order) >= insurers  # the sandbox prices one product per insurer
        await expect(group.get_by_test_id("group-summary")).to_contain_text(
            f"{insurers} sigorta şirketi"
        )
    all_insurers = len({p["insurer"]["id"] for p in quote["products"]})
    await expect(status).to_contain_text(f"{all_insurers} sigorta şirketinden")

    # Robot prices: why there is no pay button, and a call-back; never "the lowest".
    robots = page.locator('[data-testid=product][data-reason="robot"]')
    assert await robots.count() >= 1
    await expect(robots.first.get_by_test_id("not-purchasable")).to_contain_text("temsilcisi")
    await expect(robots.first.get_by_test_id("call-me-back")).to_be_visible()
    assert await robots.get_by_test_id("buy").count() == 0
    assert await robots.get_by_test_id("lowest").count() == 0
    lowest = page.get_by_test_id("lowest")
    assert await lowest.count() == len(names)  # one per package
    for badge in await lowest.all():
        card = badge.locator("xpath=ancestor::li[@data-testid='product']")
        assert await card.get_attribute("data-purchasable") == "true"
    buyable = page.locator('[data-testid=product][data-purchasable="true"]')
    assert await buyable.count() >= 1
    assert await buyable.get_by_test_id("buy").count() == await buyable.count()
    failed = page.locator('[data-testid=product][data-state="failed"]')
    if await failed.count():
        await expect(failed.first.get_by_test_id("retry-product")).to_be_visible()
    await assert_no_english(page)
    return dict(quote)


async def coverage_and_side_by_side(page: Page, shot: Shot) -> None:
    """Coverage lines on demand, then two or three products side by side."""
    first = page.locator('[data-testid=product][data-state="active"]').first
    await first.get_by_test_id("coverage-toggle").click()
    await expect(first.get_by_test_id("coverage")).to_contain_text("İhtiyari mali mesuliyet")
    await expect(first.get_by_test_id("coverage-toggle")).to_have_attribute("aria-expanded", "true")
    checks = page.get_by_test_id("compare-check")
    for i in range(3):
        await checks.nth(i).check()
    assert await checks.nth(3).is_disabled(), "three at most"
    await page.get_by_test_id("compare").click()
    table = page.get_by_test_id("comparison").locator("table")
    await expect(table.locator("thead th")).to_have_count(3)
    await expect(table).to_contain_text("Onarım servisi")
    await expect(table).to_contain_text("Peşin fiyat")
    await shot(page, "04b-compare")


async def choose_product(page: Page, selector: str, installments: str) -> str:
    card = page.locator(selector).first
    product_id = await card.get_attribute("data-product-id")
    assert product_id
    await card.locator(f'input[type=radio][value="{installments}"]').check()
    await card.get_by_test_id("buy").click()
    await expect(page.get_by_test_id("view-pay")).to_be_visible()
    await expect(page.locator(by_field("installmentNumber"))).to_have_value(installments)
    return product_id


CARD_PRODUCT = '[data-testid=product][data-purchasable="true"][data-methods~="3d-secure"]'
REDIRECT_PRODUCT = (
    '[data-testid=product][data-purchasable="true"]'
    '[data-methods~="insurance-company-redirect"]:not([data-methods~="3d-secure"])'
)


async def fill_card(page: Page, number: str) -> None:
    await page.fill(by_field("card.number"), number)
    await page.fill(by_field("card.expiryMonth"), "12")
    await page.fill(by_field("card.expiryYear"), "2030")
    await page.fill(by_field("card.cvc"), "123")
    await page.fill(by_field("card.holderName"), "ADA YILMAZ")


async def open_information_form(page: Page, *, keyboard: bool = False) -> None:
    """The form opens in a new tab as a PDF the gateway serves (and notes as opened); only
    then can it be accepted, and only then can the customer pay."""
    accept = page.get_by_test_id("information-form-accepted")
    await expect(accept).to_be_disabled()
    await expect(page.get_by_test_id("pay")).to_be_disabled()
    async with (
        page.context.expect_page() as opened,
        page.context.expect_event(
            "response", lambda r: "/information-form" in r.url and r.status == 200
        ) as answered,
    ):
        if keyboard:
            await tab_to(page, "[data-testid=information-form]")
            await page.keyboard.press("Enter")
        else:
            await page.get_by_test_id("information-form").click()
    assert (await answered.value).headers["content-type"] == "application/pdf"
    await (await opened.value).close()
    await expect(accept).to_be_enabled()
    await expect(page.get_by_test_id("pay")).to_be_disabled()
    if keyboard:
        await tab_to(page, "[data-testid=information-form-accepted]")
        await page.keyboard.press("Space")
    else:
        await accept.check()
    await expect(page.get_by_test_id("pay")).to_be_enabled()


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


async def test_a_customer_buys_kasko_through_the_3d_secure_form_post(
    gateway: Gateway, browser: Browser, shot: Shot, axe: Axe
) -> None:
    """The whole sale at desktop size: consents, SMS code, car, comparison (coverage, side by
    side, a call-back for a robot price), the information form, the bank page reached by a
    real form post, the policy and its PDF; afterwards the quote's other pay buttons say why
    they are off. axe-core finds no serious violation on any view."""
    async with (
        asyncio.timeout(TEST_SECONDS),
        gateway(env={"SANDBOX_PURCHASE_FORM_POST": "true"}) as served,
        browser(**DESKTOP) as context,
    ):
        page, errors = await new_page(context)
        await sign_in(page, served.base, shot, axe)
        await find_car_and_quote(page, shot, axe)
        await compare(page, shot, transport="sse")
        await coverage_and_side_by_side(page, shot)
        robot = page.locator('[data-testid=product][data-reason="robot"]').first
        await robot.get_by_test_id("call-me-back").click()
        await expect(robot.get_by_test_id("call-back-sent")).to_contain_text("sizi")
        await axe(page, "quotes")
        quote_url = page.url

        await choose_product(page, CARD_PRODUCT, installments="3")
        await fill_card(page, APPROVING_CARD)
        await open_information_form(page)
        await expect(page.get_by_test_id("total")).to_contain_text("3 taksit")
        await shot(page, "05-pay")
        await axe(page, "pay")
        async with page.expect_request(
            lambda r: "/sandbox/pay/" in r.url and r.method == "POST"
        ) as posted:
            await page.get_by_test_id("pay").click()
        form = (await posted.value).post_data
        assert form and "PaReq=" in form and "MD=" in form and "TermUrl=" in form
        await through_the_bank(page, "4242", shot)

        result = page.get_by_test_id("payment-status")
        await expect(result).to_have_attribute("data-status", "succeeded")
        await expect(page.get_by_test_id("policy-number")).to_have_text(re.compile(r"^[\w-]{4,}$"))
        await shot(page, "07-result")
        await axe(page, "result")

        href = await page.get_by_test_id("policy-pdf").get_attribute("href")
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

        # Bought: the quote's other pay buttons are off, and say why.
        await page.goto(quote_url)
        await expect(page.get_by_test_id("quotes-status")).to_have_attribute(
            "data-complete", "true"
        )
        await expect(page.get_by_test_id("quote-lock")).to_contain_text("satın alındı")
        others = page.locator('[data-testid=product][data-purchasable="true"]')
        assert await others.count() >= 1
        for card in await others.all():
            await expect(card.get_by_test_id("buy")).to_be_disabled()
            await expect(card.get_by_test_id("buy-disabled-reason")).to_contain_text("satın alındı")
        await expect(page.locator('[data-testid=product][data-state="purchased"]')).to_have_count(1)
        await shot(page, "08-quote-after-sale")
        await assert_no_english(page)
        # Card data never reaches storage: there is nothing in it at all.
        stored = await page.evaluate("() => localStorage.length + sessionStorage.length")
        assert stored == 0
        assert errors == []


async def test_with_the_keyboard_alone_a_wrong_code_and_a_declined_card_are_explained(
    gateway: Gateway, browser: Browser, shot: Shot
) -> None:
    """No mouse from sign-in to the bank: every control is reached with Tab in order and used
    with Enter or Space. A wrong SMS code is said in Turkish under its input; the declining
    card fails fast as `declined` (no money taken), with a way to pay again or a new quote.

    InsurUp's `purchase_failed` webhook comes a second after the bank page here, as real
    webhooks do: the embedded sandbox otherwise delivers it in process before the browser
    reaches the callback, and the gateway then calls the decline `abandoned`."""
    webhook_after_redirect = {"SANDBOX_WEBHOOK_DELAY_SECONDS": "1"}
    async with (
        asyncio.timeout(TEST_SECONDS),
        gateway(env=webhook_after_redirect) as served,
        browser(**DESKTOP) as context,
    ):
        page, errors = await new_page(context)
        await page.goto(f"{served.base}/demo/")
        await expect(page.get_by_test_id("consent-KVKK")).to_be_visible()
        # The identity input has the focus; type, Tab on, in the order of the form.
        await page.keyboard.type("11111111110")
        await tab_to(page, "#f-birthDate")
        await page.keyboard.type("01011990")  # tr-TR: GG.AA.YYYY
        await tab_to(page, "#f-phoneNumber")
        await page.keyboard.type("05321234567")
        await tab_to(page, "[data-testid=consent-KVKK]")
        await page.keyboard.press("Space")
        await tab_to(page, "[data-testid=notice-KVKK] summary")
        await page.keyboard.press("Enter")
        await expect(page.get_by_test_id("notice-KVKK")).to_have_attribute("open", "")
        await tab_to(page, "button[type=submit]")
        await page.keyboard.press("Enter")

        await expect(page.get_by_test_id("view-sms")).to_be_visible()
        await page.keyboard.type("000000")
        await page.keyboard.press("Enter")
        await expect(page.get_by_test_id("error-code")).to_contain_text("SMS kodu hatalı")
        await expect(page.locator(by_field("code"))).to_have_attribute("aria-invalid", "true")
        await assert_no_english(page)
        await shot(page, "02-wrong-code")
        await page.keyboard.type("123456")  # the wrong code is selected: typing replaces it
        await page.keyboard.press("Enter")

        await expect(page.get_by_test_id("view-vehicle")).to_be_visible()
        await page.keyboard.type("34ABC123")
        await tab_to(page, "#f-documentSerial")
        await page.keyboard.type("AB123456")
        await page.keyboard.press("Enter")
        await expect(page.get_by_test_id("vehicle-facts")).to_contain_text("RENAULT CLIO")
        await page.keyboard.press("Enter")  # "Teklifleri getir" has the focus
        await expect(page.get_by_test_id("view-quotes")).to_be_visible()
        await expect(page.get_by_test_id("quotes-status")).to_have_attribute(
            "data-complete", "true", timeout=30_000
        )
        product_id = await page.locator(CARD_PRODUCT).first.get_attribute("data-product-id")
        await tab_to(page, f'[data-product-id="{product_id}"] [data-testid=buy]', presses=200)
        await page.keyboard.press("Enter")

        await expect(page.get_by_test_id("view-pay")).to_be_visible()
        await tab_to(page, "#f-card-number")
        await page.keyboard.type(DECLINING_CARD)
        for name, value in (
            ("expiryMonth", "12"),
            ("expiryYear", "2030"),
            ("cvc", "123"),
            ("holderName", "ADA YILMAZ"),
        ):
            await tab_to(page, f"#f-card-{name}", presses=3)
            await page.keyboard.type(value)
        await open_information_form(page, keyboard=True)
        await tab_to(page, "[data-testid=pay]", presses=3)
        await shot(page, "05-pay")
        await page.keyboard.press("Enter")
        await through_the_bank(page, "0002", shot)

        result = page.get_by_test_id("payment-status")
        await expect(result).to_have_attribute("data-status", "failed")
        await expect(result).to_have_attribute("data-reason", "declined")
        await expect(page.get_by_test_id("failure-reason")).to_contain_text("para çekilmedi")
        await expect(page.get_by_test_id("pay-again")).to_have_attribute(
            "href", re.compile(f"#/pay/[^/]+/{product_id}\\?installment=1")
        )
        await shot(page, "07-result")
        await assert_no_english(page)
        again = await page.get_by_test_id("pay-again").get_attribute("href") or ""
        old_quote = again.split("/")[2]
        await page.get_by_test_id("new-quote").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_test_id("view-quotes")).to_be_visible()
        assert quote_id_of(page) != old_quote
        assert errors == []


async def test_on_a_phone_with_a_slow_and_failing_insurup_the_sale_still_goes_through(
    gateway: Gateway, browser: Browser, shot: Shot, axe: Axe
) -> None:
    """390x844, InsurUp slow (SANDBOX_LATENCY_SECONDS) and failing: Turkish errors by their
    inputs, progress on the plate lookup and on the pay page, a clear message and a retry
    at the gateway's timeout, the event stream broken (the client polls) and a failing poll
    retried; then paid on the insurer's own page. Nothing scrolls sideways."""
    slow = {"SANDBOX_LATENCY_SECONDS": "vehicle_lookup=1.2,purchase=1.2"}
    async with (
        asyncio.timeout(TEST_SECONDS),
        gateway(env=slow, insurup_timeout_seconds=2) as served,
        browser(**PHONE) as context,
    ):
        page, errors = await new_page(context)
        await page.goto(f"{served.base}/demo/")
        await expect(page.get_by_test_id("consent-KVKK")).to_be_visible()
        await page.fill(by_field("identityNumber"), "11111111111")  # bad checksum
        await page.fill(by_field("birthDate"), "1990-01-01")
        await page.fill(by_field("phoneNumber"), "0532 123 45")  # too short
        await page.get_by_role("button", name="Devam et").tap()
        await expect(page.get_by_test_id("error-identityNumber")).to_contain_text("T.C. Kimlik No")
        await expect(page.get_by_test_id("error-phoneNumber")).to_contain_text("cep telefonu")
        await expect(page.get_by_test_id("error-consents")).to_contain_text("KVKK")
        await expect(page.locator(by_field("identityNumber"))).to_have_attribute(
            "aria-invalid", "true"
        )
        await expect(page.get_by_test_id("banner")).to_be_hidden()
        await assert_no_english(page)
        await shot(page, "01-sign-in-errors")
        await axe(page, "sign-in-errors")
        await assert_fits_the_phone(page)

        await page.fill(by_field("identityNumber"), "11111111110")
        await page.fill(by_field("phoneNumber"), "0532 123 45 67")
        await page.get_by_test_id("consent-KVKK").tap()
        await page.get_by_test_id("consent-ETK").tap()
        await page.get_by_role("button", name="Devam et").tap()
        await page.fill(by_field("code"), "123456")
        await page.get_by_role("button", name="Doğrula").tap()
        await expect(page.get_by_test_id("view-vehicle")).to_be_visible()

        # InsurUp hangs: the gateway gives up at its timeout; the page says so and offers a retry.
        served.faults.timeout.add("vehicle_lookup")
        await page.fill(by_field("plate"), "34ABC123")
        await page.fill(by_field("documentSerial"), "AB123456")
        await page.get_by_role("button", name="Aracı sorgula").tap()
        await expect(page.get_by_test_id("lookup-progress")).to_be_visible()
        banner = page.get_by_test_id("banner")
        await expect(banner).to_contain_text("zamanında yanıt vermedi")
        await shot(page, "02-timeout")
        await assert_no_english(page)
        await assert_fits_the_phone(page)
        served.faults.timeout.clear()
        await banner.get_by_test_id("retry").tap()
        await expect(page.get_by_test_id("lookup-progress")).to_be_visible()  # slow, not stuck
        await expect(page.get_by_test_id("vehicle-facts")).to_contain_text("RENAULT CLIO")
        await expect(banner).to_be_hidden()

        # The event stream is broken and the first polls fail: the page keeps asking.
        await page.route("**/api/v1/quotes/*/events", lambda route: route.abort())
        polls = 0

        async def flaky(route: Route, request: Request) -> None:
            nonlocal polls
            polls += 1
            if polls == 1:  # InsurUp failed: the client goes on polling by itself
                await route.fulfill(status=502, json=problem(502, "upstream_error"))
            elif polls == 2:  # a failure that ends the events: the customer retries
                await route.fulfill(status=404, json=problem(404, "not_found"))
            else:
                await route.continue_()

        await page.route(re.compile(r"/api/v1/quotes/[^/?]+$"), flaky)
        await page.get_by_test_id("vehicle-facts").get_by_role("button").tap()
        await expect(page.get_by_test_id("view-quotes")).to_be_visible()
        retry = page.get_by_test_id("banner").get_by_test_id("retry")
        await expect(retry).to_be_visible()
        await expect(page.get_by_test_id("banner")).to_contain_text("bulunamadı")
        await shot(page, "03-quotes-failed")
        await assert_no_english(page)
        await retry.tap()
        await compare(page, shot, transport="polling")
        assert polls >= 3
        await axe(page, "quotes")
        await assert_fits_the_phone(page)

        await choose_product(page, REDIRECT_PRODUCT, installments="1")
        await expect(page.locator(by_field("card.number"))).to_be_hidden()
        await open_information_form(page)
        await shot(page, "05-pay")
        await axe(page, "pay")
        await assert_fits_the_phone(page)
        await page.get_by_test_id("pay").tap()
        await expect(page.get_by_test_id("pay-progress")).to_be_visible()  # InsurUp is slow
        await page.wait_for_url(re.compile(r"/insurup-sandbox/sandbox/pay/"))
        await expect(page.get_by_text("Sigorta şirketi ödeme sayfası")).to_be_visible()
        await page.get_by_role("button", name=re.compile("Approve")).tap()
        await back_on_the_result_view(page, shot)
        await expect(page.get_by_test_id("payment-status")).to_have_attribute(
            "data-status", "succeeded"
        )
        await expect(page.get_by_test_id("policy-pdf")).to_be_visible()
        await shot(page, "07-result")
        await axe(page, "result")
        await assert_fits_the_phone(page)
        assert errors == []


async def test_a_payment_under_way_can_be_followed_or_left_for_a_new_quote(
    gateway: Gateway, browser: Browser, shot: Shot
) -> None:
    """Another product of the quote is being paid for (another tab started it): paying here
    answers 409 payment_in_progress with that payment; the page offers to follow it or to get
    a new quote for the same car, which works. The stuck quote's buttons say why they are off."""
    async with asyncio.timeout(TEST_SECONDS), gateway() as served, browser(**DESKTOP) as context:
        page, errors = await new_page(context)
        await sign_in(page, served.base, shot)
        await find_car_and_quote(page, shot)
        quote = await compare(page, shot, transport="sse")
        quote_url = page.url
        mine = await choose_product(page, REDIRECT_PRODUCT, installments="1")
        await open_information_form(page)

        # Meanwhile, in another tab: another product of the same quote goes to the bank.
        other = next(
            p
            for p in quote["products"]
            if p["purchasable"] and p["productId"] != mine and p["paymentMethods"]
        )
        paying = await start_payment(page, quote["quoteId"], other)

        await page.get_by_test_id("pay").click()
        stuck = page.get_by_test_id("payment-in-progress")
        await expect(stuck).to_be_visible()
        await expect(stuck).to_be_focused()
        await expect(stuck).to_contain_text("ödeme sürüyor")
        await expect(page.get_by_test_id("follow-payment")).to_have_attribute(
            "href", f"#/payment-result?paymentId={paying}"
        )
        await expect(page.get_by_test_id("pay")).to_be_disabled()
        await shot(page, "05-payment-in-progress")
        await assert_no_english(page)

        # The stuck quote: every other pay button is off, with the reason and a way out.
        await page.goto(quote_url)
        await expect(page.get_by_test_id("quotes-status")).to_have_attribute(
            "data-complete", "true"
        )
        await expect(page.get_by_test_id("quote-lock")).to_contain_text("ödeme sürüyor")
        for card in await page.locator('[data-testid=product][data-purchasable="true"]').all():
            await expect(card.get_by_test_id("buy")).to_be_disabled()
            await expect(card.get_by_test_id("buy-disabled-reason")).to_contain_text(
                other["insurer"]["name"]
            )
        await shot(page, "06-stuck-quote")
        await assert_no_english(page)

        await page.get_by_test_id("quote-lock").get_by_test_id("new-quote").click()
        await expect(page).not_to_have_url(quote_url)
        await expect(page).to_have_url(re.compile(r"#/quotes/[^?]+\?vehicle="))
        await expect(page.get_by_test_id("quotes-status")).to_have_attribute(
            "data-complete", "true", timeout=30_000
        )
        await expect(page.get_by_test_id("quote-lock")).to_be_hidden()
        fresh = page.locator('[data-testid=product][data-purchasable="true"]').first
        await expect(fresh.get_by_test_id("buy")).to_be_enabled()
        await shot(page, "07-new-quote")
        assert errors == []


async def start_payment(page: Page, quote_id: str, product: dict[str, Any]) -> str:
    """What a second tab would do, through the API with the same cookie session."""
    base = page.url.split("/demo/")[0]
    path = f"{base}/api/v1/quotes/{quote_id}/products/{product['productId']}"
    form = await page.request.get(f"{path}/information-form")
    assert form.ok
    method = product["paymentMethods"][0]
    body: dict[str, Any] = {
        "installmentNumber": 1,
        "method": method,
        "informationFormAccepted": True,
    }
    if method != "insurance-company-redirect":
        body["card"] = {
            "number": APPROVING_CARD.replace(" ", ""),
            "expiryMonth": "12",
            "expiryYear": "2030",
            "cvc": "123",
            "holderName": "ADA YILMAZ",
        }
    started = await page.request.post(
        f"{path}/purchase",
        data=body,
        headers={"X-CSRF": "1", "Idempotency-Key": "second-tab-0001"},
    )
    assert started.status == 201, await started.text()
    payment_id = (await started.json())["paymentId"]
    assert isinstance(payment_id, str)
    return payment_id


def problem(status: int, code: str) -> dict[str, Any]:
    return {
        "type": f"https://kasko-gateway.dev/problems/{code}",
        "title": "Failure",
        "status": status,
        "detail": "English the page must not show",
        "code": code,
        "requestId": "test",
    }


async def assert_fits_the_phone(page: Page) -> None:
    width = await page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"
    # Everything tappable is at least 44 CSS pixels high.
    low = await page.evaluate(
        """() => [...document.querySelectorAll(
                "button, input:not([type=radio]):not([type=checkbox]), select, a.button")]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.outerHTML.slice(0, 60), el.getBoundingClientRect().height])
            .filter(([, height]) => height < 44)"""
    )
    assert low == [], f"tap targets too small: {low}"
