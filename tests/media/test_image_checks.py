"""Photos are judged by content: fakes refused with the right error, metadata stripped from what we keep."""

from __future__ import annotations

import io
import time

import pytest
from media_helpers import (
    GPS_IFD,
    SCRIPT,
    SVG,
    encode,
    exif_of,
    gps_exif,
    gps_of,
    info_of,
    jpeg,
    jpeg_with_gps,
    noisy,
    png_bomb,
    truncated_jpeg,
)
from PIL import Image, ImageCms, ImageFile

from komunikator.engine.media import images
from komunikator.engine.media.images import (
    BrokenImage,
    ImageTooLarge,
    NotAnImage,
    TooManyPixels,
    UnsupportedFormat,
    metadata_of,
    process,
    read_limited,
)
from komunikator.engine.media.settings import MB, MediaLimits


@pytest.mark.parametrize(
    ("data", "error", "status"),
    [
        (SCRIPT, NotAnImage, 415),
        (SVG, NotAnImage, 415),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", NotAnImage, 415),
        (b"", NotAnImage, 415),
        (encode(noisy((20, 20)), "GIF"), UnsupportedFormat, 415),
        (encode(noisy((20, 20)), "TIFF"), UnsupportedFormat, 415),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", UnsupportedFormat, 415),
        (truncated_jpeg(), BrokenImage, 422),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, BrokenImage, 422),
        (png_bomb()[:40], BrokenImage, 422),
        (png_bomb(), TooManyPixels, 422),
    ],
    ids=["script", "svg", "pdf", "empty", "gif", "tiff", "heic", "truncated-jpeg", "jpeg-garbage", "cut-png",
         "png-bomb"],
)
def test_refusals_are_typed_with_their_status(data: bytes, error: type[images.ImageRefused], status: int) -> None:
    with pytest.raises(error) as caught:
        process(data)
    assert caught.value.status == status
    assert caught.value.message


def test_a_script_named_like_a_photo_is_judged_by_its_bytes() -> None:
    # there is no name or content type to pass: only bytes reach the check
    with pytest.raises(NotAnImage, match="not an image"):
        process(SCRIPT)


def test_the_bomb_is_refused_from_its_header_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    bomb = png_bomb(30000, 30000)
    assert len(bomb) < 200
    started = time.perf_counter()
    with pytest.raises(TooManyPixels, match="pixels"):
        process(bomb)
    assert time.perf_counter() - started < 1


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_pixel_limit_is_exact_and_configurable() -> None:
    limits = MediaLimits(max_pixels=100 * 100)
    assert process(jpeg((100, 100)), limits).width == 100
    with pytest.raises(TooManyPixels):
        process(jpeg((101, 100)), limits)
    # between the limit and twice it Pillow only warns; we still refuse
    with pytest.raises(TooManyPixels):
        process(png_bomb(150, 100), limits)


def test_too_many_bytes_is_413() -> None:
    data = jpeg((64, 64))
    with pytest.raises(ImageTooLarge) as caught:
        process(data, MediaLimits(max_bytes=len(data) - 1))
    assert caught.value.status == 413
    assert process(data, MediaLimits(max_bytes=len(data))).width == 64


class CountingStream(io.RawIOBase):
    """An endless stream that counts what was read from it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "an unbounded read"
        self.read_bytes += size
        return b"\xff" * size


def test_a_20_mb_file_is_refused_without_reading_it_all() -> None:
    stream = CountingStream()
    with pytest.raises(ImageTooLarge):
        read_limited(stream, 10 * MB)  # type: ignore[arg-type]
    assert stream.read_bytes <= 10 * MB + 1
    assert read_limited(io.BytesIO(b"x" * 1000), 1000) == b"x" * 1000


def test_gps_exif_xmp_and_comments_are_gone_from_the_photo_and_the_thumbnail() -> None:
    source = jpeg_with_gps()
    assert gps_of(source)
    assert metadata_of(source) >= {"exif", "comment"}
    result = process(source)
    for blob in (result.data, result.thumb):
        fmt, _, info = info_of(blob)
        assert fmt == "JPEG"
        assert exif_of(blob) == {}
        assert gps_of(blob) == {}
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(info)
        assert metadata_of(blob) == set()
        assert b"PhoneCam" not in blob
        assert b"Kowalski" not in blob


def test_orientation_is_applied_before_the_exif_goes() -> None:
    result = process(jpeg_with_gps((640, 480), orientation=6))  # "rotate 90° to view"
    assert (result.width, result.height) == (480, 640)
    assert exif_of(result.data) == {}


def test_thumbnail_and_size_cap() -> None:
    result = process(jpeg((1600, 900)), MediaLimits(max_side=800, thumb_side=320))
    assert (result.width, result.height) == (800, 450)
    assert (result.thumb_width, result.thumb_height) == (320, 180)
    assert info_of(result.thumb)[1] == (320, 180)
    assert result.content_type == "image/jpeg"
    assert len(result.sha256) == 64


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "L", "1", "I;16"])
def test_png_modes_become_rgb_jpeg(mode: str) -> None:
    image = Image.new(mode, (40, 30))
    result = process(encode(image, "PNG"))
    fmt, size, _ = info_of(result.data)
    assert (fmt, size, result.source_format) == ("JPEG", (40, 30), "PNG")


def test_transparency_becomes_white() -> None:
    result = process(encode(Image.new("RGBA", (10, 10), (255, 0, 0, 0)), "PNG"))
    with Image.open(io.BytesIO(result.data)) as back:
        r, g, b = back.convert("RGB").getpixel((5, 5))  # type: ignore[misc]
    assert min(r, g, b) > 240


def test_webp_is_accepted_and_its_exif_stripped() -> None:
    source = encode(noisy((120, 80)), "WEBP", exif=gps_exif())
    assert gps_of(source)
    result = process(source)
    assert result.source_format == "WEBP"
    assert gps_of(result.data) == {}
    assert metadata_of(result.data) == set()


def test_an_icc_profile_is_converted_and_dropped() -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = encode(noisy((50, 50)), "JPEG", icc_profile=profile)
    assert "icc_profile" in info_of(source)[2]
    result = process(source)
    assert "icc_profile" not in info_of(result.data)[2]


def test_png_text_chunks_do_not_survive() -> None:
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    meta.add_text("Author", "Jan Kowalski")
    source = encode(noisy((30, 30)), "PNG", pnginfo=meta, exif=gps_exif())
    result = process(source)
    assert b"Kowalski" not in result.data
    assert metadata_of(result.data) == set()
    assert GPS_IFD not in exif_of(result.data)
