"""`komunikator keys vapid`: made once, kept where the operators' guide says, never replaced."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from komunikator.cli.app import app
from komunikator.engine.delivery.push import VapidKeys, WebPushChannel


def _point(public_key: str) -> bytes:
    return base64.urlsafe_b64decode(public_key + "=" * (-len(public_key) % 4))


def test_the_key_file_is_written_once_private_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keys" / "vapid.pem"
    monkeypatch.setenv("KOMUNIKATOR_VAPID_KEY_FILE", str(path))
    monkeypatch.delenv("KOMUNIKATOR_VAPID_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("KOMUNIKATOR_VAPID_SUBJECT", "mailto:it@zgierz.example.pl")
    assert WebPushChannel.from_env() is None  # no key, no push channel

    made = CliRunner().invoke(app, ["keys", "vapid"])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys = VapidKeys.from_env()
    assert keys is not None and keys.subject == "mailto:it@zgierz.example.pl"
    assert f"public key (applicationServerKey): {keys.public_key}" in made.output
    point = _point(keys.public_key)
    assert len(point) == 65 and point[0] == 4  # what browsers take as applicationServerKey
    pem = path.read_bytes()

    again = CliRunner().invoke(app, ["keys", "vapid"])
    assert again.exit_code == 1 and "never replaced" in again.output
    assert path.read_bytes() == pem
    shown = CliRunner().invoke(app, ["keys", "vapid", "--show"])
    assert shown.exit_code == 0 and shown.output.strip() == keys.public_key
    assert WebPushChannel.from_env() is not None


def test_env_mode_prints_a_key_the_environment_can_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMUNIKATOR_VAPID_KEY_FILE", str(tmp_path / "none.pem"))
    monkeypatch.delenv("KOMUNIKATOR_VAPID_PRIVATE_KEY", raising=False)
    done = CliRunner().invoke(app, ["keys", "vapid", "--env"])
    assert done.exit_code == 0, done.output
    assert not (tmp_path / "none.pem").exists()
    line = next(x for x in done.output.splitlines() if x.startswith("KOMUNIKATOR_VAPID_PRIVATE_KEY="))
    monkeypatch.setenv("KOMUNIKATOR_VAPID_PRIVATE_KEY", line.split("=", 1)[1])
    keys = VapidKeys.from_env()
    assert keys is not None and f"applicationServerKey): {keys.public_key}" in done.output
    refused = CliRunner().invoke(app, ["keys", "vapid", "--env"])
    assert refused.exit_code == 1  # a configured key is never replaced either


def test_a_malformed_key_or_subject_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMUNIKATOR_VAPID_PRIVATE_KEY", "not a key")
    assert CliRunner().invoke(app, ["keys", "vapid", "--show"]).exit_code == 2
    monkeypatch.delenv("KOMUNIKATOR_VAPID_PRIVATE_KEY")
    monkeypatch.setenv("KOMUNIKATOR_VAPID_SUBJECT", "ftp://x")
    assert CliRunner().invoke(app, ["keys", "vapid", "--show"]).exit_code == 2
