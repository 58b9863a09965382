"""Photos through the API, on SQLite and PostgreSQL: refusals, stripping, hiding, limits, atomic submission."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from media_helpers import (
    SCRIPT,
    SVG,
    MediaApi,
    exif_of,
    gps_of,
    info_of,
    jpeg,
    jpeg_with_gps,
    png_bomb,
    report,
    truncated_jpeg,
)

from komunikator.engine.media.settings import MB
from komunikator.engine.media.storage import LocalStorage
from komunikator.engine.service import attachments as attachments_service
from komunikator.engine.store.models import Attachment
from komunikator.engine.store.scope import TenantScope, ensure_tenant

ZG = "zgierz"
SMALL = jpeg((64, 48))


async def _scope(slug: str = ZG) -> TenantScope:
    return TenantScope((await ensure_tenant(slug)).id)


async def _counts() -> tuple[int, int]:
    scope = await _scope()
    return await scope.tickets().count(), await scope.query(Attachment).count()


async def _ticket(media_api: MediaApi, **extra: Any) -> str:
    r = await media_api.client(ZG).post("/api/v1/tickets", json=report(**extra))
    assert r.status_code == 201, r.text
    return str(r.json()["number"])


async def _upload(media_api: MediaApi, number: str, who: dict[str, str], data: bytes = SMALL,
                  name: str = "photo.jpg", content_type: str = "image/jpeg", **fields: str) -> Any:
    return await media_api.client(ZG).post(
        f"/api/v1/tickets/{number}/attachments", files={"file": (name, data, content_type)}, data=fields,
        headers=who,
    )


def _submission(body: dict[str, Any], *photos: bytes) -> dict[str, Any]:
    """A multipart submission (a file name of None makes a plain field: multipart even without photos)."""
    return {"files": [("report", (None, json.dumps(body))),
                      *(("photos", (f"IMG_{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos))]}


# -- staff uploads --------------------------------------------------------------------------------


async def test_staff_upload_is_stored_without_gps_and_served_privately(media_api: MediaApi) -> None:
    client = media_api.client(ZG)
    dispatcher = await media_api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    number = await _ticket(media_api)
    source = jpeg_with_gps((800, 600))
    assert gps_of(source)

    r = await _upload(media_api, number, dispatcher, source, name="../../etc/DSC 1.jpg", visibility="public")
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["visibility"] == "public"
    assert (item["width"], item["height"], item["content_type"]) == (800, 600, "image/jpeg")
    assert item["original_name"] == "DSC 1.jpg"
    assert item["hidden"] is None
    assert item["task"] is None and item["comment"] is None

    listed = await client.get(f"/api/v1/tickets/{number}/attachments", headers=dispatcher)
    assert listed.status_code == 200
    assert [i["id"] for i in listed.json()["items"]] == [item["id"]]

    for path, size in (("", (800, 600)), ("/thumb", (320, 240))):
        r = await client.get(f"/api/v1/tickets/{number}/attachments/{item['id']}{path}", headers=dispatcher)
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/jpeg"
        assert r.headers["cache-control"].startswith("private")
        assert r.headers["x-content-type-options"] == "nosniff"
        fmt, got, info = info_of(r.content)
        assert (fmt, got) == ("JPEG", size)
        assert gps_of(r.content) == {}
        assert exif_of(r.content) == {}
        assert "exif" not in info
        again = await client.get(f"/api/v1/tickets/{number}/attachments/{item['id']}{path}",
                                 headers={**dispatcher, "If-None-Match": r.headers["etag"]})
        assert again.status_code == 304

    # what lies on disk is the stripped copy too, under a key we made
    files = media_api.files()
    assert len(files) == 2
    for path in files:
        assert path.relative_to(media_api.storage.root).as_posix().startswith("t")
        assert gps_of(path.read_bytes()) == {}
        assert exif_of(path.read_bytes()) == {}

    # residents and strangers get nothing
    assert (await client.get(f"/api/v1/tickets/{number}/attachments/{item['id']}")).status_code == 401
    other = await media_api.staff("nieporet", "bom@nieporet.pl", "urzad:dispatcher")
    r = await media_api.client("nieporet").get(f"/api/v1/tickets/{number}/attachments/{item['id']}", headers=other)
    assert r.status_code == 404

    history = (await client.get(f"/api/v1/tickets/{number}/history", headers=dispatcher)).json()["events"]
    added = [e for e in history if e["action"] == "attachment_add"]
    assert len(added) == 1
    assert added[0]["after"]["attachment"] == item["id"]
    assert added[0]["after"]["visibility"] == "public"


FAKES = [
    ("script named .jpg", SCRIPT, "evil.jpg", 415, "not_an_image"),
    ("svg with script", SVG, "image.svg", 415, "not_an_image"),
    ("truncated jpeg", truncated_jpeg(), "cut.jpg", 422, "broken_image"),
    ("png bomb", png_bomb(30000, 30000), "bomb.png", 422, "too_many_pixels"),
    ("20 MB", b"\xff\xd8\xff" + b"\x00" * (20 * MB), "huge.jpg", 413, "file_too_large"),
]


async def test_fake_images_are_refused_and_leave_nothing(media_api: MediaApi) -> None:
    dispatcher = await media_api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    number = await _ticket(media_api)
    for label, data, name, status, code in FAKES:
        r = await _upload(media_api, number, dispatcher, data, name=name, content_type="image/jpeg")
        assert r.status_code == status, (label, r.text)
        assert r.json()["error"] == code, label
        assert r.json()["message"], label
    assert await _counts() == (1, 0)
    assert media_api.files() == []


async def test_a_20_mb_stream_is_refused_before_it_is_read(media_api: MediaApi) -> None:
    dispatcher = await media_api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    number = await _ticket(media_api)
    sent = 0

    async def body() -> AsyncIterator[bytes]:  # chunked: no Content-Length to judge by
        nonlocal sent
        yield (b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
               b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff")
        for _ in range(20):
            sent += MB
            yield b"\x00" * MB
        yield b"\r\n--b0undary--\r\n"

    r = await media_api.client(ZG).post(
        f"/api/v1/tickets/{number}/attachments", content=body(),
        headers={**dispatcher, "Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "file_too_large"
    assert sent <= 12 * MB  # stopped a little past the 10 MB limit, not at 20
    assert media_api.files() == []


async def test_form_mistakes_are_clear(media_api: MediaApi) -> None:
    client = media_api.client(ZG)
    dispatcher = await media_api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    number = await _ticket(media_api)
    url = f"/api/v1/tickets/{number}/attachments"
    r = await client.post(url, json={"file": "x"}, headers=dispatcher)
    assert (r.status_code, r.json()["error"]) == (415, "unsupported_media_type")
    r = await client.post(url, data={"visibility": "public"}, files={"other": ("a.jpg", SMALL)}, headers=dispatcher)
    assert (r.status_code, r.json()["field"]) == (422, "other")
    r = await client.post(url, files=[("file", ("a.jpg", SMALL)), ("file", ("b.jpg", SMALL))], headers=dispatcher)
    assert (r.status_code, r.json()["field"]) == (422, "file")
    r = await client.post(url, data={"visibility": "public"}, headers=dispatcher)  # a plain form, no file
    assert (r.status_code, r.json()["error"]) == (415, "unsupported_media_type")
    r = await _upload(media_api, number, dispatcher, visibility="everyone")
    assert (r.status_code, r.json()["field"]) == (422, "visibility")
    r = await _upload(media_api, number, dispatcher, task="T9")
    assert (r.status_code, r.json()["field"]) == (422, "task")
    r = await _upload(media_api, number, dispatcher, comment="12345")
    assert (r.status_code, r.json()["field"]) == (422, "comment")
    r = await _upload(media_api, "ZG-2026-999999", dispatcher)
    assert r.status_code == 404
    assert media_api.files() == []


async def test_more_than_max_attachments_per_item_is_422(media_api: MediaApi) -> None:
    client = media_api.client(ZG)
    dispatcher = await media_api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    number = await _ticket(media_api)
    for _ in range(5):
        r = await _upload(media_api, number, dispatcher)
        assert r.status_code == 201, r.text
    r = await _upload(media_api, number, dispatcher)
    assert r.status_code == 422
    assert r.json()["error"] == "too_many_attachments"
    assert r.json()["details"] == {"max_attachments": 5}

    # a task and a comment are items of their own
    r = await client.post(f"/api/v1/tickets/{number}/actions/verify", json={}, headers=dispatcher)
    assert r.status_code == 200, r.text
    task = r.json()["tasks"][0]["key"]
    r = await _upload(media_api, number, dispatcher, task=task)
    assert r.status_code == 201, r.text
    assert r.json()["task"] == task
    r = await client.post(f"/api/v1/tickets/{number}/comments", json={"body": "zdjęcie z miejsca", "task": task},
                          headers=dispatcher)
    comment = r.json()["id"]
    r = await _upload(media_api, number, dispatcher, comment=str(comment))
    assert r.status_code == 201, r.text
    assert (r.json()["comment"], r.json()["task"]) == (comment, task)  # the comment's task comes along
    assert await _counts() == (1, 7)
    assert len(media_api.files()) == 14


# -- hiding and the public ------------------------------------------------------------------------


async def test_hidden_photo_is_404_on_every_public_path_but_staff_still_see_it(media_api: MediaApi) -> None:
    client = media_api.client(ZG)
    dispatcher = await media_api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    worker = await media_api.staff(ZG, "drogi@zgierz.pl", "drogi:worker")
    r = await client.post("/api/v1/tickets", **_submission(report(), jpeg_with_gps(), jpeg()))
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    internal = (await _upload(media_api, number, dispatcher)).json()["id"]
    public = await client.get(f"/api/v1/public/tickets/{number}")
    photo, second = public.json()["photos"]  # the internal one is not listed

    def public_paths(attachment_id: int) -> list[str]:
        base = f"/api/v1/public/tickets/{number}/photos/{attachment_id}"
        return [base, base + "/thumb"]

    for path in public_paths(photo):
        r = await client.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/jpeg"
        assert r.headers["cache-control"] == "public, no-cache"
        assert gps_of(r.content) == {}

    missing = await client.get(public_paths(10**9)[0])
    assert missing.status_code == 404
    for path in public_paths(internal):
        r = await client.get(path)
        assert (r.status_code, r.json()) == (404, missing.json())

    # only a role that edits tickets hides, with a reason
    url = f"/api/v1/tickets/{number}/attachments/{photo}"
    r = await client.post(url + "/hide", json={"reason": "twarz"}, headers=worker)  # sees it, may not edit
    assert (r.status_code, r.json()["error"]) == (403, "forbidden")
    r = await client.post(url + "/hide", json={"reason": ""}, headers=dispatcher)
    assert r.status_code == 422
    r = await client.post(url + "/hide", json={"reason": "widoczna twarz przechodnia"}, headers=dispatcher)
    assert r.status_code == 200, r.text
    assert r.json()["hidden"]["reason"] == "widoczna twarz przechodnia"
    assert (await client.post(url + "/hide", json={"reason": "x"}, headers=dispatcher)).status_code == 409

    for path in public_paths(photo):
        r = await client.get(path)
        assert (r.status_code, r.json()) == (404, missing.json())
    assert (await client.get(f"/api/v1/public/tickets/{number}")).json()["photos"] == [second]
    # another city's host knows nothing of it either
    assert (await media_api.client("nieporet").get(public_paths(second)[0])).status_code == 404

    # staff still see it, marked
    for path in ("", "/thumb"):
        r = await client.get(url + path, headers=dispatcher)
        assert r.status_code == 200
    listed = (await client.get(f"/api/v1/tickets/{number}/attachments", headers=dispatcher)).json()["items"]
    assert {i["id"]: i["hidden"] is not None for i in listed} == {photo: True, second: False, internal: False}

    r = await client.post(url + "/unhide", json={"reason": "twarz zamazana na miejscu"}, headers=dispatcher)
    assert r.status_code == 200, r.text
    assert r.json()["hidden"] is None
    assert (await client.get(public_paths(photo)[0])).status_code == 200
    assert (await client.post(url + "/unhide", headers=dispatcher)).status_code == 409

    history = (await client.get(f"/api/v1/tickets/{number}/history", headers=dispatcher)).json()["events"]
    hide = next(e for e in history if e["action"] == "attachment_hide")
    assert hide["reason"] == "widoczna twarz przechodnia"
    assert (hide["before"], hide["after"]) == ({"attachment": photo, "hidden": False},
                                               {"attachment": photo, "hidden": True})
    assert hide["actor"]["name"] == "bom"
    unhide = next(e for e in history if e["action"] == "attachment_unhide")
    assert unhide["reason"] == "twarz zamazana na miejscu"
    assert [e["action"] for e in history].count("attachment_add") == 3


async def test_photos_of_a_category_hidden_from_the_map_are_never_public(media_api: MediaApi) -> None:
    client = media_api.client(ZG)
    dispatcher = await media_api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    body = report("night_noise", attributes={"source": "venue"})
    r = await client.post("/api/v1/tickets", **_submission(body, jpeg()))
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    items = (await client.get(f"/api/v1/tickets/{number}/attachments", headers=dispatcher)).json()["items"]
    assert [i["visibility"] for i in items] == ["public"]
    for path in ("", "/thumb"):
        r = await client.get(f"/api/v1/public/tickets/{number}/photos/{items[0]['id']}{path}")
        assert r.status_code == 404
        assert r.json()["message"] == "photo not found"


# -- photos at submission -------------------------------------------------------------------------


async def test_multipart_submission_creates_the_ticket_and_its_photos_together(media_api: MediaApi) -> None:
    client = media_api.client(ZG)
    dispatcher = await media_api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    photos = (jpeg_with_gps((640, 480), orientation=6), jpeg((300, 200)))
    r = await client.post("/api/v1/tickets", **_submission(report(), *photos), headers={"Idempotency-Key": "m-1"})
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["photos"] == 2
    number = receipt["number"]
    items = (await client.get(f"/api/v1/tickets/{number}/attachments", headers=dispatcher)).json()["items"]
    assert [(i["visibility"], i["width"], i["height"], i["uploaded_by"]) for i in items] == [
        ("public", 480, 640, None), ("public", 300, 200, None)]
    assert [i["original_name"] for i in items] == ["IMG_0.jpg", "IMG_1.jpg"]
    for item in items:
        for path in ("", "/thumb"):
            blob = (await client.get(f"/api/v1/tickets/{number}/attachments/{item['id']}{path}",
                                     headers=dispatcher)).content
            assert exif_of(blob) == {}
    assert len(media_api.files()) == 4

    # a retry with the same key and the same photos is the same answer, and stores nothing more
    again = await client.post("/api/v1/tickets", **_submission(report(), *photos), headers={"Idempotency-Key": "m-1"})
    assert (again.status_code, again.json()) == (201, receipt)
    assert await _counts() == (1, 2)
    assert len(media_api.files()) == 4
    # the same key with other photos (or none) is another request
    other = await client.post("/api/v1/tickets", **_submission(report(), photos[1]), headers={"Idempotency-Key": "m-1"})
    assert (other.status_code, other.json()["error"]) == (422, "idempotency_key_reused")
    plain = await client.post("/api/v1/tickets", json=report(), headers={"Idempotency-Key": "m-1"})
    assert (plain.status_code, plain.json()["error"]) == (422, "idempotency_key_reused")

    # multipart without photos is the JSON request: same fingerprint
    r = await client.post("/api/v1/tickets", json=report(description="bez zdjęć"), headers={"Idempotency-Key": "m-2"})
    first = r.json()
    r = await client.post("/api/v1/tickets", **_submission(report(description="bez zdjęć")),
                          headers={"Idempotency-Key": "m-2"})
    assert (r.status_code, r.json()) == (201, first)

    history = (await client.get(f"/api/v1/tickets/{number}/history", headers=dispatcher)).json()["events"]
    assert [e["action"] for e in history][:1] == ["submit"]
    assert [e["action"] for e in history].count("attachment_add") == 2


@pytest.mark.parametrize(("bad", "status"), [
    pytest.param(truncated_jpeg(), 422, id="truncated"),
    pytest.param(SCRIPT, 415, id="script"),
    pytest.param(SVG, 415, id="svg"),
    pytest.param(png_bomb(), 422, id="bomb"),
    pytest.param(b"\xff\xd8\xff" + b"\x00" * (20 * MB), 413, id="20MB"),
])
async def test_a_bad_photo_refuses_the_whole_submission(media_api: MediaApi, bad: bytes, status: int) -> None:
    r = await media_api.client(ZG).post("/api/v1/tickets", **_submission(report(), jpeg(), bad),
                                        headers={"Idempotency-Key": "k"})
    assert r.status_code == status, r.text
    assert r.json()["field"] == "photos.1"
    assert await _counts() == (0, 0)
    assert media_api.files() == []
    scope = await _scope()
    assert await scope.idempotency_keys().count() == 0
    assert await scope.audit_events().count() == 0


async def test_submission_refusals_before_any_photo_is_kept(media_api: MediaApi) -> None:
    client = media_api.client(ZG)
    r = await client.post("/api/v1/tickets", **_submission(report(category="no_such"), jpeg()))
    assert (r.status_code, r.json()["error"], r.json()["field"]) == (422, "unknown_category", "category")
    r = await client.post("/api/v1/tickets", **_submission({**report(), "secret": 1}, jpeg()))
    assert (r.status_code, r.json()["error"], r.json()["field"]) == (422, "invalid_request", "secret")
    r = await client.post("/api/v1/tickets", files=[("report", (None, "{not json")), ("photos", ("a.jpg", SMALL))])
    assert (r.status_code, r.json()["error"]) == (422, "invalid_request")
    r = await client.post("/api/v1/tickets", files=[("photos", ("a.jpg", SMALL))])
    assert (r.status_code, r.json()["field"]) == (422, "report")
    r = await client.post("/api/v1/tickets", **_submission(report(), *[SMALL] * 6))
    assert (r.status_code, r.json()["error"]) == (422, "too_many_attachments")
    r = await client.post("/api/v1/tickets", files=[("report", (None, json.dumps(report()))),
                                                    ("photos", (None, "not a file"))])
    assert (r.status_code, r.json()["field"]) == (422, "photos.0")
    assert await _counts() == (0, 0)
    assert media_api.files() == []


class FlakyStorage(LocalStorage):
    """Fails on the n-th write (a full disk)."""

    def __init__(self, root: Any, fail_at: int) -> None:
        super().__init__(root)
        self.writes = 0
        self.fail_at = fail_at

    def put(self, key: str, data: bytes) -> None:
        self.writes += 1
        if self.writes == self.fail_at:
            raise OSError(28, "No space left on device")
        super().put(key, data)


async def test_a_failure_after_blobs_were_written_removes_them(media_api: MediaApi) -> None:
    media_api.app.state.media_storage = FlakyStorage(media_api.storage.root, fail_at=4)  # the 2nd photo's thumb
    with pytest.raises(OSError, match="No space"):
        await media_api.client(ZG).post("/api/v1/tickets", **_submission(report(), jpeg(), jpeg()))
    assert await _counts() == (0, 0)
    assert media_api.files() == []


async def test_a_database_failure_after_blobs_were_written_removes_them(media_api: MediaApi,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    dispatcher = await media_api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    number = await _ticket(media_api)

    async def broken_audit(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(attachments_service, "audit", broken_audit)
    with pytest.raises(RuntimeError, match="went away"):
        await _upload(media_api, number, dispatcher)
    with pytest.raises(RuntimeError, match="went away"):
        await media_api.client(ZG).post("/api/v1/tickets", **_submission(report(), jpeg()))
    assert await _counts() == (1, 0)
    assert media_api.files() == []
