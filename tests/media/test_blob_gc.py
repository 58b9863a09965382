"""Photo blobs no attachment names are deleted after a grace period; named ones never (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from media_helpers import MediaApi, jpeg, report

from komunikator.engine.media.storage import new_key, thumb_key
from komunikator.engine.service import attachments as attachments_service
from komunikator.engine.service.blob_gc import collect_orphans
from komunikator.engine.store.models import Attachment
from komunikator.engine.store.scope import TenantScope, ensure_tenant

pytestmark = pytest.mark.anyio
ZG = "zgierz"


def _age(media_api: MediaApi, key: str, hours: float) -> None:
    """Make the blob look written `hours` ago."""
    then = (datetime.now(UTC) - timedelta(hours=hours)).timestamp()
    os.utime(media_api.storage.path(key), (then, then))


async def test_orphans_past_the_grace_period_go_and_named_blobs_stay(media_api: MediaApi) -> None:
    photo = jpeg((64, 48))
    r = await media_api.client(ZG).post("/api/v1/tickets", files=[
        ("report", (None, json.dumps(report()))), ("photos", ("IMG.jpg", photo, "image/jpeg"))])
    assert r.status_code == 201, r.text
    scope = TenantScope((await ensure_tenant(ZG)).id)
    [row] = await scope.query(Attachment).all()
    named = [row.storage_key, row.thumb_key]
    old_orphan, fresh_orphan, foreign = new_key(scope.tenant_id), new_key(scope.tenant_id), new_key(987654)
    for key in (old_orphan, thumb_key(old_orphan), fresh_orphan, foreign):
        media_api.storage.put(key, b"left behind by a killed process")
    for key in [*named, old_orphan, thumb_key(old_orphan), foreign]:
        _age(media_api, key, hours=3)
    _age(media_api, fresh_orphan, hours=0.5)  # an upload that may still be committing

    now = datetime.now(UTC)
    listed = await collect_orphans(media_api.storage, now, dry_run=True)
    assert listed.examined == 5
    assert sorted(listed.orphans) == sorted([old_orphan, thumb_key(old_orphan), foreign])
    assert listed.deleted == 0 and all(media_api.storage.exists(k) for k in listed.orphans)

    done = await collect_orphans(media_api.storage, now)
    assert done.deleted == 3
    assert sorted(media_api.storage.keys()) == sorted([*named, fresh_orphan])
    # the ticket's photo is still served
    number = r.json()["number"]
    served = await media_api.client(ZG).get(f"/api/v1/public/tickets/{number}/photos/{row.id}")
    assert served.status_code == 200
    assert (await collect_orphans(media_api.storage, now + timedelta(hours=1))).orphans == [fresh_orphan]
    with pytest.raises(ValueError, match="grace"):
        await collect_orphans(media_api.storage, now, grace=timedelta(hours=-1))


class ConnectionDoesNotExistError(Exception):
    """What asyncpg raises when the server closed the connection (named as the driver names it)."""


async def test_when_the_database_goes_away_mid_upload_the_blobs_wait_for_the_collector(
    media_api: MediaApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COMMIT may have happened: the blobs are kept (503), and collected once nothing names them."""
    dispatcher = await media_api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    r = await media_api.client(ZG).post("/api/v1/tickets", json=report())
    number = r.json()["number"]

    async def connection_lost(*args: Any, **kwargs: Any) -> None:
        raise ConnectionDoesNotExistError("connection was closed in the middle of operation")

    monkeypatch.setattr(attachments_service, "audit", connection_lost)
    answer = await media_api.client(ZG).post(f"/api/v1/tickets/{number}/attachments",
                                            files={"file": ("a.jpg", jpeg((64, 48)), "image/jpeg")},
                                            headers=dispatcher)
    assert answer.status_code == 503, answer.text
    kept = media_api.storage.keys()
    assert len(kept) == 2  # the photo and its thumbnail
    assert (await collect_orphans(media_api.storage, datetime.now(UTC))).orphans == []  # within the grace
    later = await collect_orphans(media_api.storage, datetime.now(UTC) + timedelta(hours=2))
    assert sorted(later.orphans) == sorted(kept) and media_api.storage.keys() == []
