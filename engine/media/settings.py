"""Limits and places for photos, read from the environment (`KOMUNIKATOR_MEDIA_*`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from komunikator.engine.settings import env_int

MB = 1024 * 1024

#: Where the local storage keeps blobs unless `KOMUNIKATOR_MEDIA_DIR` says otherwise (relative to the
#: working directory, like the default SQLite file).
DEFAULT_MEDIA_DIR = Path("var/media")


@dataclass(frozen=True)
class MediaLimits:
    """What an uploaded photo may be, and what we make of it."""

    #: bytes of one uploaded file (413 beyond)
    max_bytes: int = 10 * MB
    #: width × height of one image (decompression bombs are refused before decoding)
    max_pixels: int = 40_000_000
    #: width × height of all the photos of one submission together (each is decoded: this bounds the work)
    max_submission_pixels: int = 64_000_000
    #: the stored copy is scaled down to this long side (a 12 MP phone photo is 4000 px wide)
    max_side: int = 4096
    #: the thumbnail's long side
    thumb_side: int = 320
    jpeg_quality: int = 85
    thumb_quality: int = 80

    @classmethod
    def from_env(cls) -> MediaLimits:
        """Limits from `KOMUNIKATOR_MEDIA_MAX_BYTES`, `…_MAX_PIXELS`, `…_MAX_SUBMISSION_PIXELS`, `…_MAX_SIDE`,
        `…_THUMB_SIDE`."""
        default = cls()
        return cls(
            max_bytes=env_int("KOMUNIKATOR_MEDIA_MAX_BYTES", default.max_bytes, minimum=1),
            max_pixels=env_int("KOMUNIKATOR_MEDIA_MAX_PIXELS", default.max_pixels, minimum=1),
            max_submission_pixels=env_int("KOMUNIKATOR_MEDIA_MAX_SUBMISSION_PIXELS", default.max_submission_pixels,
                                          minimum=1),
            max_side=env_int("KOMUNIKATOR_MEDIA_MAX_SIDE", default.max_side, minimum=1),
            thumb_side=env_int("KOMUNIKATOR_MEDIA_THUMB_SIDE", default.thumb_side, minimum=1),
        )


def media_dir_from_env() -> Path:
    """The local storage root: `KOMUNIKATOR_MEDIA_DIR`, default `var/media`."""
    raw = os.environ.get("KOMUNIKATOR_MEDIA_DIR")
    return Path(raw) if raw else DEFAULT_MEDIA_DIR
