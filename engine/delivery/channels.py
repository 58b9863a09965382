"""Channels: where a rendered message goes (the one module that talks to SMTP).

A channel takes one `OutgoingMessage` (one recipient) and either returns
(delivered, as far as it can tell) or raises:

- `TemporaryFailure` — try again later (a 4xx reply); its subclass
  `ChannelUnavailable` when the channel itself is unreachable (server down,
  timeout, login refused);
- `PermanentFailure` — retrying cannot help (5xx reply, a malformed address).

Channels shipped here:

| name | class | what it does |
| --- | --- | --- |
| `email` | `SmtpChannel` | SMTP (aiosmtplib): text + HTML alternative, one connection kept and reused |
| `inbox` | `InboxChannel` | nothing external: the resident's in-app inbox reads the `sent` inbox rows |

| `push` | `push.WebPushChannel` | Web Push to one subscription (only when VAPID keys are configured) |

Without VAPID keys there is no push channel: rows for `push` stay pending
with `last_error` "push channel not configured" and are looked at again
hourly until keys are made (`komunikator keys vapid`).

SMTP settings come from the environment (`SmtpSettings.from_env`):

| variable | default | meaning |
| --- | --- | --- |
| `KOMUNIKATOR_SMTP_HOST` | `127.0.0.1` | server |
| `KOMUNIKATOR_SMTP_PORT` | `1025` (development) | port |
| `KOMUNIKATOR_SMTP_TLS` | `none` | `none`, `starttls` (upgrade after connecting) or `tls` (implicit TLS, port 465) |
| `KOMUNIKATOR_SMTP_USER`, `KOMUNIKATOR_SMTP_PASSWORD` | unset | log in when a user is set |
| `KOMUNIKATOR_SMTP_FROM` | `komunikator@localhost` | envelope sender and `From` (display name: the tenant's) |
| `KOMUNIKATOR_SMTP_TIMEOUT` | `30` | seconds per SMTP command |
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import secrets
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, formataddr
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar, cast, runtime_checkable

import aiosmtplib

from komunikator.engine.settings import env_choice, env_int, env_number

if TYPE_CHECKING:
    from komunikator.engine.delivery.push import PushTarget

T = TypeVar("T")
TlsMode = Literal["none", "starttls", "tls"]
_TLS_MODES: tuple[TlsMode, ...] = ("none", "starttls", "tls")


class DeliveryFailure(Exception):
    """A message could not be delivered."""


class TemporaryFailure(DeliveryFailure):
    """Delivery failed for now; the same message may succeed later."""


class ChannelUnavailable(TemporaryFailure):
    """The channel itself cannot be reached (server down, network, login refused).

    Not the message's fault: the row backs off but is never given up for this.
    """


class PermanentFailure(DeliveryFailure):
    """Delivery cannot succeed; do not retry."""


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered message for one recipient."""

    channel: str
    #: the recipient's address (an e-mail address for `email` and `inbox`)
    to: str
    subject: str
    text: str
    #: stable for the same outbox row and recipient, on every resend: `<…@host>`
    message_id: str
    html: str | None = None
    #: short text for push and the inbox (the template's `push`, else the subject)
    short: str | None = None
    recipient_name: str = ""
    #: the display name of `From` (the tenant's name)
    sender_name: str = ""
    reply_to: str | None = None
    locale: str = "pl"
    tenant: str = ""
    outbox_id: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    #: the template (kind) the message was made from
    kind: str = ""
    #: where a push notification leads (the report's public page, else the portal)
    url: str = ""
    #: the subscription a `push` message goes to (`engine/delivery/push.py`)
    push: PushTarget | None = None


@runtime_checkable
class Channel(Protocol):
    """Delivers one message; raises `TemporaryFailure` or `PermanentFailure`."""

    async def send(self, message: OutgoingMessage) -> None:
        """Deliver `message`, or raise."""


@runtime_checkable
class GatedChannel(Channel, Protocol):
    """A channel that can prepare a message while earlier work finishes (see `SmtpChannel.send_after`)."""

    async def send_after(self, message: OutgoingMessage, gate: Awaitable[object] | None) -> None:
        """Deliver `message`, committing it only once `gate` is done; or raise."""


async def send_after(channel: Channel, message: OutgoingMessage, gate: Awaitable[object] | None) -> None:
    """Deliver `message` through `channel` once `gate` (if any) is done, overlapping them where the channel can."""
    if isinstance(channel, GatedChannel):
        await channel.send_after(message, gate)
        return
    if gate is not None:
        await gate
    await channel.send(message)


async def close_channels(channels: Mapping[str, Channel]) -> None:
    """Close whichever channels hold connections (`aclose`)."""
    for channel in channels.values():
        closer = getattr(channel, "aclose", None)
        if closer is not None:
            await closer()


class InboxChannel:
    """The in-app inbox: the row itself is the message, so there is nothing to send."""

    async def send(self, message: OutgoingMessage) -> None:
        """Accept the message (the portal reads sent `inbox` rows)."""
        return


# -- e-mail ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP server."""

    host: str = "127.0.0.1"
    port: int = 1025
    tls: TlsMode = "none"
    user: str | None = None
    password: str | None = None
    sender: str = "komunikator@localhost"
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings:
        """Settings from `KOMUNIKATOR_SMTP_*` (see the module docstring); ValueError if malformed."""
        env = os.environ if env is None else env
        tls = cast(TlsMode, env_choice("KOMUNIKATOR_SMTP_TLS", "none", _TLS_MODES, env))
        port = env_int("KOMUNIKATOR_SMTP_PORT", 1025, minimum=1, env=env)
        timeout = env_number("KOMUNIKATOR_SMTP_TIMEOUT", 30, minimum=0.1, env=env)
        return cls(
            host=env.get("KOMUNIKATOR_SMTP_HOST", "127.0.0.1"),
            port=port,
            tls=tls,
            user=env.get("KOMUNIKATOR_SMTP_USER") or None,
            password=env.get("KOMUNIKATOR_SMTP_PASSWORD") or None,
            sender=env.get("KOMUNIKATOR_SMTP_FROM", "komunikator@localhost"),
            timeout=timeout,
        )


def build_email(message: OutgoingMessage, sender: str, now: datetime | None = None) -> bytes:
    """The message as sent (RFC 5322 + MIME, CRLF): a UTF-8 text part, and an HTML alternative if any.

    Written out directly: the standard library's `email` objects cost more
    than the SMTP exchange itself on a local relay. Bodies are
    quoted-printable; non-ASCII headers are RFC 2047 encoded words.
    """
    headers = [
        ("From", _mailbox(message.sender_name, sender)),
        ("To", _mailbox(message.recipient_name, _checked_address(message.to))),
        *([("Reply-To", _checked_address(message.reply_to))] if message.reply_to else []),
        ("Subject", _header(message.subject)),
        ("Date", format_datetime(now or datetime.now(UTC))),
        ("Message-ID", message.message_id),
        ("Auto-Submitted", "auto-generated"),
        ("Content-Language", message.locale),
        *((name, _header(value)) for name, value in message.headers.items()),
        ("MIME-Version", "1.0"),
    ]
    if message.html is None:
        body = _part("plain", message.text)
    else:
        boundary = f"=_{secrets.token_hex(10)}"
        body = (
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\n{_part('plain', message.text)}\r\n"
            f"--{boundary}\r\n{_part('html', message.html)}\r\n"
            f"--{boundary}--\r\n"
        )
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return (head + body).encode("ascii")


def _part(subtype: str, content: str) -> str:
    text = content.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii").replace("\n", "\r\n")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"{encoded}{'' if encoded.endswith(chr(10)) else chr(13) + chr(10)}"
    )


def _header(value: str) -> str:
    """A one-line header value; RFC 2047 encoded words (folded) when it is not short ASCII."""
    value = " ".join(value.split())
    if value.isascii() and len(value) <= 900:
        return value
    words: list[str] = []
    chunk = ""
    for char in value:  # whole characters per encoded word, at most 42 bytes (56 in base64): lines ≤ 78
        if len((chunk + char).encode("utf-8")) > 42:
            words.append(chunk)
            chunk = ""
        chunk += char
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w.encode('utf-8')).decode('ascii')}?=" for w in words)


def _mailbox(name: str, addr: str) -> str:
    name = " ".join(name.split())
    if not name:
        return addr
    if name.isascii():
        return formataddr((name, addr))
    return f"{_header(name)} <{addr}>"


def _checked_address(addr: str) -> str:
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or not addr.isascii() or any(c.isspace() or c in '<>,;"()' for c in addr):
        raise PermanentFailure(f"{addr!r} is not a usable e-mail address")
    return addr


class SmtpChannel:
    """E-mail over SMTP, reusing one connection across messages (reconnecting when it drops).

    Safe to share between tasks of one event loop (sends are serialised);
    a channel used from a new event loop opens a new connection.
    """

    def __init__(self, settings: SmtpSettings | None = None) -> None:
        self.settings = settings or SmtpSettings.from_env()
        self._client: aiosmtplib.SMTP | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        s = self.settings
        return f"SmtpChannel({s.host}:{s.port}, tls={s.tls})"

    async def send(self, message: OutgoingMessage) -> None:
        """Send one e-mail; map SMTP failures to temporary (4xx, network) or permanent (5xx)."""
        await self.send_after(message, None)

    async def send_after(self, message: OutgoingMessage, gate: Awaitable[object] | None) -> None:
        """Like `send`, but the server gets the content (and so accepts the message) only once `gate` is done.

        The envelope (MAIL FROM, RCPT TO) goes out meanwhile, so the gate's work
        (the database recording the previous message) overlaps the exchange.
        If the gate fails, the SMTP transaction is abandoned (RSET) and the
        gate's exception propagates.
        """
        mail = build_email(message, self.settings.sender)
        async with self._guard():
            for attempt in (1, 2):
                try:
                    await self._send_once(mail, message.to, gate)
                    return
                except aiosmtplib.SMTPServerDisconnected as error:
                    # a kept connection may have been closed by the server meanwhile: one fresh try
                    await self._drop()
                    if attempt == 2:
                        raise ChannelUnavailable(f"SMTP {self.settings.host}:{self.settings.port}: "
                                                 f"disconnected: {error}") from None

    async def _send_once(self, mail: bytes, to: str, gate: Awaitable[object] | None) -> None:
        client = await self._smtp(self._connected())
        if client.is_ehlo_or_helo_needed:
            await self._smtp(client.ehlo())
        await self._smtp(client.mail(self.settings.sender), sender=True)
        await self._smtp(client.rcpt(to))
        if gate is not None:
            try:
                await gate
            except BaseException:
                await self._reset()
                raise
        await self._smtp(client.data(mail))

    async def _smtp(self, step: Awaitable[T], *, sender: bool = False) -> T:
        """Await one SMTP step, turning its failures into delivery failures."""
        where = f"SMTP {self.settings.host}:{self.settings.port}"
        try:
            return await step
        except aiosmtplib.SMTPServerDisconnected:
            raise
        except aiosmtplib.SMTPConnectResponseError as error:  # the greeting was a refusal
            await self._drop()
            raise ChannelUnavailable(f"{where} refused the connection: {error.code} {error.message}") from None
        except aiosmtplib.SMTPResponseException as error:
            await self._reset()
            if sender:  # our own address refused: the configuration's fault, not the message's
                raise ChannelUnavailable(f"{where} refused the sender: {error.code} {error.message}") from None
            raise _classify(error.code, f"{error.code} {error.message}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            await self._drop()
            raise ChannelUnavailable(f"{where}: {type(error).__name__}: {error}") from None

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.host, port=s.port, timeout=s.timeout, use_tls=s.tls == "tls",
            start_tls=s.tls == "starttls",
        )
        try:
            await client.connect()
            if s.user:
                await client.login(s.user, s.password or "")
        except aiosmtplib.SMTPAuthenticationError as error:
            # wrong credentials are the operator's to fix; the messages wait for them
            client.close()
            raise ChannelUnavailable(f"SMTP login as {s.user!r} refused: {error.code} {error.message}") from None
        except BaseException:
            client.close()
            raise
        self._client = client
        return client

    async def _reset(self) -> None:
        # after a refused transaction the connection stays usable once reset
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.rset()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                await self._drop()

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _guard(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._lock
        if self._loop is not loop or lock is None:
            # a connection belongs to the loop that opened it
            lock = asyncio.Lock()
            self._client, self._loop, self._lock = None, loop, lock
        return lock

    async def aclose(self) -> None:
        """Say QUIT and close the connection, if one is open."""
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()


def _classify(code: int, text: str) -> DeliveryFailure:
    if 500 <= code < 600:
        return PermanentFailure(f"SMTP refused: {text}")
    if code == 421:  # the server is shutting the channel, not refusing this message
        return ChannelUnavailable(f"SMTP unavailable: {text}")
    return TemporaryFailure(f"SMTP deferred: {text}")


def channels_from_env(env: Mapping[str, str] | None = None) -> dict[str, Channel]:
    """The channels this process delivers through: `email` (SMTP from the environment), `inbox`, and `push`
    when VAPID keys are configured."""
    from komunikator.engine.delivery.push import WebPushChannel  # aiohttp and cryptography: only when delivering

    channels: dict[str, Channel] = {"email": SmtpChannel(SmtpSettings.from_env(env)), "inbox": InboxChannel()}
    push = WebPushChannel.from_env(env)
    if push is not None:
        channels["push"] = push
    return channels
