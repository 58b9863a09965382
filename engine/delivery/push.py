"""Web Push: the one module that talks to push services (RFC 8030 delivery, RFC 8291 encryption, RFC 8292 VAPID).

`WebPushChannel` is the `push` channel of `deliver_pending`: one outgoing
message is one push to one subscription (`OutgoingMessage.push`, the
endpoint and keys a browser gave `PushManager.subscribe`). Encryption and
the VAPID signature are `pywebpush`'s (`http_ece` underneath, aes128gcm);
requests go over one kept `aiohttp` session per event loop.

What a push service answers, and what delivery makes of it:

| answer | meaning | outcome |
| --- | --- | --- |
| 200, 201, 202 | accepted | sent |
| 404, 410 | the subscription is gone (unsubscribed, expired) | `SubscriptionGone`: deleted, other targets go on |
| 429 | slow down | `RetryLater` with the `Retry-After` seconds (date or delta): the row waits at least that long |
| 413 | the payload is too large (cannot happen: payloads are cut to fit) | permanent |
| other 4xx (400, 401, 403 …) | refused: bad VAPID key, malformed | permanent |
| 5xx, network error, timeout | the service is struggling | temporary: back off like e-mail |

Headers, set deliberately:

- `TTL` — how long the push service keeps an undelivered message:
  `KOMUNIKATOR_PUSH_TTL_SECONDS` (default 86400, one day: a status change
  older than that is better read in the e-mail or the portal's inbox);
- `Urgency` — `high` for a message a person wrote to the resident
  (`message_to_reporter`), `normal` otherwise (RFC 8030 §5.3: "normal"
  reaches a phone on battery, "low" may wait for power);
- `Topic` — one per page the push links to (a report): a newer push about
  the same report replaces an older one the device has not fetched yet
  (RFC 8030 §5.4; 32 base64url characters, a hash, so it reveals nothing).

Payload (JSON, what `web/portal/static/sw-push.js` shows): `title` (the
city's name), `body` (the template's `push` text), `url` (where a tap leads),
`tag` (the topic, so the notification of the same report is replaced),
`lang`. Encrypted, it stays within 4096 bytes (RFC 8291 §4): the plaintext
may be at most `MAX_PLAINTEXT` bytes; a longer body is cut at a character
boundary and ends with "…" — the link is always kept.

VAPID keys (`VapidKeys.from_env`), made once per deployment by
`komunikator keys vapid`:

| variable | default | meaning |
| --- | --- | --- |
| `KOMUNIKATOR_VAPID_PRIVATE_KEY` | unset | the key itself (PEM, or base64url of the raw 32 bytes); wins over the file |
| `KOMUNIKATOR_VAPID_KEY_FILE` | `var/vapid_private.pem` | the PEM file `komunikator keys vapid` writes |
| `KOMUNIKATOR_VAPID_SUBJECT` | `mailto:` + `KOMUNIKATOR_SMTP_FROM` | whom push services contact (`mailto:`, `https:`) |

Without a key there is no `push` channel: push rows stay pending
("push channel not configured") until one is made.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02  # type: ignore[import-untyped]
from pywebpush import WebPusher  # type: ignore[import-untyped]

from komunikator.engine.delivery.channels import OutgoingMessage, PermanentFailure, TemporaryFailure
from komunikator.engine.settings import env_int

#: The largest plaintext whose aes128gcm encryption fits 4096 bytes: 86 header + 16 tag + 1 delimiter.
MAX_PLAINTEXT = 4096 - 86 - 16 - 1
DEFAULT_KEY_FILE = Path("var/vapid_private.pem")
DEFAULT_TTL = 86400
#: Templates whose push is `Urgency: high`: a person wrote to the resident.
HIGH_URGENCY = frozenset({"message_to_reporter"})
_ELLIPSIS = "…"
#: How long a VAPID signature is reused (push services accept up to 24 h; ours says 12 h).
_SIGNATURE_LIFE = 12 * 3600


class SubscriptionGone(PermanentFailure):
    """404/410: the subscription no longer exists; delivery deletes it."""

    def __init__(self, message: str, subscription_id: int) -> None:
        super().__init__(message)
        self.subscription_id = subscription_id


class RetryLater(TemporaryFailure):
    """429: the push service asks to wait `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class PushTarget:
    """One subscription: where a push goes and the keys it is encrypted with."""

    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str

    def info(self) -> dict[str, object]:
        """The subscription as `PushManager.subscribe` returns it (what pywebpush takes)."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


# -- keys -----------------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class VapidKeys:
    """The deployment's VAPID key pair and contact (RFC 8292)."""

    private_key: ec.EllipticCurvePrivateKey
    subject: str

    @classmethod
    def generate(cls, subject: str) -> VapidKeys:
        """A new P-256 key pair."""
        return cls(ec.generate_private_key(ec.SECP256R1()), subject)

    @classmethod
    def from_pem(cls, pem: bytes, subject: str) -> VapidKeys:
        """Keys from a PEM private key (PKCS#8 or SEC1); ValueError if it is no P-256 key."""
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("a VAPID key must be an EC P-256 private key")
        return cls(key, subject)

    @classmethod
    def from_text(cls, text: str, subject: str) -> VapidKeys:
        """Keys from PEM text or base64url of the raw 32-byte private value."""
        text = text.strip()
        if text.startswith("-----BEGIN"):
            return cls.from_pem(text.encode("ascii"), subject)
        try:
            raw = _unb64url(text)
        except ValueError:
            raise ValueError("KOMUNIKATOR_VAPID_PRIVATE_KEY is neither PEM nor base64url") from None
        if len(raw) != 32:
            raise ValueError("a raw VAPID private key has 32 bytes")
        return cls(ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1()), subject)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> VapidKeys | None:
        """The configured keys (see the module docstring), or None when there are none."""
        env = os.environ if env is None else env
        subject = env.get("KOMUNIKATOR_VAPID_SUBJECT") or "mailto:" + env.get("KOMUNIKATOR_SMTP_FROM",
                                                                              "komunikator@localhost")
        check_subject(subject)
        inline = env.get("KOMUNIKATOR_VAPID_PRIVATE_KEY")
        if inline:
            return cls.from_text(inline, subject)
        path = Path(env.get("KOMUNIKATOR_VAPID_KEY_FILE") or DEFAULT_KEY_FILE)
        if not path.is_file():
            return None
        return cls.from_pem(path.read_bytes(), subject)

    def private_pem(self) -> bytes:
        """The private key as PKCS#8 PEM (what the key file holds)."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def private_raw(self) -> str:
        """The private value, base64url (what `KOMUNIKATOR_VAPID_PRIVATE_KEY` may hold instead of PEM)."""
        return _b64url(self.private_key.private_numbers().private_value.to_bytes(32, "big"))

    @property
    def public_key(self) -> str:
        """The public key as browsers take it (`applicationServerKey`): base64url of the uncompressed point."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return _b64url(point)


def check_subject(subject: str) -> None:
    """ValueError unless the VAPID subject is a `mailto:` or `https:` URI (RFC 8292 §2.1)."""
    if not (subject.startswith("mailto:") and "@" in subject) and not subject.startswith("https://"):
        raise ValueError(f"KOMUNIKATOR_VAPID_SUBJECT {subject!r} must be a mailto: or https: URI")


def write_key_file(keys: VapidKeys, path: Path) -> None:
    """Write the private key as PEM, readable by its owner only; FileExistsError if the file exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(keys.private_pem())


# -- payload ----------------------------------------------------------------------------------------


def payload(message: OutgoingMessage) -> bytes:
    """The JSON a service worker receives, cut to fit one encrypted record (`MAX_PLAINTEXT`)."""
    body = " ".join((message.short or message.subject).split())
    data = {"title": message.sender_name or message.subject, "body": body, "url": message.url,
            "tag": topic(message), "lang": message.locale}
    encoded = _json(data)
    if len(encoded) <= MAX_PLAINTEXT:
        return encoded
    # cut the body (never the link) until the whole document fits
    over = len(encoded) - MAX_PLAINTEXT
    raw = body.encode("utf-8")
    keep = max(0, len(raw) - over - len(_ELLIPSIS.encode("utf-8")) - 8)
    while True:
        cut = raw[:keep].decode("utf-8", errors="ignore").rstrip()
        data["body"] = cut + _ELLIPSIS
        encoded = _json(data)
        if len(encoded) <= MAX_PLAINTEXT or keep == 0:
            return encoded
        keep = max(0, keep - 16)


def _json(data: Mapping[str, object]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def topic(message: OutgoingMessage) -> str:
    """The `Topic` (and notification tag): 32 base64url characters naming the page the push is about."""
    about = message.url or message.message_id
    return _b64url(hashlib.sha256(f"{message.tenant}\0{about}".encode()).digest())[:32]


def urgency(message: OutgoingMessage) -> str:
    """`high` for a message a person wrote to the resident, else `normal`."""
    return "high" if message.kind in HIGH_URGENCY else "normal"


def retry_after_seconds(value: str | None, now: float | None = None) -> float:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); 60 when missing or unreadable."""
    if not value:
        return 60.0
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 60.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now_dt = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return max(0.0, (when - now_dt).total_seconds())


# -- the channel ------------------------------------------------------------------------------------


class WebPushChannel:
    """The `push` channel: encrypts for one subscription, signs with VAPID, POSTs to its push service."""

    def __init__(self, keys: VapidKeys, *, ttl: int = DEFAULT_TTL, timeout: float = 30.0) -> None:
        self.keys = keys
        self.ttl = ttl
        self.timeout = timeout
        self._vapid = Vapid02(private_key=keys.private_key)
        self._signatures: dict[str, tuple[float, dict[str, str]]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebPushChannel | None:
        """The channel for the configured VAPID keys, or None without keys."""
        keys = VapidKeys.from_env(env)
        if keys is None:
            return None
        return cls(keys, ttl=env_int("KOMUNIKATOR_PUSH_TTL_SECONDS", DEFAULT_TTL, minimum=0, env=env))

    def __repr__(self) -> str:
        return f"WebPushChannel(ttl={self.ttl})"

    def vapid_headers(self, endpoint: str) -> dict[str, str]:
        """The `Authorization` header for the endpoint's push service (a signature reused for hours)."""
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        cached = self._signatures.get(audience)
        if cached is not None and cached[0] - now > 3600:
            return cached[1]
        expires = int(now) + _SIGNATURE_LIFE
        headers = self._vapid.sign({"aud": audience, "exp": expires, "sub": self.keys.subject})
        signed = {str(k): str(v) for k, v in headers.items()}
        self._signatures[audience] = (expires, signed)
        return signed

    async def send(self, message: OutgoingMessage) -> None:
        """Push `message` to its subscription; raise what the push service's answer means (module docstring)."""
        target = message.push
        if target is None:
            raise PermanentFailure("a push message without a subscription")
        headers = {**self.vapid_headers(target.endpoint), "Urgency": urgency(message), "Topic": topic(message)}
        where = urlsplit(target.endpoint).netloc
        try:
            pusher = WebPusher(target.info(), aiohttp_session=self._client())
            response = await pusher.send_async(payload(message), headers, ttl=self.ttl,
                                               content_encoding="aes128gcm", timeout=self.timeout)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise TemporaryFailure(f"push service {where}: {type(error).__name__}: {error}") from None
        if isinstance(response, str):  # only with curl=True
            raise PermanentFailure("pywebpush returned a command instead of sending")
        status = response.status
        if status in (200, 201, 202):
            return
        if status in (404, 410):
            raise SubscriptionGone(f"push service {where}: {status}: the subscription is gone",
                                   target.subscription_id)
        if status == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            raise RetryLater(f"push service {where}: 429, retry after {wait:.0f} s", wait)
        if 500 <= status < 600:
            raise TemporaryFailure(f"push service {where}: {status}")
        raise PermanentFailure(f"push service {where} refused: {status}")

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            # a session belongs to the loop that opened it
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16))
            self._loop = loop
        return self._session

    async def aclose(self) -> None:
        """Close the kept connections."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()
