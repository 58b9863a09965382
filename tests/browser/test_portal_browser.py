"""The resident portal in Chromium, on a phone-sized and a desktop viewport: a report with a photo and a pin
sent anonymously; a report started offline sent once when the network returns; a service worker whose
install failed installed when the network returns; following a nearby report
instead of sending a duplicate; axe on every resident page type; hostile text shown as text; the report
page's bytes on first load and its time to a usable form under emulated "Slow 4G" (printed, and kept in
tests/browser/screenshots/portal-figures.json)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import DESKTOP, HOSTILE, PHONE, SCREENSHOTS, Tab, World, axe_violations, open_tab
from PIL import Image

from komunikator.engine.service import accounts, addresses, tickets
from komunikator.engine.service.row_views import user_view
from komunikator.engine.settings import Settings
from komunikator.engine.store.models import Attachment

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
#: Chromium DevTools' "Slow 4G" preset (the old "Fast 3G"): 562.5 ms latency, 1.44 Mbit/s down, 675 kbit/s up
SLOW_4G = {"offline": False, "latency": 562.5, "downloadThroughput": 180_000, "uploadThroughput": 84_375}
BUDGET = 150 * 1024


async def _check(tab: Tab, name: str) -> None:
    """No serious/critical axe violation and no CSP violation at both sizes; screenshots at both."""
    page = tab.page
    size = page.viewport_size
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        assert await axe_violations(tab) == [], f"{name} ({label})"
        SCREENSHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"portal-{name}-{label}.png"), full_page=True)
    await page.set_viewport_size(size)
    assert tab.csp_violations() == [], name


def _photo(path: Path, size: tuple[int, int] = (3200, 2400)) -> Path:
    """A big, noisy JPEG (so shrinking it in the browser shows)."""
    image = Image.effect_noise(size, 60).convert("RGB")
    image.save(path, "JPEG", quality=95)
    return path


async def _tickets(world: World, description: str) -> list[Any]:
    assert world.scope is not None
    return list(await world.scope.tickets().filter(description=description))


def _get(base: str, path: str) -> httpx.Response:
    """A GET to the test server by its loopback address, with the city's Host header."""
    host = base.split("//", 1)[1]
    return httpx.get(f"http://127.0.0.1:{host.split(':')[1]}{path}", headers={"Host": host.split(":")[0]})


async def _drop_pin(page: Any, dx: int = 0, dy: int = 0) -> None:
    box = await page.locator("#report-map").bounding_box()
    await page.mouse.click(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy)


async def test_report_with_a_photo_and_a_pin_anonymously_on_a_phone(world: World, browser: Any, tmp_path: Path) -> None:
    tab = await open_tab(browser, viewport=PHONE)
    page = tab.page
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    uploads: list[int] = []
    page.on("request", lambda r: uploads.append(len(r.post_data_buffer or b"")) if r.method == "POST" else None)
    await page.goto(world.url("/"))
    assert await page.title() == "Strona główna – Urząd Miasta Zgierza"
    await _check(tab, "home")
    await page.get_by_role("link", name="Zgłoś problem").first.click()
    await page.wait_for_url("**/zglos")
    await _check(tab, "categories")
    await page.fill("#category-search", "dziura")
    assert await page.locator("#category-pothole").is_visible()
    assert not await page.locator("#category-streetlight_out").is_visible()  # filtered as one types
    await page.check("#category-pothole")  # choosing one opens its form
    await page.wait_for_url("**/zglos?category=pothole")
    await page.wait_for_selector("#report-map:not([hidden])")
    await _check(tab, "form")
    await _drop_pin(page)
    assert (await page.input_value("#lat")) != ""
    await page.check("input[name='attr.size'][value='medium']")
    original = _photo(tmp_path / "dziura.jpg")
    await page.set_input_files("#photos", str(original))
    await page.wait_for_selector("#photo-previews img")
    await page.fill("#description", "Dziura przy wjeździe na parking, zgłoszona z telefonu.")
    await page.click("#send")
    await page.wait_for_url("**/zgloszenia/ZG-*?wyslane=1")
    assert "Zgłoszenie zostało wysłane" in await page.inner_text("main")
    await _check(tab, "report-sent")
    made = await _tickets(world, "Dziura przy wjeździe na parking, zgłoszona z telefonu.")
    assert len(made) == 1
    ticket = made[0]
    assert ticket.reporter_contact_id is None and ticket.lat is not None and abs(ticket.lat - 51.855) < 0.05
    assert await Attachment.filter(ticket_id=ticket.id, visibility="public").count() == 1
    assert max(uploads) < original.stat().st_size / 2, (max(uploads), original.stat().st_size)  # shrunk first
    assert await page.locator(".gallery img").count() == 1
    assert dialogs == []


async def test_a_report_started_offline_is_sent_once_when_the_network_returns(world: World, browser: Any) -> None:
    tab = await open_tab(browser, viewport=PHONE)
    page = tab.page
    await page.goto(world.url("/zglos?category=litter"))
    await page.wait_for_selector("#report-map:not([hidden])")
    await page.context.set_offline(True)
    await page.wait_for_selector("#offline-banner:not([hidden])")
    await _drop_pin(page, 20, -10)
    description = "Śmieci rozsypane pod wiatą przystanku (wysłane po powrocie sieci)."
    await page.fill("#description", description)
    await page.click("#send")
    await page.wait_for_selector("#draft-status:not([hidden])")
    assert "zapisane na tym urządzeniu" in await page.inner_text("#draft-status")
    await _check(tab, "offline-draft")
    assert await page.evaluate("KomunikatorDrafts.all().then(d => d.length)") == 1
    assert await _tickets(world, description) == []
    await page.context.set_offline(False)  # "online": drafts.js sends it
    await page.wait_for_selector("#draft-notices a[href*='/zgloszenia/']")
    # the same draft sent again (another tab, a lost answer): the same ticket
    again = await page.evaluate("""async () => {
        const d = {key: document.querySelector('[name=idempotency_key]').value,
                   fields: [...new FormData(document.getElementById('report-form'))]
                           .filter(([k, v]) => typeof v === 'string'), photos: []};
        const [a, b] = await Promise.all([KomunikatorDrafts.send(d), KomunikatorDrafts.send(d)]);
        return [a.url, b.url]; }""")
    link = await page.get_attribute("#draft-notices a", "href")
    assert link is not None and again[0] == again[1] and again[0].endswith(link.split("/")[-1])
    assert len(await _tickets(world, description)) == 1
    assert await page.evaluate("KomunikatorDrafts.all().then(d => d.length)") == 0
    # the service worker: installed with the shell, it answers a page without network with the offline page
    # (bounded: `ready` never settles when the worker fails to install, as it did while /sw.js carried the
    # non-HTML CSP, default-src 'none', which blocked its importScripts('/sw-push.js'))
    assert await asyncio.wait_for(page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)"), 20)
    await page.context.set_offline(True)
    await page.goto(world.url("/zgloszenia"))
    assert await page.title() == "Brak połączenia – Urząd Miasta Zgierza"
    await _check(tab, "offline-page")
    await page.context.set_offline(False)


async def test_a_service_worker_whose_install_failed_is_installed_when_the_network_returns(world: World,
                                                                                         browser: Any) -> None:
    # register() succeeds, then the install's precache fails (the network went away meanwhile: here the offline
    # page cannot be fetched); no worker is left, and portal.js must register again when the network returns
    tab = await open_tab(browser, viewport=PHONE)
    page = tab.page
    refused: list[str] = []

    async def no_offline_page(route: Any) -> None:
        refused.append(route.request.url)
        await route.abort("internetdisconnected")

    await page.context.route("**/offline", no_offline_page)
    await page.goto(world.url("/"))
    await page.wait_for_load_state("load")
    deadline = time.monotonic() + 10
    while not refused:  # the worker's install asked for the offline page, and was refused
        assert time.monotonic() < deadline, "the service worker's install never asked for /offline"
        await page.wait_for_timeout(100)
    await page.wait_for_timeout(500)
    registrations = "navigator.serviceWorker.getRegistrations().then(rs => rs.filter(r => r.active).length)"
    assert await page.evaluate(registrations) == 0
    await page.context.unroute("**/offline")
    await page.context.set_offline(True)
    await page.context.set_offline(False)  # the network returns: the `online` event
    assert await asyncio.wait_for(page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)"), 20)
    await page.context.close()


async def _until_changed(page: Any, selector: str, text: str, seconds: float = 10) -> None:
    """Wait until the element's text is no longer `text` (polled: the CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + seconds
    while await page.inner_text(selector) == text:
        assert time.monotonic() < deadline, f"{selector} still says {text!r}"
        await page.wait_for_timeout(100)


async def _addresses(world: World) -> None:
    """The city's address points (tenants/zgierz/adresy.csv), as the seeder imports them."""
    assert world.scope is not None and world.registry is not None
    text = (Settings.from_env().tenants_dir / "zgierz" / "adresy.csv").read_text(encoding="utf-8")
    await addresses.import_addresses(world.scope, world.registry.tenants["zgierz"], text)


async def test_an_address_chosen_by_keyboard_puts_the_pin_and_is_sent(world: World, browser: Any) -> None:
    await _addresses(world)
    plain = _get(world.base, "/zglos?category=pothole").text  # without JavaScript: a plain text field, sent as typed
    assert 'name="address"' in plain and 'role="combobox"' not in plain
    tab = await open_tab(browser, viewport=PHONE)
    page = tab.page
    await page.goto(world.url("/zglos?category=pothole"))
    await page.wait_for_selector("#report-map:not([hidden])")
    field = page.locator("#address")
    assert await field.get_attribute("role") == "combobox"
    await field.press_sequentially("dług 1", delay=40)  # part of a street and of a number
    await page.wait_for_selector("#address-options [role=option]")
    assert await field.get_attribute("aria-expanded") == "true"
    options = await page.locator("#address-options [role=option]").all_inner_texts()
    assert options and all(o.startswith("ul. Długa 1") for o in options), options
    await field.press("ArrowDown")
    await field.press("ArrowDown")
    second = page.locator("#address-option-1")
    assert await field.get_attribute("aria-activedescendant") == "address-option-1"
    assert await second.get_attribute("aria-selected") == "true"
    await page.locator("#address-status", has_text="Znaleziono").wait_for(state="attached")
    await _check(tab, "address-search")
    chosen = options[1]
    await field.press("Enter")  # chooses; does not send the form
    assert await page.input_value("#address") == chosen
    assert await field.get_attribute("aria-expanded") == "false"
    assert await page.locator("#address-options").is_hidden()
    hits = _get(world.base, "/api/v1/addresses?q=" + chosen.split(",")[0]).json()["items"]
    hit = next(h for h in hits if h["label"] == chosen)
    assert float(await page.input_value("#lat")) == pytest.approx(hit["lat"], abs=1e-6)
    assert float(await page.input_value("#lon")) == pytest.approx(hit["lon"], abs=1e-6)
    street_number = f"{hit['street']} {hit['number']}"
    assert await page.inner_text("#nearest-address") == f"Najbliższy adres: {street_number} (ok. 0 m)"
    pin = await page.locator(".leaflet-marker-icon[alt='Miejsce problemu']").bounding_box()
    box = await page.locator("#report-map").bounding_box()
    assert box["x"] <= pin["x"] + 12 <= box["x"] + box["width"]  # the map shows the pin
    assert box["y"] <= pin["y"] + 41 <= box["y"] + box["height"]
    description = "Zapadnięta studzienka przed wybranym adresem."
    await page.check("input[name='attr.size'][value='small']")
    await page.fill("#description", description)
    await page.click("#send")
    await page.wait_for_url("**/zgloszenia/ZG-*?wyslane=1")
    made = await _tickets(world, description)
    assert len(made) == 1
    assert made[0].address == chosen
    assert made[0].lat == pytest.approx(hit["lat"], abs=1e-6) and made[0].lon == pytest.approx(hit["lon"], abs=1e-6)
    assert tab.csp_violations() == []


async def test_a_pin_shows_the_nearest_address_and_fills_an_empty_address_field(world: World, browser: Any) -> None:
    await _addresses(world)
    tab = await open_tab(browser, viewport=DESKTOP)
    page = tab.page
    await page.goto(world.url("/zglos?category=litter"))
    await page.wait_for_selector("#report-map:not([hidden])")
    assert await page.locator("#nearest-address").is_hidden()
    await _drop_pin(page, 30, 20)
    await page.wait_for_selector("#nearest-address:not([hidden])")
    lat, lon = await page.input_value("#lat"), await page.input_value("#lon")
    near = _get(world.base, f"/api/v1/addresses/nearest?lat={lat}&lon={lon}").json()["address"]
    assert near is not None
    expected = f"Najbliższy adres: {near['street']} {near['number']} (ok. {round(near['distance_m'])} m)"
    assert await page.inner_text("#nearest-address") == expected
    assert await page.input_value("#address") == near["label"]  # the field was empty: filled
    await _check(tab, "nearest-address")
    # moved: the label and the filled-in address follow the pin
    await _drop_pin(page, -40, -25)
    await _until_changed(page, "#nearest-address", expected)
    lat, lon = await page.input_value("#lat"), await page.input_value("#lon")
    moved = _get(world.base, f"/api/v1/addresses/nearest?lat={lat}&lon={lon}").json()["address"]
    assert moved is not None and moved["label"] != near["label"]
    assert await page.input_value("#address") == moved["label"]
    # an address the resident typed stays as typed
    await page.fill("#address", "za sklepem, przy ławce")
    shown = await page.inner_text("#nearest-address")
    await _drop_pin(page, 100, 60)
    await _until_changed(page, "#nearest-address", shown)
    assert await page.input_value("#address") == "za sklepem, przy ławce"
    # in English
    await page.goto(world.url("/zglos?category=litter&lang=en"))
    await page.wait_for_selector("#report-map:not([hidden])")
    await _drop_pin(page, 30, 20)
    await page.wait_for_selector("#nearest-address:not([hidden])")
    assert (await page.inner_text("#nearest-address")).startswith("Nearest address: ")
    assert tab.csp_violations() == []


async def test_following_a_nearby_report_instead_of_a_duplicate(world: World, browser: Any) -> None:
    tab = await open_tab(browser, viewport=DESKTOP)
    page = tab.page
    number = world.tickets["pothole"]  # at 51.8561, 19.4062
    await page.goto(world.url("/zglos?category=pothole"))
    await page.wait_for_selector("#report-map:not([hidden])")
    # the keyboard way: the map has the focus, Enter drops the pin in its middle (the city's centre,
    # about 120 m from the seeded report)
    await page.locator("#report-map").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#nearby-list li")
    assert number in await page.inner_text("#nearby")
    await _check(tab, "nearby")
    count_before = await world.scope.tickets().count()  # type: ignore[union-attr]
    await page.click(f"#nearby a.button[href*='{number}']")
    await page.wait_for_url(f"**/zgloszenia/{number}#obserwuj")
    await page.fill("#email", "sasiadka@example.pl")
    await page.click("#obserwuj button[type=submit]")
    await page.wait_for_url(f"**/zgloszenia/{number}?obserwujesz=1#obserwuj")
    assert "Zapisano" in await page.inner_text("#obserwuj")
    ticket = await world.scope.get_ticket(number)  # type: ignore[union-attr]
    assert await world.scope.followers().filter(ticket_id=ticket.id).count() == 1  # type: ignore[union-attr]
    assert await world.scope.tickets().count() == count_before  # type: ignore[union-attr]
    await _check(tab, "followed")


async def test_every_public_page_type_is_accessible_and_hostile_text_stays_text(world: World, browser: Any) -> None:
    assert world.scope is not None and world.registry is not None
    dispatcher = await accounts.get_user(world.scope, world.emails["dispatcher"])
    await tickets.add_comment(world.scope, world.registry.tenants["zgierz"], world.tickets["pothole"],
                              await user_view(world.scope, dispatcher), HOSTILE, "public", datetime.now(UTC))
    tab = await open_tab(browser)
    page = tab.page
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    number = world.tickets["pothole"]
    await page.goto(world.url(f"/zgloszenia/{number}"))
    assert HOSTILE in await page.inner_text("main")  # shown as text, not run
    await _check(tab, "report-page")
    for path, name in (("/zgloszenia", "list"), ("/mapa", "map"), ("/zgloszenia?status=closed", "list-empty"),
                       ("/zglos/podobne?category=pothole&lat=51.8561&lon=19.4062", "nearby-page"),
                       ("/offline", "offline"), ("/zgloszenia/ZG-2026-999999", "not-found"), ("/?lang=en", "home-en")):
        await page.goto(world.url(path))
        if name == "map":
            await page.wait_for_selector("#reports-map .leaflet-marker-icon")
            assert await page.locator(".leaflet-marker-icon[alt*='" + number + "']").count() == 1
        await _check(tab, name)
    await page.goto(world.url("/zglos?category=pothole&lang=pl"))
    await page.fill("#description", HOSTILE)
    await page.fill("#email", "to-nie-adres")
    await page.evaluate("document.getElementById('report-form').dataset.native = '1'")  # the server's answer
    await page.click("#send")
    await page.wait_for_selector(".error-summary")
    assert await page.title() == "Błąd: Dziura w jezdni – Zgłoś problem – Urząd Miasta Zgierza"
    assert await page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert await page.input_value("#description") == HOSTILE
    await _check(tab, "form-errors")
    hidden = world.tickets["hostile"]  # a noise report: its category is hidden from the public
    for host in (world.base, world.other_base):
        for path in (f"/zgloszenia/{number}", f"/zgloszenia/{hidden}"):
            if host == world.base and path.endswith(number):
                continue
            answer, missing = _get(host, path), _get(host, "/zgloszenia/ZG-2026-999999")
            assert answer.status_code == missing.status_code == 404, (host, path)
    assert dialogs == []


async def test_the_report_page_s_weight_and_time_to_a_usable_form(world: World, browser: Any) -> None:
    context = await browser.new_context(viewport=PHONE, locale="pl-PL", service_workers="block")
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    await page.goto(world.url("/zglos?category=pothole"))
    await page.wait_for_selector("#report-map:not([hidden])")
    await page.wait_for_load_state("networkidle")
    transferred = sum(size for rid, size in sizes.items() if "/tile" not in urls.get(rid, ""))
    files = {urls.get(rid, rid).split("/", 3)[-1]: size for rid, size in sizes.items()}
    await cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    slow = await browser.new_context(viewport=PHONE, locale="pl-PL", service_workers="block")
    slow_page = await slow.new_page()
    slow_cdp = await slow.new_cdp_session(slow_page)
    await slow_cdp.send("Network.enable")
    await slow_cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    started = time.monotonic()
    await slow_page.goto(world.url("/zglos?category=pothole"), wait_until="commit")
    await slow_page.wait_for_selector("#send")
    fields_at = time.monotonic() - started
    await slow_page.wait_for_selector("#report-map:not([hidden])")
    usable_at = time.monotonic() - started
    figures = {"report_page_first_load_bytes": transferred, "budget_bytes": BUDGET, "files": files,
               "slow_4g_form_fields_s": round(fields_at, 2), "slow_4g_usable_with_map_s": round(usable_at, 2),
               "slow_4g": SLOW_4G}
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / "portal-figures.json").write_text(json.dumps(figures, indent=2))
    print("\nportal figures:", json.dumps(figures))  # noqa: T201 - the figures the issue asks to report
    assert transferred <= BUDGET, figures
    await slow.close()
    await context.close()

