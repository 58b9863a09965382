"""Check an uploaded photo by its content and make the copies we store (the one module that uses Pillow).

Nothing about the upload is trusted: not the file name, not the Content-Type.
The bytes must start like JPEG, PNG or WebP (HEIC is not offered: this
Pillow has no HEIC decoder), the header must declare at most
`MediaLimits.max_pixels` pixels (checked before anything is decoded, so a
decompression bomb costs nothing), `verify()` must pass, and a full decode
must succeed. What we store is re-encoded as JPEG after applying the EXIF
orientation, converted to sRGB, and saved with no metadata at all: no EXIF
(so no GPS), no XMP, no ICC profile, no comment. The result is read back to
prove it.

Refusals are typed; their `status` is the HTTP answer the API gives:

| error | status | when |
| --- | --- | --- |
| `ImageTooLarge` | 413 | more bytes than `max_bytes` |
| `NotAnImage` | 415 | the bytes are no image at all (a script, SVG, PDF …) |
| `UnsupportedFormat` | 415 | an image, but not JPEG, PNG or WebP (GIF, TIFF, HEIC …) |
| `TooManyPixels` | 422 | width × height above `max_pixels` (decompression bombs) |
| `BrokenImage` | 422 | a JPEG/PNG/WebP that is truncated or corrupt |
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import BinaryIO, ClassVar

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from komunikator.engine.media.settings import MediaLimits

#: The formats we accept, by Pillow's name (Pillow's JPEG opener also returns MPO, the multi-picture JPEG
#: some cameras write: its first picture is what we keep).
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
_PILLOW_FORMATS = {"JPEG": ("JPEG",), "PNG": ("PNG",), "WEBP": ("WEBP",)}
CONTENT_TYPE = "image/jpeg"
_READ_CHUNK = 64 * 1024

# Pillow's own bomb guard (it raises DecompressionBombError above twice this, warns above it);
# `process` sets it to the limit in force and refuses anything above the limit itself.
Image.MAX_IMAGE_PIXELS = MediaLimits().max_pixels


class ImageRefused(Exception):
    """An upload we do not store; `status` and `code` are what the API answers."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid_image"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ImageTooLarge(ImageRefused):
    """More bytes than allowed."""

    status = 413
    code = "file_too_large"


class NotAnImage(ImageRefused):
    """Not an image at all (whatever its name or Content-Type said)."""

    status = 415
    code = "not_an_image"


class UnsupportedFormat(ImageRefused):
    """An image in a format we do not take."""

    status = 415
    code = "unsupported_image_format"


class TooManyPixels(ImageRefused):
    """More pixels than allowed (a decompression bomb, or just too big)."""

    status = 422
    code = "too_many_pixels"


class BrokenImage(ImageRefused):
    """A truncated or corrupt image."""

    status = 422
    code = "broken_image"


@dataclass(frozen=True)
class ProcessedImage:
    """The copies we store of one accepted upload (both JPEG, without metadata)."""

    data: bytes
    width: int
    height: int
    thumb: bytes
    thumb_width: int
    thumb_height: int
    #: what the upload was (JPEG, PNG, WEBP)
    source_format: str
    content_type: str = CONTENT_TYPE

    @property
    def sha256(self) -> str:
        """The hash of the stored copy."""
        return hashlib.sha256(self.data).hexdigest()


# -- reading without trusting the size ----------------------------------------------------------


def read_limited(stream: BinaryIO, limit: int) -> bytes:
    """Read `stream` to its end, but never more than `limit` + one chunk; `ImageTooLarge` beyond `limit`."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_READ_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise too_large(limit)
        chunks.append(chunk)


async def aread_limited(read: Callable[[int], Awaitable[bytes]], limit: int) -> bytes:
    """`read_limited` for an async `read(n)` (an uploaded file)."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await read(min(_READ_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise too_large(limit)
        chunks.append(chunk)


def too_large(limit: int) -> ImageTooLarge:
    """The refusal of a file above `limit` bytes."""
    return ImageTooLarge(f"the file is larger than {limit // (1024 * 1024)} MB" if limit >= 1024 * 1024
                         else f"the file is larger than {limit} bytes")


# -- recognising the format by its first bytes ----------------------------------------------------

#: Signatures of images we recognise but do not take (a clearer message than "not an image").
_OTHER_IMAGES = (
    (0, b"GIF87a", "GIF"), (0, b"GIF89a", "GIF"), (0, b"BM", "BMP"), (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"), (4, b"ftypheic", "HEIC"), (4, b"ftypheix", "HEIC"), (4, b"ftypmif1", "HEIF"),
    (4, b"ftypavif", "AVIF"), (0, b"\x00\x00\x00\x0cjP  ", "JPEG 2000"), (0, b"\xff\x0a", "JPEG XL"),
    (0, b"\x00\x00\x00\x0cJXL ", "JPEG XL"), (0, b"8BPS", "PSD"), (0, b"\x00\x00\x01\x00", "ICO"),
)


def sniff(data: bytes) -> str:
    """The format the bytes are in (`JPEG`, `PNG`, `WEBP`), or the refusal saying why not."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for offset, magic, name in _OTHER_IMAGES:
        if data[offset:offset + len(magic)] == magic:
            raise UnsupportedFormat(f"{name} images are not accepted: send JPEG, PNG or WebP")
    raise NotAnImage("the file is not an image: send JPEG, PNG or WebP")


# -- processing -----------------------------------------------------------------------------------


def process(data: bytes, limits: MediaLimits | None = None) -> ProcessedImage:
    """Check `data` and make the stored copy and the thumbnail; an `ImageRefused` if we do not take it."""
    limits = limits or MediaLimits()
    if len(data) > limits.max_bytes:
        raise too_large(limits.max_bytes)
    fmt = sniff(data)
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    try:
        # first pass: the header only (size), then the file's own integrity checks
        with Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS[fmt]) as probe:
            check_pixels(probe.size, limits)
            probe.verify()
        # verify() leaves the image unusable: open it again and decode it for real
        with Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS[fmt]) as image:
            check_pixels(image.size, limits)
            image.load()
            clean = _normalise(image, limits)
    except ImageRefused:
        raise
    except Image.DecompressionBombError:
        raise TooManyPixels(f"the image has more than {limits.max_pixels:,} pixels") from None
    except UnidentifiedImageError:
        raise BrokenImage(f"the file starts like {fmt} but is not a readable {fmt} image") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        # Pillow's decoders report truncation and corruption as any of these
        raise BrokenImage(f"the {fmt} image is truncated or corrupt ({exc})") from None
    stored = _encode(clean, limits.jpeg_quality)
    thumb_image = clean.copy()
    thumb_image.thumbnail((limits.thumb_side, limits.thumb_side), Image.Resampling.LANCZOS)
    thumb = _encode(thumb_image, limits.thumb_quality)
    for blob in (stored, thumb):
        leftover = metadata_of(blob)
        if leftover:  # never store what we promised to strip
            raise RuntimeError(f"re-encoded image still carries {sorted(leftover)}")
    return ProcessedImage(
        data=stored, width=clean.width, height=clean.height, thumb=thumb, thumb_width=thumb_image.width,
        thumb_height=thumb_image.height, source_format=fmt,
    )


def header_pixels(data: bytes, limits: MediaLimits) -> int:
    """Width × height as the image's header declares it, nothing decoded; the usual refusals otherwise."""
    fmt = sniff(data)
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    try:
        with Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS[fmt]) as probe:
            check_pixels(probe.size, limits)
            width, height = probe.size
    except ImageRefused:
        raise
    except Image.DecompressionBombError:
        raise TooManyPixels(f"the image has more than {limits.max_pixels:,} pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError):
        raise BrokenImage(f"the file starts like {fmt} but is not a readable {fmt} image") from None
    return width * height


def check_pixels(size: tuple[int, int], limits: MediaLimits) -> None:
    """`TooManyPixels` if an image of `size` is above the limit (or has no pixels)."""
    width, height = size
    if width <= 0 or height <= 0:
        raise BrokenImage("the image has no pixels")
    if width * height > limits.max_pixels:
        raise TooManyPixels(f"the image is {width}×{height} pixels, more than {limits.max_pixels:,}")


def _normalise(image: Image.Image, limits: MediaLimits) -> Image.Image:
    """Upright, sRGB, RGB, at most `max_side` long, with no metadata attached."""
    upright = ImageOps.exif_transpose(image)
    icc = image.info.get("icc_profile")
    rgb = _to_srgb(upright, icc) if icc else _to_rgb(upright)
    rgb.info = {}
    if max(rgb.size) > limits.max_side:
        rgb.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
    return rgb


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB (`image` itself if it is: callers pass their own copy); transparency becomes white."""
    if image.mode == "RGB":
        return image
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        image = image.point(lambda v: v / 256).convert("L") if image.mode != "F" else image.convert("L")
    return image.convert("RGB")


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    """Colours converted from the embedded profile to sRGB (so dropping the profile keeps them)."""
    rgb = _to_rgb(image)
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(rgb, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return rgb  # a broken or non-RGB profile: keep the pixels as they are
    return converted if converted is not None else rgb


def _encode(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # no exif=, icc_profile=, xmp=, comment=: and `image.info` is empty, so nothing is carried over
    image.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


#: Keys of `Image.info` that carry metadata (rather than decoding parameters).
_METADATA_KEYS = frozenset({"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "photoshop", "iptc",
                            "adobe", "mp"})


def metadata_of(data: bytes) -> set[str]:
    """The metadata an encoded image carries (EXIF tags, XMP, ICC, comments …); empty if none."""
    with Image.open(io.BytesIO(data)) as image:
        found = {key for key in image.info if key in _METADATA_KEYS}
        if image.getexif():
            found.add("exif")
        applist = getattr(image, "applist", [])
        found.update(name for name, _ in applist if name not in ("APP0",))  # APP0 is the JFIF header
    return found
