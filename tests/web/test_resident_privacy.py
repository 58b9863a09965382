"""A resident's own data: export (JSON and ZIP) and "delete my account", checked with canary strings planted in every
personal field, file and outbox row — afterwards none is left in any table of the database or in the media folder."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from account_helpers import ORIGIN, PASSWORD, Mailbox, deliver, mailbox_running, post, sign_in, sign_up_and_verify
from tortoise import connections
from web_helpers import Api, registry, report

from komunikator.engine.media.storage import LocalStorage, new_key
from komunikator.engine.service import push_subscriptions, resident_settings, tickets
from komunikator.engine.service.resident_privacy import ERASED_COMMENT
from komunikator.engine.service.row_views import user_view
from komunikator.engine.store.models import Attachment, Comment, Follower, OutboxMessage
from komunikator.engine.store.outbox_queue import dialect
from komunikator.engine.store.scope import TenantScope, ensure_tenant

pytestmark = pytest.mark.anyio

#: The canaries: each is unique text that can only have come from where it was planted.
EMAIL = "kanarek.adres.q7x@example.pl"
CANARIES = {
    "account e-mail": EMAIL.split("@")[0],
    "account name": "KanarekImieKonta",
    "contact name": "KanarekZgloszenie",
    "contact phone": "600917263",
    "second address": "kanarek.drugi.z9k",
    "comment": "KanarekKomentarzPubliczny",
    "push endpoint": "kanarek-endpoint-5d1",
    "push label": "KanarekTelefon",
    "area": "51.8561234",
    "photo name": "kanarek-zdjecie",
    "photo bytes": "KANAREK-W-PLIKU-8842",
    "delivery error": "kanarek.blad.m3",
}


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    yield from mailbox_running()


async def every_text_in_the_database() -> str:
    """Every row of every table (SQLite: FTS shadow tables too), as text."""
    connection = connections.get("default")
    if dialect() == "postgres":
        _, rows = await connection.execute_query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        tables = [row["table_name"] for row in rows]
    else:
        _, rows = await connection.execute_query("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = [row["name"] for row in rows]
    assert "users" in tables and "outbox" in tables and "push_subscriptions" in tables
    dumped = []
    for table in tables:
        _, rows = await connection.execute_query(f'SELECT * FROM "{table}"')
        dumped += [f"{table}: {dict(row)}" for row in rows]
    return "\n".join(dumped).lower()


def every_byte_in(folder: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


async def test_delete_my_account_leaves_no_canary_in_the_database_or_the_media_folder(
    api: Api, mailbox: Mailbox
) -> None:
    client = api.client("zgierz")
    tenant = registry().tenants["zgierz"]
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    other = await client.post("/api/v1/tickets", json=report())  # someone else's report, followed later
    # an account (its verification mail is an outbox row with the address and the link)
    made = await post(client, "/konto/rejestracja", "/konto/rejestracja",
                      {"email": EMAIL, "display_name": CANARIES["account name"], "password": PASSWORD,
                       "password_again": PASSWORD})
    assert made.status_code == 200
    await deliver(mailbox)
    link = mailbox.link(EMAIL, "/konto/potwierdz/")
    assert (await post(client, link, link, {})).status_code == 200
    assert (await sign_in(client, EMAIL)).status_code == 303
    user = await scope.users().get(email=EMAIL)
    # a report made signed in, with a name and phone; one made earlier without an account, from another address
    signed = await client.post("/api/v1/tickets", json=report(reporter={
        "name": CANARIES["contact name"], "email": EMAIL, "phone": CANARIES["contact phone"]}))
    assert signed.status_code == 201, signed.text
    second = f"{CANARIES['second address']}@example.pl"
    anonymous = await client.post("/api/v1/tickets", json=report(reporter={"name": CANARIES["contact name"],
                                                                          "email": second}))
    assert anonymous.status_code == 201, anonymous.text
    await scope.tickets().filter(number=anonymous.json()["number"]).update(reporter_user_id=user.id)  # claimed
    mine = await scope.tickets().get(number=signed.json()["number"])
    # a public comment, a follow, a device, an area, a photo (its file holds a canary too), a failed delivery
    await scope.create(Comment, ticket_id=mine.id, author_id=user.id, visibility="public",
                       body=f"Widzę to codziennie. {CANARIES['comment']}")
    followed = await scope.tickets().get(number=other.json()["number"])
    await scope.create(Follower, ticket_id=followed.id, user_id=user.id)
    await push_subscriptions.subscribe(scope, user, {
        "endpoint": f"https://fcm.googleapis.com/fcm/send/{CANARIES['push endpoint']}",
        "keys": {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
                 "auth": "tBHItJI5svbpez7KI4CCXg"}}, CANARIES["push label"], api.clock())
    await resident_settings.set_areas(scope, user.id, [f"point:{CANARIES['area']},19.4061,300"])
    storage = LocalStorage.from_env()
    key = new_key(mine.id)
    storage.put(key, b"\xff\xd8\xff\xe0 JFIF " + CANARIES["photo bytes"].encode() + b" \xff\xd9")
    await scope.create(Attachment, ticket_id=mine.id, uploaded_by_id=user.id, visibility="public",
                       content_type="image/jpeg", original_name=f"{CANARIES['photo name']}.jpg", size=40,
                       sha256="0" * 64, storage_key=key)
    await scope.create(OutboxMessage, ticket_id=mine.id, kind="ticket_status_changed", channel="email",
                       dedupe_key="failed-once", status="failed",
                       last_error=f"{CANARIES['delivery error']}@example.pl: 550 mailbox unknown; {EMAIL}: 451",
                       payload={"template": "ticket_status_changed", "recipients": ["reporter"]})
    # a refused sign-in and a reset request: counters holding the address
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://test",
                                 headers={"host": "zgierz.localhost"}) as b:
        await sign_in(b, EMAIL, "zle-haslo")  # a refused sign-in here, from another browser (a login_failures row)
    await post(client, "/konto/haslo", "/konto/haslo", {"email": EMAIL})
    staff = await user_view(scope, await api_staff_user(scope, tenant))
    await tickets.add_comment(scope, tenant, mine.number, staff, "Dziękujemy, sprawdzimy.", "public", api.clock())

    before = await every_text_in_the_database()
    media = Path(os.environ["KOMUNIKATOR_MEDIA_DIR"])
    for name, canary in CANARIES.items():
        where = every_byte_in(media).decode("latin-1").lower() + before
        assert canary.lower() in where, f"the {name} canary was not planted"

    exported = await post(client, "/konto/prywatnosc", "/konto/prywatnosc/eksport", {"format": "zip"})
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(exported.content))
    data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == EMAIL and data["account"]["display_name"] == CANARIES["account name"]
    assert {r["number"] for r in data["reports"]} == {signed.json()["number"], anonymous.json()["number"]}
    assert data["follows"] == [followed.number]
    assert [d["label"] for d in data["push_devices"]] == [CANARIES["push label"]]
    assert data["comments"][0]["text"].endswith(CANARIES["comment"])
    assert {m["template"] for m in data["messages"]} >= {"account_verify", "account_reset"}
    assert CANARIES["photo bytes"].encode() in archive.read(next(n for n in archive.namelist()
                                                                    if n.startswith("photos/")))

    wrong = await post(client, "/konto/prywatnosc", "/konto/prywatnosc/usun", {"confirm": "on", "password": "nie"})
    assert wrong.status_code == 422
    unconfirmed = await post(client, "/konto/prywatnosc", "/konto/prywatnosc/usun", {"password": PASSWORD})
    assert unconfirmed.status_code == 422
    deleted = await post(client, "/konto/prywatnosc", "/konto/prywatnosc/usun", {"confirm": "on",
                                                                                  "password": PASSWORD})
    assert deleted.status_code == 200, deleted.text
    assert (await client.get("/konto")).status_code == 303  # signed out

    after = await every_text_in_the_database()
    files = every_byte_in(media).lower()
    left = [name for name, canary in CANARIES.items() if canary.lower() in after or canary.lower().encode() in files]
    assert left == [], f"canaries left after the erasure: {left}: " + "; ".join(
        line[:300] for line in after.splitlines() if any(CANARIES[n].lower() in line for n in left))
    assert EMAIL not in after
    # the reports stay in the archive, without personal data; the comment lost its text and author
    assert await scope.tickets().filter(number=mine.number).exists()
    assert await scope.comments().filter(ticket_id=mine.id, body=ERASED_COMMENT, author_id=None).exists()
    assert await scope.comments().filter(ticket_id=mine.id, body="Dziękujemy, sprawdzimy.").exists()  # staff's stays
    erased = await scope.users().get(id=user.id)
    assert (erased.active, erased.password_hash, erased.display_name) == (False, None, "")
    audit = await scope.audit_events().filter(action="gdpr_erase").values_list("reason", flat=True)
    assert audit and all("RODO" in str(reason) for reason in audit)
    assert (await sign_in(client, EMAIL)).status_code == 422


async def api_staff_user(scope: TenantScope, tenant: object) -> object:
    """A dispatcher writing a public reply on the resident's report (it must survive the erasure)."""
    from web_helpers import staff_member

    return await staff_member("zgierz", "anna@zgierz.pl", "bom:dispatcher")


async def test_export_as_json_lists_the_account(api: Api, mailbox: Mailbox) -> None:
    client = api.client("zgierz")
    await sign_up_and_verify(client, mailbox, "ewa@example.pl")
    await sign_in(client, "ewa@example.pl")
    answer = await post(client, "/konto/prywatnosc", "/konto/prywatnosc/eksport", {"format": "json"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    assert re.search(r'filename="moje-dane-zgierz-\d{4}-\d{2}-\d{2}\.json"', answer.headers["content-disposition"])
    data = answer.json()
    assert data["account"]["email"] == "ewa@example.pl" and data["settings"]["channels"] == {"email": True,
                                                                                           "push": True}
    assert "resident_sign_up" in {h["action"] for h in data["history"]}
    # the export is itself recorded (who read whose data)
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    assert await scope.audit_events().filter(action="gdpr_export").exists() or data["reporter_contacts"] == []
    assert (await client.post("/konto/prywatnosc/eksport", data={"format": "json"}, headers=ORIGIN)).status_code == 403
