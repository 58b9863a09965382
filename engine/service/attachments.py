"""Photos on tickets, tasks and comments: add, list, read, hide and unhide.

A photo is checked and re-encoded (`engine/media/images.py`) before any
transaction opens; its blobs are written inside the transaction that inserts
its row and deleted again if that transaction fails, so a refused or failed
request leaves neither rows nor files. Each item (the ticket itself, one
task, one comment) holds at most the tenant's `max_attachments`.

Staff see every photo of the tickets they may see, hidden ones included.
The public sees a photo only if it is `public`, not hidden, and its ticket's
category is not `public_map: hidden`; every other case is the same 404 as a
photo that does not exist.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import PrivateAttr

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.media import images
from komunikator.engine.media.images import ImageRefused, ProcessedImage
from komunikator.engine.media.pool import run_in_pool
from komunikator.engine.media.settings import MediaLimits
from komunikator.engine.media.storage import BlobMissing, Storage, new_key, thumb_key
from komunikator.engine.runtime.capabilities import Capabilities, capabilities
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import intake
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError, database_gone, invalid, unavailable
from komunikator.engine.service.row_views import LoadedTicket
from komunikator.engine.service.tickets import load, load_readable, load_visible, require
from komunikator.engine.store.models import Attachment, Comment, Task, Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

Visibility = Literal["internal", "public"]
VISIBILITIES: tuple[str, ...] = get_args(Visibility)
MAX_REASON = 2000


@dataclass(frozen=True)
class Upload:
    """One uploaded file as received: its bytes (already size-limited) and the name the client gave."""

    data: bytes
    filename: str = ""


@dataclass(frozen=True)
class Blob:
    """An image to send back."""

    data: bytes
    content_type: str
    etag: str


class PhotoSubmission(intake.Submission):
    """A submission that came with photos: its fingerprint covers the photos' bytes too.

    A retry with the same `Idempotency-Key` must send the same report and the
    same photos in the same order; without photos the fingerprint is the
    plain submission's, so JSON and multipart retries of a photo-less report
    match.
    """

    _photo_hashes: tuple[str, ...] = PrivateAttr(default=())

    def with_photos(self, uploads: Sequence[Upload]) -> PhotoSubmission:
        """This submission, fingerprinted with `uploads`."""
        self._photo_hashes = tuple(hashlib.sha256(u.data).hexdigest() for u in uploads)
        return self

    def fingerprint(self) -> str:
        """The report's fingerprint, extended by the photos' SHA-256 in order."""
        base = super().fingerprint()
        if not self._photo_hashes:
            return base
        blob = json.dumps({"report": base, "photos": list(self._photo_hashes)})
        return hashlib.sha256(blob.encode()).hexdigest()


# -- checking uploads -----------------------------------------------------------------------------


def refusal(error: ImageRefused, field: str) -> ServiceError:
    """The API's answer to a refused image (413, 415 or 422; see `engine/media/images.py`)."""
    return ServiceError(error.status, error.code, error.message, field=field)


async def prepare(upload: Upload, limits: MediaLimits, field: str = "file") -> ProcessedImage:
    """Check and re-encode one upload (in the bounded decoding pool, `engine/media/pool.py`: CPU and memory)."""
    try:
        return await run_in_pool(images.process, upload.data, limits)
    except ImageRefused as error:
        raise refusal(error, field) from None


def check_submission_pixels(photos: Sequence[Upload], limits: MediaLimits) -> None:
    """422 `too_many_pixels` when the photos' headers add up to more than `limits.max_submission_pixels`.

    Read from the headers alone, before any photo is decoded: five blank
    40-megapixel PNGs are a few hundred KB but seconds of CPU and gigabytes.
    """
    total = 0
    for i, upload in enumerate(photos):
        try:
            total += images.header_pixels(upload.data, limits)
        except ImageRefused as error:
            raise refusal(error, f"photos.{i}") from None
    if total > limits.max_submission_pixels:
        raise ServiceError(422, "too_many_pixels",
                           f"the photos have {total:,} pixels together, more than {limits.max_submission_pixels:,}",
                           field="photos", details={"max_submission_pixels": limits.max_submission_pixels})


def clean_filename(name: str | None) -> str:
    """The client's file name, for display only: no folders, no control characters, at most 255 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:255]


# -- writing --------------------------------------------------------------------------------------


async def _clean_up_after(exc: BaseException, storage: Storage, written: Sequence[str]) -> None:
    """Delete the blobs a failed transaction wrote; raise 503 if the database went away.

    When the connection died, COMMIT may or may not have happened: the blobs
    stay, and `blob_gc` deletes them later if no attachment names them.
    """
    if isinstance(exc, Exception) and not isinstance(exc, ServiceError) and database_gone(exc):
        raise unavailable() from exc
    for key in written:
        await asyncio.to_thread(storage.delete, key)


def _user_id(user: UserView | None) -> int | None:
    return int(user.id) if user is not None and user.id.isdigit() else None


async def _store(
    scope: TenantScope, storage: Storage, ticket: Ticket, image: ProcessedImage, *, name: str,
    visibility: Visibility, task: Task | None, comment_id: int | None, uploaded_by: int | None,
    actor: UserView, now: datetime, written: list[str],
) -> Attachment:
    """Write the blobs and the row (inside the caller's transaction); `written` collects keys to undo."""
    key = new_key(scope.tenant_id)
    thumb = thumb_key(key)
    written += [key, thumb]
    await asyncio.to_thread(storage.put, key, image.data)
    await asyncio.to_thread(storage.put, thumb, image.thumb)
    row = await scope.create(
        Attachment, ticket_id=ticket.id, task_id=task.id if task else None, comment_id=comment_id,
        uploaded_by_id=uploaded_by, visibility=visibility, content_type=image.content_type,
        original_name=clean_filename(name), size=len(image.data), width=image.width, height=image.height,
        sha256=image.sha256, storage_key=key, thumb_key=thumb,
    )
    await audit(scope, ticket, actor, "attachment_add", {}, {
        "attachment": row.id, "visibility": visibility, "task": task.key if task else None,
        "comment": comment_id, "sha256": image.sha256,
    }, now)
    return row


async def _room_left(
    scope: TenantScope, tenant: CompiledTenant, ticket: Ticket, task: Task | None, comment_id: int | None,
) -> None:
    """422 if the item (comment, else task, else the ticket itself) already holds `max_attachments`."""
    query = scope.query(Attachment).filter(ticket_id=ticket.id)
    if comment_id is not None:
        query, item = query.filter(comment_id=comment_id), "comment"
    elif task is not None:
        query, item = query.filter(task_id=task.id, comment_id__isnull=True), "task"
    else:
        query, item = query.filter(task_id__isnull=True, comment_id__isnull=True), "ticket"
    limit = tenant.config.max_attachments
    if await query.count() >= limit:
        raise ServiceError(422, "too_many_attachments", f"a {item} holds at most {limit} attachments",
                           field="file", details={"max_attachments": limit})


async def _target(
    scope: TenantScope, ticket: Ticket, caps: Capabilities, task_key: str | None, comment_id: int | None,
) -> tuple[Task | None, int | None]:
    """The task and comment a photo goes on (422 for ones the ticket does not have, or the user may not read)."""
    task = None
    if task_key is not None:
        if caps.task(task_key) is None:
            raise invalid(f"the ticket has no task {task_key!r}", "task")
        task = await scope.get(Task, ticket_id=ticket.id, key=task_key)
    if comment_id is not None:
        comment = await scope.find(Comment, id=comment_id, ticket_id=ticket.id)
        if comment is None:
            raise invalid(f"the ticket has no comment {comment_id}", "comment")
        comment_task = comment.task_id  # type: ignore[attr-defined]
        if task is not None and comment_task != task.id:
            raise invalid(f"comment {comment_id} is not on task {task_key!r}", "comment")
        if task is None and comment_task is not None:
            task = await scope.get(Task, id=comment_task)
    return task, comment_id


async def add(
    scope: TenantScope, tenant: CompiledTenant, number: str, user: UserView, upload: Upload, *,
    storage: Storage, now: datetime, visibility: str = "internal", task_key: str | None = None,
    comment_id: int | None = None, limits: MediaLimits | None = None,
) -> Attachment:
    """A staff member adds a photo to a ticket, one of its tasks or one of its comments."""
    ticket, view = await load_visible(scope, tenant, number, user)
    if user.kind != "staff":
        raise ServiceError(403, "forbidden", "only staff add attachments through this endpoint")
    if visibility not in VISIBILITIES:
        raise invalid(f"visibility is one of {', '.join(VISIBILITIES)}, not {visibility!r}", "visibility")
    caps = capabilities(tenant, view, user, now)
    require(caps, f"photo:{visibility}")
    task, comment_id = await _target(scope, ticket, caps, task_key, comment_id)
    image = await prepare(upload, limits or MediaLimits())
    written: list[str] = []
    try:
        async with transaction():
            # concurrent uploads to one ticket queue here (PostgreSQL; SQLite writers are serial anyway)
            await scope.tickets().filter(id=ticket.id).select_for_update().first()
            await _room_left(scope, tenant, ticket, task, comment_id)
            return await _store(
                scope, storage, ticket, image, name=upload.filename, visibility=visibility,  # type: ignore[arg-type]
                task=task, comment_id=comment_id, uploaded_by=_user_id(user), actor=user, now=now, written=written,
            )
    except BaseException as exc:
        await _clean_up_after(exc, storage, written)
        raise


def check_photo_count(tenant: CompiledTenant, category: str, count: int) -> None:
    """Refuse `count` photos with a report of `category` where the category or the city does not take them."""
    if count and tenant.categories[category].spec.photo == "none":
        raise invalid(f"category {category!r} takes no photos", "photos", "photos_not_accepted")
    limit = tenant.config.max_attachments
    if count > limit:
        raise ServiceError(422, "too_many_attachments", f"a report holds at most {limit} photos", field="photos",
                           details={"max_attachments": limit})


async def submit_with_photos(
    scope: TenantScope, tenant: CompiledTenant, sub: PhotoSubmission, photos: Sequence[Upload], *,
    storage: Storage, channel: intake.Channel, actor: UserView, reporter_user_id: int | None, now: datetime,
    idempotency_key: str | None = None, render: Callable[[Ticket], Awaitable[dict[str, Any]]] | None = None,
    limits: MediaLimits | None = None,
) -> tuple[Ticket | None, dict[str, Any] | None]:
    """`intake.submit` with the resident's photos as public attachments, all in one transaction.

    A bad photo refuses the whole submission before anything is written; a
    failure after the blobs were written deletes them again.
    """
    intake.validate_submission(tenant, sub, channel, reporter_user_id is not None)
    check_photo_count(tenant, sub.category, len(photos))
    limits = limits or MediaLimits()
    check_submission_pixels(photos, limits)
    processed = [await prepare(p, limits, f"photos.{i}") for i, p in enumerate(photos)]
    sub.with_photos(photos)
    written: list[str] = []
    try:
        async with transaction():
            ticket, replay = await intake.submit(
                scope, tenant, sub, channel=channel, actor=actor, reporter_user_id=reporter_user_id, now=now,
                idempotency_key=idempotency_key, render=render,
            )
            if ticket is not None:
                for upload, image in zip(photos, processed, strict=True):
                    await _store(scope, storage, ticket, image, name=upload.filename, visibility="public",
                                 task=None, comment_id=None, uploaded_by=reporter_user_id, actor=actor, now=now,
                                 written=written)
    except BaseException as exc:
        await _clean_up_after(exc, storage, written)
        raise
    return ticket, replay


# -- hiding ---------------------------------------------------------------------------------------


async def _attachment(scope: TenantScope, ticket: Ticket, attachment_id: int) -> Attachment:
    row = await scope.find(Attachment, id=attachment_id, ticket_id=ticket.id)
    if row is None:
        raise ServiceError(404, "not_found", "attachment not found")
    return row


async def hide(
    scope: TenantScope, tenant: CompiledTenant, number: str, attachment_id: int, user: UserView, reason: str,
    now: datetime,
) -> Attachment:
    """Hide a photo from the public (a face, a number plate), with a reason; staff still see it."""
    ticket, view = await load_visible(scope, tenant, number, user)
    require(capabilities(tenant, view, user, now), "hide_photos")
    reason = (reason or "").strip()
    if not reason:
        raise invalid("say why the photo is hidden", "reason")
    if len(reason) > MAX_REASON:
        raise invalid(f"the reason is longer than {MAX_REASON} characters", "reason")
    async with transaction():
        row = await _attachment(scope, ticket, attachment_id)
        changed = await scope.query(Attachment).filter(id=row.id, hidden_at__isnull=True).update(
            hidden_at=now, hidden_reason=reason, hidden_by_id=_user_id(user)
        )
        if not changed:
            raise ServiceError(409, "already_hidden", f"attachment {row.id} is hidden already")
        await audit(scope, ticket, user, "attachment_hide", {"attachment": row.id, "hidden": False},
                    {"attachment": row.id, "hidden": True}, now, reason)
    return await _attachment(scope, ticket, attachment_id)


async def unhide(
    scope: TenantScope, tenant: CompiledTenant, number: str, attachment_id: int, user: UserView,
    reason: str | None, now: datetime,
) -> Attachment:
    """Show a hidden photo again (to whom its visibility allows)."""
    ticket, view = await load_visible(scope, tenant, number, user)
    require(capabilities(tenant, view, user, now), "hide_photos")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise invalid(f"the reason is longer than {MAX_REASON} characters", "reason")
    async with transaction():
        row = await _attachment(scope, ticket, attachment_id)
        changed = await scope.query(Attachment).filter(id=row.id, hidden_at__isnull=False).update(
            hidden_at=None, hidden_reason=None, hidden_by_id=None
        )
        if not changed:
            raise ServiceError(409, "not_hidden", f"attachment {row.id} is not hidden")
        await audit(scope, ticket, user, "attachment_unhide",
                    {"attachment": row.id, "hidden": True, "hidden_reason": row.hidden_reason},
                    {"attachment": row.id, "hidden": False}, now, reason)
    return await _attachment(scope, ticket, attachment_id)


# -- reading --------------------------------------------------------------------------------------


async def _readable(
    scope: TenantScope, tenant: CompiledTenant, loaded: LoadedTicket, user: UserView,
    rows: Sequence[Attachment], caps: Capabilities | None = None,
) -> tuple[list[Attachment], dict[int, str]]:
    """The rows the user's role reads (`capabilities`: a photo is read like a comment), and task ids → keys.

    A photo on a task the user may not read, or on a comment they may not read, is not theirs to see; an
    internal one only for roles reading internal comments, its uploader, or on their units' tasks.
    """
    if caps is None:  # what a role reads does not depend on the time
        caps = capabilities(tenant, loaded.view, user, datetime.now(UTC))
    tasks = loaded.task_units()
    comment_ids = {row.comment_id for row in rows if row.comment_id is not None}  # type: ignore[attr-defined]
    comments = {c.id: c for c in await scope.comments().filter(id__in=sorted(comment_ids))} if comment_ids else {}
    out = []
    for row in rows:
        task_id, comment_id = row.task_id, row.comment_id  # type: ignore[attr-defined]
        key, unit = tasks.get(task_id, (None, None))
        if key is not None and caps.task(key) is None:
            continue
        comment = comments.get(comment_id)
        if comment is not None and not caps.sees_comment(
            comment.visibility, by_user=str(comment.author_id) == user.id,  # type: ignore[attr-defined]
            task_unit=unit, target_unit=comment.target_unit,
        ):
            continue
        by_user = str(row.uploaded_by_id) == user.id  # type: ignore[attr-defined]
        if caps.sees_comment(row.visibility, by_user=by_user, task_unit=unit, target_unit=None):
            out.append(row)
    return out, {task_id: key for task_id, (key, _) in tasks.items()}


async def list_for_staff(
    scope: TenantScope, tenant: CompiledTenant, number: str, user: UserView,
) -> tuple[Ticket, list[dict[str, Any]]]:
    """Every attachment of a ticket the user may see and their role reads (hidden ones too), oldest first, as JSON."""
    loaded = await load_readable(scope, tenant, number, user)
    return loaded.ticket, await described_for_staff(scope, tenant, loaded, user)


async def described_for_staff(
    scope: TenantScope, tenant: CompiledTenant, loaded: LoadedTicket, user: UserView,
    caps: Capabilities | None = None,
) -> list[dict[str, Any]]:
    """`list_for_staff` of a ticket already loaded as visible to the user (the ticket page has it, and maybe
    the user's `caps` on it)."""
    rows = await scope.query(Attachment).filter(ticket_id=loaded.ticket.id).order_by("created_at", "id")
    readable, keys = await _readable(scope, tenant, loaded, user, rows, caps)
    return [describe(row, keys) for row in readable]


def describe(row: Attachment, task_keys: dict[int, str]) -> dict[str, Any]:
    """An attachment as the staff API shows it."""
    task_id = row.task_id  # type: ignore[attr-defined]
    return {
        "id": row.id,
        "visibility": row.visibility,
        "task": task_keys.get(task_id) if task_id is not None else None,
        "comment": row.comment_id,  # type: ignore[attr-defined]
        "content_type": row.content_type,
        "original_name": row.original_name,
        "size": row.size,
        "width": row.width,
        "height": row.height,
        "sha256": row.sha256,
        "uploaded_by": row.uploaded_by_id,  # type: ignore[attr-defined]
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "hidden": None if row.hidden_at is None else {
            "at": row.hidden_at.isoformat(), "reason": row.hidden_reason,
            "by": row.hidden_by_id,  # type: ignore[attr-defined]
        },
    }


async def _blob(storage: Storage, row: Attachment, thumb: bool) -> Blob:
    key = row.thumb_key if thumb else row.storage_key
    if key is None:
        raise ServiceError(404, "not_found", "attachment not found")
    try:
        data = await asyncio.to_thread(storage.get, key)
    except BlobMissing:
        raise ServiceError(404, "not_found", "attachment not found") from None
    etag = hashlib.sha256(data).hexdigest() if thumb else row.sha256
    return Blob(data, row.content_type, etag)


async def read_for_staff(
    scope: TenantScope, tenant: CompiledTenant, number: str, attachment_id: int, user: UserView,
    storage: Storage, *, thumb: bool = False,
) -> Blob:
    """A photo (or its thumbnail) of a ticket the user may see and their role reads, hidden or not."""
    loaded = await load_readable(scope, tenant, number, user)
    row = await _attachment(scope, loaded.ticket, attachment_id)
    if not (await _readable(scope, tenant, loaded, user, [row]))[0]:
        raise ServiceError(404, "not_found", "attachment not found")
    return await _blob(storage, row, thumb)


_PUBLIC_NOT_FOUND = "photo not found"


async def public_photo(scope: TenantScope, tenant: CompiledTenant, number: str, attachment_id: int) -> Attachment:
    """A photo anyone may see, or the one 404 (missing, internal, hidden, or its ticket not public)."""
    try:
        ticket = await load(scope, number)
    except ServiceError:
        raise ServiceError(404, "not_found", _PUBLIC_NOT_FOUND) from None
    category = tenant.categories.get(ticket.category)
    if category is None or category.spec.public_map == "hidden":
        raise ServiceError(404, "not_found", _PUBLIC_NOT_FOUND)
    row = await scope.find(Attachment, id=attachment_id, ticket_id=ticket.id, visibility="public",
                           hidden_at__isnull=True)
    if row is None:
        raise ServiceError(404, "not_found", _PUBLIC_NOT_FOUND)
    return row


async def read_public(
    scope: TenantScope, tenant: CompiledTenant, number: str, attachment_id: int, storage: Storage, *,
    thumb: bool = False,
) -> Blob:
    """A public, unhidden photo (or its thumbnail); the same 404 for everything else."""
    row = await public_photo(scope, tenant, number, attachment_id)
    try:
        return await _blob(storage, row, thumb)
    except ServiceError:
        raise ServiceError(404, "not_found", _PUBLIC_NOT_FOUND) from None


async def public_photo_ids(scope: TenantScope, tenant: CompiledTenant, ticket: Ticket) -> list[int]:
    """The ids of a ticket's photos anyone may see (none if its category is hidden from the public)."""
    category = tenant.categories.get(ticket.category)
    if category is None or category.spec.public_map == "hidden":
        return []
    rows = await scope.query(Attachment).filter(
        ticket_id=ticket.id, visibility="public", hidden_at__isnull=True
    ).order_by("created_at", "id")
    return [row.id for row in rows]


__all__ = [
    "VISIBILITIES", "Blob", "PhotoSubmission", "Upload", "add", "clean_filename", "describe", "described_for_staff",
    "hide", "list_for_staff", "prepare", "public_photo", "public_photo_ids", "read_for_staff", "read_public", "refusal",
    "submit_with_photos", "unhide",
]
