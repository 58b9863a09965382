"""Photo routes under /api/v1, and the multipart half of the report submission.

Staff (ticket they may see):

    POST /api/v1/tickets/{number}/attachments              multipart: file, visibility, task?, comment?
    GET  /api/v1/tickets/{number}/attachments              the list, hidden ones included
    GET  /api/v1/tickets/{number}/attachments/{id}         the photo (image/jpeg)
    GET  /api/v1/tickets/{number}/attachments/{id}/thumb   its thumbnail
    POST /api/v1/tickets/{number}/attachments/{id}/hide    {"reason": …} (a role that edits tickets)
    POST /api/v1/tickets/{number}/attachments/{id}/unhide  {"reason": …?}

Anyone:

    GET  /api/v1/public/tickets/{number}/photos/{id}       a public, unhidden photo
    GET  /api/v1/public/tickets/{number}/photos/{id}/thumb

Uploads are parsed here, not by FastAPI, so the limits hold before anything
is spooled: a request whose `Content-Length` (or whose streamed body) is over
the budget is a 413 before its body is read. Refused images answer 413
(too large), 415 (not an image, unsupported format) or 422 (truncated or
corrupt, too many pixels, too many attachments on the item).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.media.images import ImageRefused, aread_limited
from komunikator.engine.media.settings import MediaLimits
from komunikator.engine.media.storage import LocalStorage, Storage
from komunikator.engine.service import attachments
from komunikator.engine.service.errors import ServiceError, invalid
from komunikator.web.actors import StaffActor
from komunikator.web.deps import DbId, Now, Scope
from komunikator.web.limits import BodyTooLarge, allow_body
from komunikator.web.openapi import ERROR_RESPONSES
from komunikator.web.tenancy import Tenant, current_tenant

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)

#: Room for multipart boundaries and the small fields around the files.
_FORM_OVERHEAD = 64 * 1024
#: The `report` part of a multipart submission (a JSON report is a few kB).
_MAX_REPORT = 1024 * 1024
#: Where the multipart submission leaves the photos for the endpoint (see `SubmissionRoute`).
PHOTOS_SCOPE_KEY = "komunikator.photos"


# -- dependencies ---------------------------------------------------------------------------------


def media_storage(request: Request) -> Storage:
    """The app's blob storage (`app.state.media_storage`, else local under `KOMUNIKATOR_MEDIA_DIR`)."""
    storage: Storage | None = getattr(request.app.state, "media_storage", None)
    if storage is None:
        storage = LocalStorage.from_env()
        request.app.state.media_storage = storage
    return storage


def media_limits(request: Request) -> MediaLimits:
    """The app's photo limits (`app.state.media_limits`, else `KOMUNIKATOR_MEDIA_*`)."""
    limits: MediaLimits | None = getattr(request.app.state, "media_limits", None)
    if limits is None:
        limits = MediaLimits.from_env()
        request.app.state.media_limits = limits
    return limits


MediaStore = Annotated[Storage, Depends(media_storage)]
Limits = Annotated[MediaLimits, Depends(media_limits)]


# -- reading multipart bodies within a budget -----------------------------------------------------


class _BodyTooLarge(Exception):
    pass


def _too_large(budget: int) -> ServiceError:
    return ServiceError(413, "file_too_large", f"the request is larger than {budget // (1024 * 1024)} MB allows",
                        details={"max_request_bytes": budget})


async def read_form(request: Request, budget: int, *, max_files: int, max_fields: int = 20) -> FormData:
    """The multipart form, refused (413) as soon as the body passes `budget` bytes.

    A declared `Content-Length` over the budget is refused without reading
    anything; a chunked body is counted while it streams in. Close the form
    when done (`await form.close()`).
    """
    if not _is_multipart(request):
        raise ServiceError(415, "unsupported_media_type", "send multipart/form-data")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > budget:
        raise _too_large(budget)
    allow_body(request, budget)  # the app-wide limit (`web/limits.py`) is for JSON; this route takes photos
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > budget:
                raise _BodyTooLarge
        return message

    try:
        form = await Request(request.scope, receive).form(max_files=max_files, max_fields=max_fields,
                                                          max_part_size=_MAX_REPORT)
    except (_BodyTooLarge, BodyTooLarge):
        raise _too_large(budget) from None
    except StarletteHTTPException as exc:  # the multipart parser's own refusals (malformed, too many parts)
        raise ServiceError(400, "invalid_multipart", str(exc.detail)) from None
    bad = next((key for key, value in form.multi_items() if isinstance(value, str) and "\x00" in key + value), None)
    if bad is not None:  # text fields only: files are bytes (see deps.refuse_nul_characters)
        await form.close()
        raise ServiceError(422, "invalid_character", "text may not contain the NUL character (U+0000)",
                           field=bad.replace("\x00", "") or "form")
    return form


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def read_upload(item: UploadFile, limits: MediaLimits, field: str) -> attachments.Upload:
    """An uploaded file read within the photo size limit (413 past it)."""
    try:
        data = await aread_limited(item.read, limits.max_bytes)
    except ImageRefused as error:
        raise attachments.refusal(error, field) from None
    return attachments.Upload(data, item.filename or "")


def _text(form: FormData, name: str, max_length: int) -> str | None:
    values = form.getlist(name)
    if not values:
        return None
    if len(values) > 1 or not isinstance(values[0], str):
        raise invalid(f"send one text field {name!r}", name)
    if len(values[0]) > max_length:
        raise invalid(f"{name!r} is longer than {max_length} characters", name)
    return values[0]


def _only(form: FormData, allowed: set[str]) -> None:
    for key in form:
        if key not in allowed:
            raise invalid(f"unexpected form field {key!r}", key, "invalid_request")


# -- the multipart report submission (POST /api/v1/tickets) ---------------------------------------


class SubmissionRoute(APIRoute):
    """`POST /api/v1/tickets` as JSON, or as multipart/form-data: a `report` part (the JSON) + `photos` files.

    A multipart request is turned into the JSON request it carries, so the
    report is validated exactly like a JSON one; the checked-for-size photos
    ride along in the request scope (`submitted_photos`).
    """

    def get_route_handler(self) -> Any:
        """The JSON handler, fronted by the multipart unpacking."""
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            if not _is_multipart(request):
                return await handler(request)
            report, photos = await _read_submission(request)
            return await handler(_as_json_request(request, report, photos))

        return route_handler


async def _read_submission(request: Request) -> tuple[bytes, list[attachments.Upload]]:
    tenant: CompiledTenant = current_tenant(request)
    limits = media_limits(request)
    most = tenant.config.max_attachments
    form = await read_form(request, most * limits.max_bytes + _MAX_REPORT + _FORM_OVERHEAD, max_files=most + 1)
    try:
        _only(form, {"report", "photos"})
        reports = form.getlist("report")
        if len(reports) != 1:
            raise invalid("send the report as one multipart field 'report' (JSON)", "report")
        report = reports[0]
        if isinstance(report, UploadFile):  # some clients send every part as a file
            body = await report.read(_MAX_REPORT + 1)
            if len(body) > _MAX_REPORT:
                raise invalid("the report is too long", "report")
        else:
            body = report.encode()
        items = form.getlist("photos")
        if len(items) > most:
            raise ServiceError(422, "too_many_attachments", f"a report holds at most {most} photos",
                               field="photos", details={"max_attachments": most})
        photos = []
        for i, item in enumerate(items):
            if not isinstance(item, UploadFile):
                raise invalid("each 'photos' part is a file", f"photos.{i}")
            photos.append(await read_upload(item, limits, f"photos.{i}"))
        return body, photos
    finally:
        await form.close()


def _as_json_request(request: Request, body: bytes, photos: list[attachments.Upload]) -> Request:
    headers = [(k, v) for k, v in request.scope["headers"] if k not in (b"content-type", b"content-length")]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {**request.scope, "headers": headers, PHOTOS_SCOPE_KEY: photos}
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await request.receive()

    return Request(scope, receive)


def submitted_photos(request: Request) -> list[attachments.Upload] | None:
    """The photos of a multipart submission (None for a JSON one)."""
    photos: list[attachments.Upload] | None = request.scope.get(PHOTOS_SCOPE_KEY)
    return photos


#: The multipart alternative of `POST /api/v1/tickets`, merged into its OpenAPI operation.
SUBMISSION_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["report"],
                    "properties": {
                        "report": {"type": "string", "description": "the report, as the JSON body above"},
                        "photos": {"type": "array", "items": {"type": "string", "format": "binary"},
                                   "description": "JPEG, PNG or WebP; at most the city's max_attachments"},
                    },
                },
            },
        },
    },
}


# -- staff ----------------------------------------------------------------------------------------

_UPLOAD_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "JPEG, PNG or WebP"},
                        "visibility": {"type": "string", "enum": list(attachments.VISIBILITIES),
                                       "default": "internal"},
                        "task": {"type": "string", "description": "a task key (T1 …)"},
                        "comment": {"type": "integer", "description": "a comment id"},
                    },
                },
            },
        },
    },
}


@router.post("/tickets/{number}/attachments", status_code=201, tags=["attachments"], openapi_extra=_UPLOAD_OPENAPI)
async def upload_attachment(number: str, request: Request, tenant: Tenant, scope: Scope, actor: StaffActor,
                            now: Now, storage: MediaStore, limits: Limits) -> dict[str, Any]:
    """Add a photo to the ticket, one of its tasks (`task`) or one of its comments (`comment`)."""
    form = await read_form(request, limits.max_bytes + _FORM_OVERHEAD, max_files=2)
    try:
        _only(form, {"file", "visibility", "task", "comment"})
        files = form.getlist("file")
        if len(files) != 1 or not isinstance(files[0], UploadFile):
            raise invalid("send one file in the field 'file'", "file")
        visibility = _text(form, "visibility", 16) or "internal"
        task = _text(form, "task", 16) or None
        comment_raw = _text(form, "comment", 20)
        if comment_raw is not None and not comment_raw.strip().isdigit():
            raise invalid("comment is a comment id", "comment")
        upload = await read_upload(files[0], limits, "file")
    finally:
        await form.close()
    row = await attachments.add(
        scope, tenant, number, actor.view, upload, storage=storage, now=now, visibility=visibility, task_key=task,
        comment_id=int(comment_raw) if comment_raw else None, limits=limits,
    )
    return await _one(scope, tenant, number, row.id, actor)


@router.get("/tickets/{number}/attachments", tags=["attachments"])
async def list_attachments(number: str, tenant: Tenant, scope: Scope, actor: StaffActor) -> dict[str, Any]:
    """Every photo of the ticket, its tasks and comments (hidden ones too, marked), oldest first."""
    ticket, items = await attachments.list_for_staff(scope, tenant, number, actor.view)
    return {"number": ticket.number, "items": items}


def _image(request: Request, blob: attachments.Blob, cache: str) -> Response:
    headers = {"Cache-Control": cache, "ETag": f'"{blob.etag}"', "X-Content-Type-Options": "nosniff",
               "Content-Disposition": "inline"}
    if request.headers.get("if-none-match", "").strip() == f'"{blob.etag}"':
        return Response(status_code=304, headers=headers)
    return Response(blob.data, media_type=blob.content_type, headers=headers)


_STAFF_CACHE = "private, max-age=3600"
#: Caches may keep public photos but must ask again: a photo hidden later stops being served at once.
_PUBLIC_CACHE = "public, no-cache"


@router.get("/tickets/{number}/attachments/{attachment_id}", tags=["attachments"],
            response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
async def staff_photo(number: str, attachment_id: DbId, request: Request, tenant: Tenant, scope: Scope,
                      actor: StaffActor, storage: MediaStore) -> Response:
    """The photo (re-encoded JPEG without metadata), hidden or not."""
    blob = await attachments.read_for_staff(scope, tenant, number, attachment_id, actor.view, storage)
    return _image(request, blob, _STAFF_CACHE)


@router.get("/tickets/{number}/attachments/{attachment_id}/thumb", tags=["attachments"],
            response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
async def staff_thumb(number: str, attachment_id: DbId, request: Request, tenant: Tenant, scope: Scope,
                      actor: StaffActor, storage: MediaStore) -> Response:
    """The photo's thumbnail."""
    blob = await attachments.read_for_staff(scope, tenant, number, attachment_id, actor.view, storage, thumb=True)
    return _image(request, blob, _STAFF_CACHE)


class HideIn(BaseModel):
    """Why a photo is hidden from the public."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=attachments.MAX_REASON)


class UnhideIn(BaseModel):
    """Why a photo is shown again (optional)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=attachments.MAX_REASON)


@router.post("/tickets/{number}/attachments/{attachment_id}/hide", tags=["attachments"])
async def hide_photo(number: str, attachment_id: DbId, body: HideIn, tenant: Tenant, scope: Scope,
                     actor: StaffActor, now: Now) -> dict[str, Any]:
    """Hide a photo from the public (a face, a number plate); staff still see it."""
    await attachments.hide(scope, tenant, number, attachment_id, actor.view, body.reason, now)
    return await _one(scope, tenant, number, attachment_id, actor)


@router.post("/tickets/{number}/attachments/{attachment_id}/unhide", tags=["attachments"])
async def unhide_photo(number: str, attachment_id: DbId, tenant: Tenant, scope: Scope, actor: StaffActor,
                       now: Now, body: UnhideIn | None = None) -> dict[str, Any]:
    """Show a hidden photo again."""
    await attachments.unhide(scope, tenant, number, attachment_id, actor.view, body.reason if body else None, now)
    return await _one(scope, tenant, number, attachment_id, actor)


async def _one(scope: Any, tenant: CompiledTenant, number: str, attachment_id: int, actor: Any) -> dict[str, Any]:
    _, items = await attachments.list_for_staff(scope, tenant, number, actor.view)
    return next(i for i in items if i["id"] == attachment_id)


# -- the public -----------------------------------------------------------------------------------


@router.get("/public/tickets/{number}/photos/{attachment_id}", tags=["public"],
            response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
async def public_photo(number: str, attachment_id: DbId, request: Request, tenant: Tenant, scope: Scope,
                       storage: MediaStore) -> Response:
    """A public photo of a report; 404 for a hidden or internal one, exactly as for a missing one."""
    blob = await attachments.read_public(scope, tenant, number, attachment_id, storage)
    return _image(request, blob, _PUBLIC_CACHE)


@router.get("/public/tickets/{number}/photos/{attachment_id}/thumb", tags=["public"],
            response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
async def public_thumb(number: str, attachment_id: DbId, request: Request, tenant: Tenant, scope: Scope,
                       storage: MediaStore) -> Response:
    """A public photo's thumbnail (same rules)."""
    blob = await attachments.read_public(scope, tenant, number, attachment_id, storage, thumb=True)
    return _image(request, blob, _PUBLIC_CACHE)
