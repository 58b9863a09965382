"""One way in for a resident's report, whichever door it comes through: the JSON API (`POST /api/v1/tickets`)
and the portal's form (`POST /zglos`) both call `submit_report`.

It picks the channel from who is calling (staff: the staff channel; a signed-in resident:
the public channel with their account; anyone else: public and anonymous, counted against
the anonymous limits in the database), fills in the reporter's language, and files the
report with its photos (if any) through `engine/service/intake.py` — with the
`Idempotency-Key`, so a retry (a lost answer, an offline draft sent twice) is one ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi import Request

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery import bell
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import attachments, intake, rate_limits, reading
from komunikator.engine.service.read_models import Receipt
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.web.api_attachments import media_limits, media_storage

#: Who files a report without an account.
ANONYMOUS = UserView("anonymous", (), "resident", "anonymous")


async def submit_report(request: Request, tenant: CompiledTenant, scope: TenantScope, now: datetime,
                        body: intake.Submission, user: UserView | None, photos: Sequence[attachments.Upload] | None,
                        idempotency_key: str | None, preferred_locale: str | None) -> tuple[Receipt, bool]:
    """File `body` for `user` (None: anonymous); the receipt, and whether it is a new ticket (False: a replay)."""
    channel: intake.Channel = "staff" if user is not None and user.kind == "staff" else "public"
    reporter_id = int(user.id) if user is not None and user.kind == "resident" else None
    if user is None:  # anonymous: counted per client address and per e-mail, in the database (all processes)
        intake.validate_submission(tenant, body, channel, False)  # a refused report is not counted
        limits = rate_limits.SubmitLimits.from_env()
        email = body.reporter.email if body.reporter is not None else None
        address = request.client.host if request.client is not None else None
        await rate_limits.take(scope, rate_limits.submission_buckets(limits, address, email), limits.window, now)
    if body.locale is None and preferred_locale is not None:
        body = body.model_copy(update={"locale": preferred_locale})

    async def render(ticket: Ticket) -> dict[str, Any]:
        return reading.receipt(tenant, ticket, None if photos is None else len(photos)).model_dump(mode="json")

    if photos is None:
        ticket, replay = await intake.submit(
            scope, tenant, body, channel=channel, actor=user or ANONYMOUS, reporter_user_id=reporter_id, now=now,
            idempotency_key=idempotency_key, render=render,
        )
    else:
        ticket, replay = await attachments.submit_with_photos(
            scope, tenant, attachments.PhotoSubmission.model_validate(body.model_dump()), photos,
            storage=media_storage(request), limits=media_limits(request), channel=channel, actor=user or ANONYMOUS,
            reporter_user_id=reporter_id, now=now, idempotency_key=idempotency_key, render=render,
        )
    if replay is not None:
        return Receipt.model_validate(replay), False
    bell.ring()  # the receipt and the unit's notices are committed: deliver them now
    assert ticket is not None  # noqa: S101 - intake returns a ticket or a replay
    return reading.receipt(tenant, ticket, None if photos is None else len(photos)), True
