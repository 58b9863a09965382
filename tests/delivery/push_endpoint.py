"""A local Web Push service for tests and the push benchmark: real HTTP, real RFC 8291 decryption, VAPID checked.

    service = PushService().start()                     # in a thread, on a free port
    info = service.subscribe("phone")                   # what PushManager.subscribe would return
    ... deliver ...
    got = service.wait_for(1)[0]                        # got.payload (decrypted JSON), got.headers, got.vapid_ok
    service.answer("phone", 410)                        # from now on that subscription is gone
    service.answer("phone", 429, retry_after="120")

Run alone (the benchmark does, in a subprocess): `python tests/delivery/push_endpoint.py PORT`;
then `GET /subscribe/NAME` returns a subscription and `GET /stats` counts what arrived.

Each subscription has its own P-256 key pair and auth secret, kept here like a
browser keeps them; a push is decrypted with `http_ece` (aes128gcm) and its
VAPID `Authorization` (RFC 8292: `vapid t=JWT, k=KEY`) is verified: an ES256
signature by that key, `aud` this service's origin, `exp` in the future, `sub`
a mailto: or https: URI.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Pushed:
    """One push as the service received it."""

    name: str
    headers: dict[str, str]
    body_length: int
    payload: dict[str, Any] | None
    vapid_ok: bool
    vapid_error: str = ""


@dataclass
class _Subscription:
    key: ec.EllipticCurvePrivateKey
    auth: bytes
    status: int = 201
    retry_after: str | None = None


@dataclass
class _State:
    origin: str
    decrypt: bool = True
    subscriptions: dict[str, _Subscription] = field(default_factory=dict)
    received: list[Pushed] = field(default_factory=list)
    answered: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def check_vapid(authorization: str, origin: str, now: float | None = None) -> str:
    """'' when the header is a valid VAPID authorization for `origin`, else what is wrong."""
    if not authorization.lower().startswith("vapid "):
        return "no vapid scheme"
    parts = dict(p.strip().split("=", 1) for p in authorization[6:].split(",") if "=" in p)
    token, key = parts.get("t", ""), parts.get("k", "")
    try:
        head, claims_b64, signature = token.split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(key))
        raw = _unb64(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{head}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        header = json.loads(_unb64(head))
        claims = json.loads(_unb64(claims_b64))
    except (ValueError, InvalidSignature) as error:
        return f"bad token: {type(error).__name__}"
    if header.get("alg") != "ES256":
        return "alg is not ES256"
    if claims.get("aud") != origin:
        return f"aud {claims.get('aud')!r} is not {origin!r}"
    if int(claims.get("exp", 0)) <= (now or time.time()) or int(claims["exp"]) > (now or time.time()) + 86400:
        return "exp outside the next 24 hours"
    sub = str(claims.get("sub", ""))
    if not sub.startswith(("mailto:", "https:")):
        return f"sub {sub!r} is no mailto:/https: URI"
    return ""


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as push services offer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.startswith("/subscribe/"):
                name = self.path.removeprefix("/subscribe/")
                info = subscribe(state, name)
                self._reply(200, json.dumps(info).encode(), {"Content-Type": "application/json"})
            elif self.path == "/stats":
                with state.lock:
                    payloads = [json.dumps(p.payload, sort_keys=True) for p in state.received if p.payload]
                    stats = {"received": len(state.received), "decrypted": len(payloads),
                             "distinct": len(set(payloads)), "vapid_ok": sum(p.vapid_ok for p in state.received),
                             "max_body": max((p.body_length for p in state.received), default=0)}
                self._reply(200, json.dumps(stats).encode(), {"Content-Type": "application/json"})
            else:
                self._reply(404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            name = self.path.removeprefix("/push/")
            with state.lock:
                sub = state.subscriptions.get(name)
            if not self.path.startswith("/push/") or sub is None:
                self._reply(404)
                return
            if sub.status != 201:
                with state.lock:
                    state.answered[sub.status] = state.answered.get(sub.status, 0) + 1
                self._reply(sub.status, headers={"Retry-After": sub.retry_after} if sub.retry_after else None)
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            problem = check_vapid(headers.get("authorization", ""), state.origin)
            payload = None
            if state.decrypt:
                try:
                    plain = http_ece.decrypt(body, private_key=sub.key, auth_secret=sub.auth, version="aes128gcm")
                    payload = json.loads(plain)
                except Exception as error:  # noqa: BLE001 — a push that does not decrypt is refused, as a browser would
                    self._reply(400, f"cannot decrypt: {error}".encode())
                    return
            with state.lock:
                state.received.append(Pushed(name, headers, len(body), payload, not problem, problem))
            self._reply(201, headers={"Location": f"/message/{len(state.received)}"})

    return Handler


def subscribe(state: _State, name: str) -> dict[str, Any]:
    """A new subscription `name` (its keys kept by the service), as `PushManager.subscribe` returns it."""
    key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    with state.lock:
        state.subscriptions[name] = _Subscription(key, auth)
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"endpoint": f"{state.origin}/push/{name}", "keys": {"p256dh": _b64(point), "auth": _b64(auth)}}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PushService:
    """The service in a thread of this process."""

    def __init__(self, port: int | None = None, *, decrypt: bool = True) -> None:
        self.port = port or free_port()
        self.state = _State(f"http://127.0.0.1:{self.port}", decrypt)
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> PushService:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self.state))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def subscribe(self, name: str) -> dict[str, Any]:
        """A new subscription (see the module docstring)."""
        return subscribe(self.state, name)

    def answer(self, name: str, status: int, retry_after: str | None = None) -> None:
        """Answer pushes to `name` with `status` from now on (201 again: accept)."""
        with self.state.lock:
            self.state.subscriptions[name].status = status
            self.state.subscriptions[name].retry_after = retry_after

    @property
    def received(self) -> list[Pushed]:
        with self.state.lock:
            return list(self.state.received)

    @property
    def answered(self) -> dict[int, int]:
        """How many pushes got each refusing status."""
        with self.state.lock:
            return dict(self.state.answered)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Pushed]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.received


if __name__ == "__main__":
    port = int(sys.argv[1])
    service = PushService(port).start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        service.stop()
