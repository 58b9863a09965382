"""The local blob storage: keys we make, nothing else; no way out of its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from komunikator.engine.media.storage import (
    BadKey,
    BlobMissing,
    LocalStorage,
    Storage,
    check_key,
    key_belongs_to,
    new_key,
    thumb_key,
)


def test_put_get_exists_delete(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")
    assert isinstance(storage, Storage)
    key = new_key(7)
    assert not storage.exists(key)
    storage.put(key, b"photo")
    assert storage.exists(key)
    assert storage.get(key) == b"photo"
    storage.put(key, b"again")  # replaces
    assert storage.get(key) == b"again"
    assert storage.keys() == [key]
    storage.delete(key)
    storage.delete(key)  # deleting twice is fine
    assert not storage.exists(key)
    with pytest.raises(BlobMissing):
        storage.get(key)
    assert not [p for p in (tmp_path / "media").rglob("*") if p.is_file()]  # no temporary files left


def test_keys_are_random_and_name_the_tenant() -> None:
    keys = {new_key(3) for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert check_key(key) == key
        assert key.startswith("t3/")
        assert key_belongs_to(key, 3)
        assert not key_belongs_to(key, 33)
    key = next(iter(keys))
    assert thumb_key(key) == key.removesuffix(".jpg") + "-thumb.jpg"
    with pytest.raises(BadKey):
        thumb_key(thumb_key(key))


@pytest.mark.parametrize("tenant", [-1, "3", "../3", True, 1.5])
def test_tenant_ids_are_integers(tenant: object) -> None:
    with pytest.raises(BadKey):
        new_key(tenant)  # type: ignore[arg-type]


TRAVERSALS = [
    "../etc/passwd",
    "t1/../../etc/passwd",
    "/etc/passwd",
    "t1/ab/../../../secret.jpg",
    "t1/ab/" + "a" * 32 + ".jpg/../../x",
    "t1\\ab\\" + "a" * 32 + ".jpg",
    "t1/ab/" + "a" * 31 + "/.jpg",
    "t1/ab/" + "A" * 32 + ".jpg",
    "t1/ab/" + "a" * 32 + ".jpg\x00.png",
    "t1/ab/" + "a" * 32 + ".jpg\n",
    "t1/ab/" + "a" * 32 + ".png",
    "",
    ".",
    "t1/../t2/ab/" + "a" * 32 + ".jpg",
]


@pytest.mark.parametrize("key", TRAVERSALS)
def test_no_key_leads_outside_the_root(tmp_path: Path, key: str) -> None:
    root = tmp_path / "media"
    root.mkdir()
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(b"secret")
    storage = LocalStorage(root)
    for operation in (storage.get, storage.delete, storage.exists, lambda k: storage.put(k, b"x")):
        with pytest.raises(BadKey):
            operation(key)
    assert outside.read_bytes() == b"secret"
    assert not list(root.rglob("*"))


def test_a_symlinked_folder_cannot_lead_out(tmp_path: Path) -> None:
    root = tmp_path / "media"
    (root / "t1").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "t1" / "ab").symlink_to(elsewhere)
    storage = LocalStorage(root)
    with pytest.raises(BadKey):
        storage.put("t1/ab/" + "a" * 32 + ".jpg", b"x")
    assert not list(elsewhere.iterdir())


def test_root_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMUNIKATOR_MEDIA_DIR", str(tmp_path / "m"))
    assert LocalStorage.from_env().root == (tmp_path / "m").resolve()
    monkeypatch.delenv("KOMUNIKATOR_MEDIA_DIR")
    assert LocalStorage.from_env().root == (Path.cwd() / "var" / "media").resolve()
