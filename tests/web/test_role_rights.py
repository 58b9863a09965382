"""What each role reads of a ticket and which comments it adds, over HTTP (SQLite and PostgreSQL).

The roles' YAML says it (`sees_reporter_contact`, `sees_internal_comments`,
`sees_other_tasks`, `sees_full_history`, `comments: {open, closed}`), the
runtime's `capabilities` answers it, and every response applies it: the
ticket, its history, comments and photos. The external firm of Zgierz
(`pgk:external`) reads no reporter contact, no office notes, no other unit's
task, and adds only notes on its own task while that task is under way; the
mayor's office (`management`) reads everything and adds internal notes only.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image
from web_helpers import Api, report

pytestmark = pytest.mark.anyio
ZG = "zgierz"
DUMP = {"waste_type": ["tyres"]}
REPORTER = {"name": "Jan Kowalski", "email": "jan.kowalski@example.pl", "phone": "+48 600 100 200"}
SECRET = "Notatka urzędu: właściciel działki to radny"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 130, 40)).save(out, "JPEG")
    return out.getvalue()


class Office:
    """Zgierz with a dumping report in progress: tasks for environment, the city guard and the company."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.client = api.client(ZG)
        self.who: dict[str, dict[str, str]] = {}
        self.number = ""

    async def start(self) -> Office:
        for label, membership in (("dispatcher", "bom:dispatcher"), ("env", "srodowisko:worker"),
                                  ("pgk", "pgk:external"), ("mayor", "bom:management"),
                                  ("roads", "drogi:worker")):
            self.who[label] = await self.api.staff(ZG, f"{label}@zgierz.pl", membership)
        r = await self.client.post("/api/v1/tickets", json=report("illegal_dumping", attributes=DUMP,
                                                                   reporter=REPORTER))
        assert r.status_code == 201, r.text
        self.number = r.json()["number"]
        r = await self.post("dispatcher", "actions/verify", {"internal_comment": SECRET + " (przy weryfikacji)"})
        assert r.status_code == 200, r.text
        return self

    async def post(self, who: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(f"/api/v1/tickets/{self.number}/{path}", json=body, headers=self.who[who])

    async def get(self, who: str, path: str = "") -> dict[str, Any]:
        r = await self.client.get(f"/api/v1/tickets/{self.number}{path}", headers=self.who[who])
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def comment(self, who: str, visibility: str, body: str, **extra: Any) -> httpx.Response:
        return await self.post(who, "comments", {"body": body, "visibility": visibility, **extra})

    async def task_key(self, unit: str) -> str:
        return next(t["key"] for t in (await self.get("dispatcher"))["tasks"]
                    if t["unit"] == unit and t["state"] in ("open", "in_progress"))


async def test_an_external_firm_reads_no_contact_no_office_notes_and_no_other_units_tasks(api: Api) -> None:
    office = await Office(api).start()
    for visibility, extra in (("internal", {}), ("to_unit", {"target_unit": "srodowisko"}),
                              ("to_reporter", {}), ("public", {})):
        body = f"{SECRET} ({visibility})" if visibility != "public" else "Sprzątanie zlecone."
        r = await office.comment("dispatcher", visibility, body, **extra)
        assert r.status_code == 201, r.text
    r = await office.post("env", f"tasks/{await office.task_key('srodowisko')}/take", {})
    assert r.status_code == 200, r.text
    r = await office.comment("pgk", "internal", "Wyjazd jutro rano", task=await office.task_key("pgk"))
    assert r.status_code == 201, r.text

    # the office reads everything
    full = await office.get("dispatcher")
    assert full["reporter"] == REPORTER
    assert {t["unit"] for t in full["tasks"]} == {"srodowisko", "straz_miejska", "pgk"}
    office_history = (await office.get("dispatcher", "/history"))["events"]
    # the verification's reason and its note, and three messages
    assert sum(SECRET in str(e) for e in office_history) == 5

    # the company: its own task only, no contact
    seen = await office.get("pgk")
    assert seen["reporter"] is None
    assert [t["unit"] for t in seen["tasks"]] == ["pgk"]
    history = (await office.get("pgk", "/history"))["events"]
    text = str(history)
    assert SECRET not in text, [e for e in history if SECRET in str(e)]
    assert REPORTER["email"] not in text and REPORTER["phone"] not in text and REPORTER["name"] not in text
    comments = [e["comment"]["body"] for e in history if "comment" in e]
    assert comments == ["Sprzątanie zlecone.", "Wyjazd jutro rano"]  # the public one, and its own note
    task_units = {(e.get("after") or {}).get("unit") for e in history if e["action"] == "task_create"}
    assert task_units == {"pgk"}
    assert not any(e["action"] == "task_take" for e in history)  # environment's task
    submitted = next(e for e in history if e["action"] == "submit")
    assert submitted["after"] == {"category": "illegal_dumping", "channel": "public"}
    verify = next(e for e in history if e["action"] == "verify")
    assert verify["reason"] is None and verify["after"] == {"state": "in_progress"}

    # photos are read like comments: the office's internal one and one on environment's task are not the company's
    photos: dict[str, int] = {}
    for label, who, visibility, task in (("office", "dispatcher", "internal", None), ("public", "dispatcher", "public",
                                          None), ("env", "env", "internal", await office.task_key("srodowisko")),
                                         ("own", "pgk", "internal", await office.task_key("pgk"))):
        r = await office.client.post(f"/api/v1/tickets/{office.number}/attachments",
                                     files={"file": ("z.jpg", _jpeg(), "image/jpeg")},
                                     data={"visibility": visibility, **({"task": task} if task else {})},
                                     headers=office.who[who])
        assert r.status_code == 201, r.text
        photos[label] = r.json()["id"]
    listed = await office.client.get(f"/api/v1/tickets/{office.number}/attachments", headers=office.who["pgk"])
    assert sorted(a["id"] for a in listed.json()["items"]) == sorted([photos["public"], photos["own"]])
    for label, status in (("office", 404), ("env", 404), ("public", 200), ("own", 200)):
        r = await office.client.get(f"/api/v1/tickets/{office.number}/attachments/{photos[label]}",
                                    headers=office.who["pgk"])
        assert r.status_code == status, label
    listed = await office.client.get(f"/api/v1/tickets/{office.number}/attachments", headers=office.who["dispatcher"])
    assert len(listed.json()["items"]) == 4

    # another unit's task is none for the company: not found, not refused
    r = await office.post("pgk", f"tasks/{await office.task_key('srodowisko')}/complete", {})
    assert (r.status_code, r.json()["error"]) == (404, "not_found")

    # a case worker of the office reads the contact and the notes
    worker = await office.get("env")
    assert worker["reporter"] == REPORTER
    assert SECRET in str((await office.get("env", "/history"))["events"])
    # the same answer the UI draws from
    assert full["capabilities"]["reads"] == {"reporter_contact": True, "internal_comments": True,
                                             "other_tasks": True, "full_history": True}
    assert seen["capabilities"]["reads"] == {"reporter_contact": False, "internal_comments": False,
                                             "other_tasks": False, "full_history": False}


async def test_comment_kinds_follow_the_role_and_the_state(api: Api) -> None:
    office = await Office(api).start()

    async def refused(who: str, visibility: str, status: int, code: str, **extra: Any) -> dict[str, Any]:
        before = len((await office.get("dispatcher", "/history"))["events"])
        r = await office.comment(who, visibility, "Tekst", **extra)
        assert (r.status_code, r.json()["error"]) == (status, code), (who, visibility, r.text)
        assert len((await office.get("dispatcher", "/history"))["events"]) == before
        body: dict[str, Any] = r.json()
        return body

    # open ticket: the company adds notes on its work, nothing the public or the resident reads
    await refused("pgk", "public", 403, "forbidden")
    assert (await refused("pgk", "to_reporter", 403, "forbidden"))["message"] == (
        "your role may not add to_reporter comments to this ticket")
    assert (await office.comment("pgk", "internal", "Notatka firmy")).status_code == 201
    # the mayor's office reads, and notes internally only
    await refused("mayor", "public", 403, "forbidden")
    await refused("mayor", "to_reporter", 403, "forbidden")
    assert (await office.comment("mayor", "internal", "Do wyjaśnienia")).status_code == 201
    # photos follow the same rights, by their visibility
    photo = {"file": ("zdjecie.jpg", _jpeg(), "image/jpeg")}
    for who, visibility, status in (("mayor", "public", 403), ("pgk", "public", 403), ("pgk", "internal", 201),
                                    ("dispatcher", "public", 201)):
        r = await office.client.post(f"/api/v1/tickets/{office.number}/attachments", files=photo,
                                     data={"visibility": visibility}, headers=office.who[who])
        assert r.status_code == status, (who, visibility, r.text)

    kinds = {who: (await office.get(who))["capabilities"]["comment_kinds"] for who in ("dispatcher", "pgk", "mayor")}
    assert kinds == {"dispatcher": ["internal", "public", "to_reporter", "to_unit"], "pgk": ["internal"],
                     "mayor": ["internal"]}

    # the company's task done: it has nothing more to say on this ticket
    r = await office.post("pgk", f"tasks/{await office.task_key('pgk')}/complete", {})
    assert r.status_code == 200, r.text
    assert (await refused("pgk", "internal", 409, "not_available"))["message"] == (
        "your unit adds internal comments only while its task is under way")

    # closed: the dispatcher still answers the resident, a case worker only notes, the company nothing
    for unit, who in (("srodowisko", "env"), ("straz_miejska", "dispatcher")):
        r = await office.post(who, f"tasks/{await office.task_key(unit)}/complete", {})
        assert r.status_code == 200, r.text
    r = await office.post("env", f"tasks/{await office.task_key('srodowisko')}/complete", {})
    assert r.status_code == 200, r.text
    assert r.json()["public_status"] == "closed"
    assert (await office.comment("dispatcher", "public", "Posprzątane, dziękujemy.")).status_code == 201
    assert (await office.comment("dispatcher", "to_reporter", "Dziękujemy za zgłoszenie.")).status_code == 201
    assert (await refused("dispatcher", "to_unit", 409, "not_available", target_unit="pgk"))["message"] == (
        "a closed ticket takes no to_unit comment from your role")
    await refused("env", "public", 409, "not_available")
    assert (await office.comment("env", "internal", "Teren do obserwacji")).status_code == 201
    await refused("pgk", "public", 403, "forbidden")
    await refused("pgk", "to_reporter", 403, "forbidden")
    closed = await office.get("env")
    assert closed["capabilities"]["comment_kinds"] == ["internal"]
    assert closed["capabilities"]["refused"]["comment:public"] == {
        "error": "not_available", "message": "a closed ticket takes no public comment from your role"}
    assert closed["capabilities"]["edit"] is False
