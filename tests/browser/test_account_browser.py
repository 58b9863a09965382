"""Residents' accounts in Chromium, on a phone-sized and a desktop viewport: sign up, verify by the link a real SMTP
server received, sign in, reset the password, notifications (the permission prompt only after the click; the
service worker's push handler shows a push delivered through the DevTools protocol), export my data, delete my
account; axe-core on every account page type; screenshots of each in tests/browser/screenshots/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import DESKTOP, PHONE, SCREENSHOTS, Tab, World, axe_violations, open_tab
from smtp_mailbox import Mailbox, running

from komunikator.engine.delivery.channels import InboxChannel, SmtpChannel, SmtpSettings, close_channels
from komunikator.engine.delivery.jobs import deliver_pending
from komunikator.engine.delivery.push import VapidKeys

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
PASSWORD = "hasło-mieszkanki-7"
NEW_PASSWORD = "nowe-hasło-mieszkanki-8"
ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0.0.0 Mobile Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.4 Mobile/15E148 Safari/604.1")
#: counts `Notification.requestPermission` calls (a DevTools init script: the page's CSP does not apply to it)
COUNT_PROMPTS = """
window.__prompts = 0;
if (window.Notification) {
  const ask = Notification.requestPermission.bind(Notification);
  Notification.requestPermission = function () { window.__prompts += 1; return ask.apply(null, arguments); };
}
"""


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with running() as box:
        yield box


@pytest.fixture
def push_keys(monkeypatch: pytest.MonkeyPatch) -> VapidKeys:
    """VAPID keys in the environment the server process starts with (the settings page offers push)."""
    keys = VapidKeys.generate("mailto:it@zgierz.example.pl")
    monkeypatch.setenv("KOMUNIKATOR_VAPID_PRIVATE_KEY", keys.private_raw())
    return keys


@pytest.fixture
def city(push_keys: VapidKeys, world: World) -> World:
    """The seeded city, its server started after the keys were set."""
    return world


async def deliver(mailbox: Mailbox) -> None:
    channels: dict[str, Any] = {"email": SmtpChannel(SmtpSettings(port=mailbox.port, timeout=5)),
                                "inbox": InboxChannel()}
    await deliver_pending(_registry(), channels=channels)
    await close_channels(channels)


def _registry() -> Any:
    from komunikator.engine.settings import Settings
    from komunikator.engine.tenants import TenantRegistry

    return TenantRegistry.load(Settings.from_env())


async def check(tab: Tab, name: str) -> None:
    """No serious/critical axe violation and no CSP violation, at both sizes; a screenshot at each."""
    page = tab.page
    size = page.viewport_size
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        assert await axe_violations(tab) == [], f"{name} ({label})"
        SCREENSHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"account-{name}-{label}.png"), full_page=True)
    await page.set_viewport_size(size)
    assert tab.csp_violations() == [], name


async def sign_in(tab: Tab, city: World, email: str, password: str) -> None:
    page = tab.page
    await page.goto(city.url("/konto/logowanie"))
    await page.fill("#email", email)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_load_state("load")


async def test_a_resident_signs_up_verifies_signs_in_and_resets_the_password_on_a_phone(
    city: World, browser: Any, mailbox: Mailbox
) -> None:
    email = "ewa.mieszkanka@example.pl"
    tab = await open_tab(browser, viewport=PHONE)
    page = tab.page
    await page.goto(city.url("/"))
    await page.click("nav >> text=Zaloguj się")
    await page.click("text=Załóż konto")
    assert await page.title() == "Załóż konto – Urząd Miasta Zgierza"
    await check(tab, "sign-up")
    # a mistake first: the error summary takes the focus, the field says what is wrong
    await page.fill("#email", email)
    await page.fill("#display_name", "Ewa")
    await page.fill("#password", PASSWORD)
    await page.fill("#password_again", "inne")
    await page.click("button[type=submit]")
    assert (await page.title()).startswith("Błąd: ")
    assert await page.evaluate("document.activeElement.classList.contains('error-summary')")
    await check(tab, "sign-up-error")
    await page.fill("#password", PASSWORD)
    await page.fill("#password_again", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("text=Sprawdź pocztę e-mail")
    await check(tab, "check-mail")

    await deliver(mailbox)
    await page.goto(city.url(mailbox.link(email, "/konto/potwierdz/")))
    await check(tab, "confirm-link")
    await page.click("button[type=submit]")
    await page.wait_for_selector("text=Adres został potwierdzony")
    await check(tab, "verified")

    await sign_in(tab, city, email, PASSWORD)
    assert page.url.endswith("/konto")
    assert await page.locator("h1").inner_text() == "Moje konto"
    await check(tab, "home")

    # forgotten password: a link by e-mail, a new password, every session ends
    other = await open_tab(browser, viewport=PHONE)
    await other.page.goto(city.url("/konto/logowanie"))
    await other.page.click("text=Nie pamiętasz hasła?")
    await check(other, "reset-ask")
    await other.page.fill("#email", email)
    await other.page.click("button[type=submit]")
    await other.page.wait_for_selector("text=Sprawdź pocztę e-mail")
    await deliver(mailbox)
    await other.page.goto(city.url(mailbox.link(email, "/konto/haslo/nowe/")))
    await check(other, "reset-set")
    await other.page.fill("#password", NEW_PASSWORD)
    await other.page.fill("#password_again", NEW_PASSWORD)
    await other.page.click("button[type=submit]")
    await other.page.wait_for_selector("text=Nowe hasło zostało ustawione")
    await page.goto(city.url("/konto"))
    assert "/konto/logowanie" in page.url  # the phone's session ended with the reset
    await sign_in(tab, city, email, PASSWORD)
    assert (await page.title()).startswith("Błąd: ")
    await check(tab, "sign-in-error")
    await sign_in(tab, city, email, NEW_PASSWORD)
    assert page.url.endswith("/konto")
    # the resident's session never opens the staff workspace
    await page.goto(city.url("/staff/"))
    assert "/staff/login" in page.url
    await page.context.close()
    await other.page.context.close()


async def _resident(city: World, mailbox: Mailbox, browser: Any, email: str, **context: Any) -> Tab:
    """A verified resident signed in in a fresh context (in the language its locale asks for)."""
    tab = await open_tab(browser, **context)
    page = tab.page
    english = str(context.get("locale", "pl-PL")).startswith("en")  # the portal follows Accept-Language
    check_mail, confirmed = (("Check your e-mail", "The address is confirmed") if english
                             else ("Sprawdź pocztę e-mail", "Adres został potwierdzony"))
    await page.goto(city.url("/konto/rejestracja"))
    await page.fill("#email", email)
    await page.fill("#display_name", "Piotr")
    await page.fill("#password", PASSWORD)
    await page.fill("#password_again", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector(f"text={check_mail}")
    await deliver(mailbox)
    await page.goto(city.url(mailbox.link(email, "/konto/potwierdz/")))
    await page.click("button[type=submit]")
    await page.wait_for_selector(f"text={confirmed}")
    await sign_in(tab, city, email, PASSWORD)
    return tab


async def test_notifications_need_a_click_and_the_service_worker_shows_a_push(
    city: World, browser: Any, mailbox: Mailbox
) -> None:
    tab = await _resident(city, mailbox, browser, "piotr@example.pl", viewport=DESKTOP)
    page = tab.page
    await page.context.add_init_script(COUNT_PROMPTS)
    await page.context.grant_permissions(["notifications"], origin=city.base)
    await page.goto(city.url("/konto/ustawienia"))
    button = page.locator("[data-push-subscribe]")
    await button.wait_for(state="visible")
    assert await page.evaluate("window.__prompts") == 0  # nothing asked on load
    await check(tab, "settings")
    # the real subscription: Chromium asks its push service; headless Chromium without Google's push
    # service refuses, and the page says so (a real browser gets an endpoint and the device is listed)
    await button.click()
    status = page.locator("[data-push-status]")
    await page.wait_for_function(
        "() => document.querySelector('[data-push-status]').textContent.length > 0"
        " || location.search.includes('zapisano')")
    assert await page.evaluate("window.__prompts") == 1  # the prompt followed the click
    said = await status.inner_text() if await status.count() else ""
    subscribed = "zapisano" in page.url or "włączone" in said
    assert subscribed or "Nie udało się włączyć powiadomień" in said, said

    # the service worker (the portal's /sw.js with /sw-push.js) shows what a push service would deliver
    registration = await page.evaluate(
        "navigator.serviceWorker.ready.then(r => r.active && r.active.scriptURL)")
    assert registration and registration.endswith("/sw.js")
    # fetched by the page (Chromium resolves *.localhost itself; Playwright's own request client does not)
    assert "importScripts('/sw-push.js')" in await page.evaluate("fetch('/sw.js').then(r => r.text())")
    cdp = await page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    await cdp.send("ServiceWorker.enable")
    for _ in range(50):
        if registrations:
            break
        await page.wait_for_timeout(100)
    [found] = [r for r in registrations if r["scopeURL"] == city.url("/")]
    payload = {"title": "Urząd Miasta Zgierza", "body": "ZG-2026-000001: Odrzucone",
               "url": "https://zgierz.localhost/zgloszenia/ZG-2026-000001", "tag": "t" * 32, "lang": "pl"}
    await cdp.send("ServiceWorker.deliverPushMessage", {"origin": city.base, "registrationId": found["registrationId"],
                                                        "data": json.dumps(payload)})
    shown: list[dict[str, Any]] = []
    for _ in range(50):
        shown = await page.evaluate("""navigator.serviceWorker.ready.then(r => r.getNotifications()).then(
            list => list.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url})))""")
        if shown:
            break
        await page.wait_for_timeout(100)
    assert shown == [{"title": "Urząd Miasta Zgierza", "body": "ZG-2026-000001: Odrzucone", "tag": "t" * 32,
                      "url": "https://zgierz.localhost/zgloszenia/ZG-2026-000001"}]
    (SCREENSHOTS / "account-push-figures.json").write_text(json.dumps(
        {"real_subscription": subscribed, "status_text": said, "notification": shown[0]}, ensure_ascii=False))
    await page.context.close()


async def test_on_an_iphone_outside_the_app_the_page_explains_the_home_screen(
    city: World, browser: Any, mailbox: Mailbox
) -> None:
    tab = await _resident(city, mailbox, browser, "ola@example.pl", viewport=PHONE)
    await tab.page.context.close()
    context = await browser.new_context(locale="pl-PL", viewport=PHONE, user_agent=IPHONE)
    await context.add_init_script(COUNT_PROMPTS)
    page = await context.new_page()
    iphone = Tab(page)
    page.on("console", lambda message: iphone.console.append(f"{message.type}: {message.text}"))
    await sign_in(iphone, city, "ola@example.pl", PASSWORD)
    await page.goto(city.url("/konto/ustawienia"))
    explained = page.locator("[data-push-ios]")
    await explained.wait_for(state="visible")
    assert "ekranu początkowego" in await explained.inner_text()
    assert not await page.locator("[data-push-subscribe]").is_visible()  # no button that cannot work
    assert await page.evaluate("window.__prompts") == 0
    await check(iphone, "settings-iphone")
    await context.close()


async def test_export_my_data_then_delete_my_account(city: World, browser: Any, mailbox: Mailbox,
                                                     tmp_path: Path) -> None:
    tab = await _resident(city, mailbox, browser, "marta@example.pl", viewport=DESKTOP, locale="pl-PL")
    page = tab.page
    await page.goto(city.url("/konto"))
    await page.click("text=Moje dane: pobierz lub usuń")
    await check(tab, "privacy")
    download_button = page.get_by_role("button", name="Pobierz", exact=True)  # not the heading "Pobierz moje dane"
    async with page.expect_download() as download:
        await download_button.click()
    saved = tmp_path / "export.json"
    await (await download.value).save_as(saved)
    data = json.loads(saved.read_text())
    assert data["account"]["email"] == "marta@example.pl" and data["city"] == "zgierz"
    await page.check("#format-zip")
    async with page.expect_download() as zipped:
        await download_button.click()
    assert (await zipped.value).suggested_filename.endswith(".zip")

    await page.fill("#password", PASSWORD)
    await page.click("text=Usuń moje konto >> nth=-1")
    assert (await page.title()).startswith("Błąd: ")  # the box was not ticked
    await check(tab, "privacy-error")
    await page.check("#confirm")
    await page.fill("#password", PASSWORD)
    await page.click("button.button--warning")
    await page.wait_for_selector("text=Konto zostało usunięte")
    await check(tab, "deleted")
    await sign_in(tab, city, "marta@example.pl", PASSWORD)
    assert (await page.title()).startswith("Błąd: ")
    assert city.scope is not None
    assert not await city.scope.users().filter(email="marta@example.pl").exists()
    await page.context.close()


async def test_the_account_pages_in_english(city: World, browser: Any, mailbox: Mailbox) -> None:
    tab = await _resident(city, mailbox, browser, "anna@example.pl", viewport=DESKTOP, locale="en-GB")
    page = tab.page
    await page.goto(city.url("/konto?lang=en"))
    assert await page.locator("h1").inner_text() == "My account"
    await page.click("text=Change the e-mail address")
    await check(tab, "email-change-en")
    await page.goto(city.url("/konto/przypisz"))
    await check(tab, "claim-en")
    await page.context.close()
