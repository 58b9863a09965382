"""Residents' accounts through the portal's pages, with the links read from e-mails a real SMTP server received:
sign up, verify, sign in and out (everywhere), reset the password, change the e-mail, claim a report; limits,
CSRF, and a resident never reaching the staff workspace."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from account_helpers import (
    ORIGIN,
    PASSWORD,
    Mailbox,
    deliver,
    mailbox_running,
    post,
    sign_in,
    sign_up_and_verify,
    token_of,
)
from web_helpers import Api, report

from komunikator.engine.store.scope import TenantScope, ensure_tenant

pytestmark = pytest.mark.anyio


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    yield from mailbox_running()


async def test_sign_up_verify_sign_in_and_out(api: Api, mailbox: Mailbox) -> None:
    client = api.client("zgierz")
    made = await post(client, "/konto/rejestracja", "/konto/rejestracja",
                      {"email": "Ewa@Example.pl", "display_name": "Ewa", "password": PASSWORD,
                       "password_again": PASSWORD})
    assert made.status_code == 200 and "ewa@example.pl" in made.text
    refused = await sign_in(client, "ewa@example.pl")
    assert refused.status_code == 422  # not verified yet
    await deliver(mailbox)
    link = mailbox.link("ewa@example.pl", "/konto/potwierdz/")
    shown = await client.get(link)
    assert shown.status_code == 200 and f'action="{link}"' in shown.text  # a GET only shows the button
    assert (await sign_in(client, "ewa@example.pl")).status_code == 422
    assert (await post(client, link, link, {})).status_code == 200
    assert (await client.get(link)).status_code == 404  # used
    signed = await sign_in(client, "ewa@example.pl")
    assert signed.status_code == 303 and signed.headers["location"] == "/konto"
    home = await client.get("/konto")
    assert home.status_code == 200 and "ewa@example.pl" in home.text
    # the session of a resident is no staff session
    assert (await client.get("/staff/")).status_code == 303
    assert (await client.get("/api/v1/tickets")).status_code in (401, 403)
    out = await client.post("/konto/wyloguj", data={"csrf_token": token_of(home.text)}, headers=ORIGIN)
    assert out.status_code == 303
    assert (await client.get("/konto")).headers["location"].startswith("/konto/logowanie")


async def test_a_taken_address_gets_the_same_answer_and_no_second_account(api: Api, mailbox: Mailbox) -> None:
    client = api.client("zgierz")
    await sign_up_and_verify(client, mailbox, "ewa@example.pl")
    again = await post(client, "/konto/rejestracja", "/konto/rejestracja",
                       {"email": "ewa@example.pl", "display_name": "X", "password": "inne-hasło-22",
                        "password_again": "inne-hasło-22"})
    assert again.status_code == 200 and "ewa@example.pl" in again.text
    assert (await sign_in(client, "ewa@example.pl", "inne-hasło-22")).status_code == 422
    assert (await sign_in(client, "ewa@example.pl")).status_code == 303


async def test_reset_the_password_ends_every_session(api: Api, mailbox: Mailbox) -> None:
    client = api.client("zgierz")
    await sign_up_and_verify(client, mailbox, "ewa@example.pl")
    assert (await sign_in(client, "ewa@example.pl")).status_code == 303
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://test",
                              headers={"Host": "zgierz.localhost"})
    asked = await post(other, "/konto/haslo", "/konto/haslo", {"email": "ewa@example.pl"})
    unknown = await post(other, "/konto/haslo", "/konto/haslo", {"email": "nikt@example.pl"})
    assert asked.status_code == unknown.status_code == 200  # nobody learns which address has an account
    await deliver(mailbox)
    link = mailbox.link("ewa@example.pl", "/konto/haslo/nowe/")
    short = await post(other, link, link, {"password": "krótkie", "password_again": "krótkie"})
    assert short.status_code == 422 and 'aria-invalid="true"' in short.text
    done = await post(other, link, link, {"password": "nowe-hasło-99", "password_again": "nowe-hasło-99"})
    assert done.status_code == 303
    await other.aclose()
    assert (await client.get("/konto")).status_code == 303  # the first browser is signed out
    assert (await sign_in(client, "ewa@example.pl")).status_code == 422
    assert (await sign_in(client, "ewa@example.pl", "nowe-hasło-99")).status_code == 303


async def test_sign_out_everywhere(api: Api, mailbox: Mailbox) -> None:
    first = api.client("zgierz")
    await sign_up_and_verify(first, mailbox, "ewa@example.pl")
    second = httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://test",
                               headers={"Host": "zgierz.localhost"})
    assert (await sign_in(first, "ewa@example.pl")).status_code == 303
    assert (await sign_in(second, "ewa@example.pl")).status_code == 303
    everywhere = await post(first, "/konto", "/konto/wyloguj-wszedzie", {})
    assert everywhere.status_code == 303
    assert (await second.get("/konto")).status_code == 303
    assert (await first.get("/konto")).status_code == 303
    await second.aclose()


async def test_change_the_email_with_the_link_sent_to_the_new_address(api: Api, mailbox: Mailbox) -> None:
    client = api.client("zgierz")
    await sign_up_and_verify(client, mailbox, "ewa@example.pl")
    await sign_in(client, "ewa@example.pl")
    wrong = await post(client, "/konto/email", "/konto/email", {"email": "ewa@nowy.pl", "password": "zle-haslo"})
    assert wrong.status_code == 422
    asked = await post(client, "/konto/email", "/konto/email", {"email": "ewa@nowy.pl", "password": PASSWORD})
    assert asked.status_code == 200
    await deliver(mailbox)
    link = mailbox.link("ewa@nowy.pl", "/konto/email/potwierdz/")
    assert "ewa@nowy.pl" not in (await client.get("/konto")).text  # not before the link is opened
    assert (await post(client, link, link, {})).status_code == 200
    assert "ewa@nowy.pl" in (await client.get("/konto")).text
    await post(client, "/konto", "/konto/wyloguj", {})
    assert (await sign_in(client, "ewa@nowy.pl")).status_code == 303


async def test_an_anonymous_report_is_claimed_through_the_link_sent_to_its_address(api: Api, mailbox: Mailbox) -> None:
    client = api.client("zgierz")
    made = await client.post("/api/v1/tickets", json=report(reporter={"name": "Ewa", "email": "stary@adres.pl"}))
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    await sign_up_and_verify(client, mailbox, "ewa@example.pl")
    await sign_in(client, "ewa@example.pl")
    asked = await post(client, "/konto/przypisz", "/konto/przypisz", {"number": number})
    assert asked.status_code == 303
    await deliver(mailbox)
    link = mailbox.link("stary@adres.pl", "/konto/przypisz/")
    assert number not in (await client.get("/konto")).text
    done = await post(client, link, link, {})
    assert done.status_code == 303 and number in done.headers["location"]
    assert number in (await client.get("/konto")).text
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    ticket = await scope.tickets().get(number=number)
    user = await scope.users().get(email="ewa@example.pl")
    assert ticket.reporter_user_id == user.id  # type: ignore[attr-defined]


async def test_sign_up_and_mail_are_rate_limited_with_retry_after(api: Api, mailbox: Mailbox,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMUNIKATOR_SIGNUP_MAX_PER_ADDRESS", "2")
    client = api.client("zgierz")
    answers = []
    for n in range(3):
        answers.append(await post(client, "/konto/rejestracja", "/konto/rejestracja",
                                  {"email": f"osoba{n}@example.pl", "display_name": "O", "password": PASSWORD,
                                   "password_again": PASSWORD}))
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[-1].headers["retry-after"]) > 0
    monkeypatch.setenv("KOMUNIKATOR_ACCOUNT_MAIL_MAX_PER_EMAIL", "2")
    resets = [await post(client, "/konto/haslo", "/konto/haslo", {"email": "osoba0@example.pl"}) for _ in range(3)]
    assert [r.status_code for r in resets] == [200, 429, 429]  # the sign-up's verification mail counted too
    assert "retry-after" in resets[-1].headers


async def test_every_form_needs_its_csrf_token(api: Api) -> None:
    client = api.client("zgierz")
    await client.get("/konto/rejestracja")
    forged = await client.post("/konto/rejestracja", data={"email": "a@b.pl", "display_name": "A",
                                                           "password": PASSWORD, "password_again": PASSWORD},
                               headers=ORIGIN)
    assert forged.status_code == 403
    page = await client.get("/konto/logowanie")
    other_site = await client.post("/konto/logowanie", data={"csrf_token": token_of(page.text), "email": "a@b.pl",
                                                             "password": PASSWORD},
                                   headers={"Origin": "http://evil.example"})
    assert other_site.status_code == 403


async def test_staff_cannot_sign_in_as_residents(api: Api) -> None:
    from web_helpers import staff_member

    await staff_member("zgierz", "anna@zgierz.pl", "bom:dispatcher")
    refused = await sign_in(api.client("zgierz"), "anna@zgierz.pl", "haslo-testowe-123")
    assert refused.status_code == 422 and "komunikator_session" not in refused.headers.get("set-cookie", "")


async def test_another_city_s_links_and_devices_are_unknown_here(api: Api, mailbox: Mailbox,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Account pages with a path parameter, given city A's value on city B's host: the 404 of a missing one."""
    from komunikator.engine.service import push_subscriptions

    monkeypatch.setenv("KOMUNIKATOR_PUSH_ALLOW_LOCAL", "1")
    zgierz, nieporet = api.client("zgierz"), api.client("nieporet")
    made = await post(zgierz, "/konto/rejestracja", "/konto/rejestracja",
                      {"email": "ewa@example.pl", "display_name": "Ewa", "password": PASSWORD,
                       "password_again": PASSWORD})
    assert made.status_code == 200
    await deliver(mailbox)
    link = mailbox.link("ewa@example.pl", "/konto/potwierdz/")
    assert (await nieporet.get(link)).status_code == 404
    assert (await nieporet.get("/konto/haslo/nowe/" + link.rsplit("/", 1)[1])).status_code == 404
    assert (await nieporet.get("/konto/email/potwierdz/" + link.rsplit("/", 1)[1])).status_code == 404
    assert (await post(zgierz, link, link, {})).status_code == 200
    # a device of Zgierz's resident, and a resident of Nieporęt trying to remove it
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    user = await scope.users().get(email="ewa@example.pl")
    device = await push_subscriptions.subscribe(scope, user, {
        "endpoint": "http://127.0.0.1:9/push/x", "keys": {
            "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
            "auth": "tBHItJI5svbpez7KI4CCXg"}}, "telefon", api.clock())
    nieporet_scope = TenantScope((await ensure_tenant("nieporet")).id)
    from komunikator.engine.service import accounts

    other = await accounts.create_user(nieporet_scope, "piotr@example.pl", "Piotr", PASSWORD, kind="resident")
    await nieporet_scope.users().filter(id=other.id).update(email_verified_at=api.clock())
    assert (await sign_in(nieporet, "piotr@example.pl")).status_code == 303
    refused = await post(nieporet, "/konto/ustawienia", f"/konto/push/{device.id}/usun", {})
    missing = await post(nieporet, "/konto/ustawienia", "/konto/push/999999/usun", {})
    assert refused.status_code == missing.status_code == 404
    assert await scope.query(type(device)).filter(id=device.id).exists()
    # and Zgierz's own resident removes it
    assert (await sign_in(zgierz, "ewa@example.pl")).status_code == 303
    removed = await post(zgierz, "/konto/ustawienia", f"/konto/push/{device.id}/usun", {})
    assert removed.status_code == 303
    assert not await scope.query(type(device)).filter(id=device.id).exists()


async def test_settings_switch_channels_and_the_push_offer_follows_the_device(api: Api, mailbox: Mailbox,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from komunikator.engine.delivery.push import VapidKeys
    from komunikator.engine.service import resident_settings

    keys = VapidKeys.generate("mailto:it@zgierz.example.pl")
    monkeypatch.setenv("KOMUNIKATOR_VAPID_PRIVATE_KEY", keys.private_raw())
    client = api.client("zgierz")
    await sign_up_and_verify(client, mailbox, "ewa@example.pl")
    await sign_in(client, "ewa@example.pl")
    page = await client.get("/konto/ustawienia")
    assert page.status_code == 200 and f'data-key="{keys.public_key}"' in page.text and 'data-ios="no"' in page.text
    iphone = await client.get("/konto/ustawienia", headers={
        "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"})
    assert 'data-ios="yes"' in iphone.text and "ekranu początkowego" in iphone.text
    saved = await post(client, "/konto/ustawienia", "/konto/ustawienia", {"channel_email": "on"})
    assert saved.status_code == 303
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    user = await scope.users().get(email="ewa@example.pl")
    prefs = await resident_settings.get(scope, user.id)
    assert prefs.channels == {"email": True, "push": False}
    assert 'id="channel_push" name="channel_push">' in (await client.get("/konto/ustawienia")).text  # unchecked
    monkeypatch.delenv("KOMUNIKATOR_VAPID_PRIVATE_KEY")
    monkeypatch.setenv("KOMUNIKATOR_VAPID_KEY_FILE", "/nonexistent/vapid.pem")
    assert "data-push-offer" not in (await client.get("/konto/ustawienia")).text  # no keys: no push offered
