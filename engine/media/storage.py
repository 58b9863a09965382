"""Where photo blobs live: one small interface, a local filesystem backend.

Keys are made here, from the tenant's id and a random id, never from
anything a user sent: `t12/ab/ab3f…e1.jpg` (and `…-thumb.jpg`). A backend
refuses any key not of that shape, so a stored key cannot point outside the
storage root even if a row were tampered with.

    storage = LocalStorage(Path("var/media"))
    key = new_key(tenant_id)
    storage.put(key, data)
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from komunikator.engine.media.settings import media_dir_from_env

#: The only keys a backend accepts (see `new_key`).
KEY_PATTERN = re.compile(r"^t[0-9]{1,12}/[0-9a-f]{2}/[0-9a-f]{32}(-thumb)?\.jpg$")


class BadKey(ValueError):
    """A key that `new_key` did not make (traversal attempts included)."""


class BlobMissing(LookupError):
    """No blob under this key."""


@runtime_checkable
class Storage(Protocol):
    """A place for blobs, addressed by keys from `new_key`."""

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` (replacing any blob there)."""

    def get(self, key: str) -> bytes:
        """The blob under `key`; `BlobMissing` if there is none."""

    def delete(self, key: str) -> None:
        """Remove the blob under `key`; no error if there is none."""

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under `key`."""


def new_key(tenant_id: int) -> str:
    """A fresh key for a photo of `tenant_id` (128 random bits, fanned out by the first byte)."""
    if not isinstance(tenant_id, int) or isinstance(tenant_id, bool) or tenant_id < 0:
        raise BadKey(f"a tenant id is a non-negative integer, not {tenant_id!r}")
    token = secrets.token_hex(16)
    return f"t{tenant_id}/{token[:2]}/{token}.jpg"


def thumb_key(key: str) -> str:
    """The key of the thumbnail that goes with the photo under `key`."""
    check_key(key)
    if key.endswith("-thumb.jpg"):
        raise BadKey(f"{key!r} is already a thumbnail key")
    return key.removesuffix(".jpg") + "-thumb.jpg"


def check_key(key: str) -> str:
    """`key` if `new_key`/`thumb_key` could have made it; `BadKey` otherwise."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise BadKey(f"not a storage key: {key!r}")
    return key


def key_belongs_to(key: str, tenant_id: int) -> bool:
    """Whether `key` was made for `tenant_id`."""
    return check_key(key).startswith(f"t{tenant_id}/")


class LocalStorage:
    """Blobs as files under one root folder (written atomically: temp file, then rename)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    @classmethod
    def from_env(cls) -> LocalStorage:
        """Rooted at `KOMUNIKATOR_MEDIA_DIR` (default `var/media`)."""
        return cls(media_dir_from_env())

    def path(self, key: str) -> Path:
        """The file a key names; `BadKey` for anything that is not a storage key."""
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):  # belt and braces: the pattern already forbids it
            raise BadKey(f"not a storage key: {key!r}")
        return path

    def put(self, key: str, data: bytes) -> None:
        """Write the blob; readers never see half a file."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            Path(tmp).replace(path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                Path(tmp).unlink()
            raise

    def get(self, key: str) -> bytes:
        """The blob's bytes."""
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(key) from None

    def delete(self, key: str) -> None:
        """Remove the blob if it is there."""
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    def exists(self, key: str) -> bool:
        """Whether the blob is there."""
        return self.path(key).is_file()

    def keys(self) -> list[str]:
        """Every stored key, sorted (tests and clean-up jobs)."""
        return sorted(key for key, _ in self._stored())

    def keys_written_before(self, moment: datetime) -> list[str]:
        """The stored keys whose blob was last written before `moment` (the clean-up job's candidates), sorted."""
        cutoff = moment.timestamp()
        return sorted(key for key, written in self._stored() if written < cutoff)

    def _stored(self) -> Iterator[tuple[str, float]]:
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*.jpg"):  # half-written uploads are `.upload-*` temp files: never matched
            key = path.relative_to(self.root).as_posix()
            if KEY_PATTERN.fullmatch(key):
                with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
                    yield key, path.stat().st_mtime
