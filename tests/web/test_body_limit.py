"""Every request body is bounded while it is read: 413 with a clear JSON body, before parsing (issue #12, 1).

In-process through the ASGI app (every route, declared and streamed bodies),
and against a real `uvicorn` process, where the point is that a huge body is
refused while it is still arriving, and the server stays up.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from route_table import app_routes, fill, path_params
from web_helpers import Api, report

from komunikator.web.limits import DEFAULT_MAX_BODY

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def _padded_report(size: int) -> bytes:
    """A syntactically valid JSON report of about `size` bytes."""
    body = report()
    body["description"] = "x" * size
    return json.dumps(body).encode()


async def test_an_oversized_json_report_is_413_with_a_clear_body(api: Api) -> None:
    r = await api.client("zgierz").post("/api/v1/tickets", content=_padded_report(200_000),
                                        headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json() == {"error": "body_too_large", "message": "the request body is larger than 64 KB allows",
                        "details": {"max_body_bytes": DEFAULT_MAX_BODY}}
    assert r.headers["content-type"] == "application/json"


async def test_a_report_within_the_limit_is_accepted(api: Api) -> None:
    r = await api.client("zgierz").post("/api/v1/tickets", json=report())
    assert r.status_code == 201, r.text


async def test_every_mutating_route_refuses_a_body_over_the_limit(api: Api) -> None:
    """Each write route, anonymous: an oversized body is 413, never a 401/404/422 after reading it all."""
    client = api.client("zgierz")
    routes = sorted((m, p) for m, p in app_routes(api.app) if m in MUTATING)
    assert len(routes) >= 10
    body = b'{"x": "' + b"y" * (DEFAULT_MAX_BODY + 10) + b'"}'
    for method, path in routes:
        url = fill(path, **dict.fromkeys(path_params(path), "1"))
        r = await client.request(method, url, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 413, (method, path, r.status_code, r.text)
        assert r.json()["error"] == "body_too_large"


async def test_a_multipart_body_to_a_json_route_gets_the_json_limit(api: Api) -> None:
    """Only the photo routes raise the limit: a big multipart body elsewhere is refused at 64 KB."""
    files = {"file": ("a.jpg", b"\xff" * 300_000, "image/jpeg")}
    r = await api.client("zgierz").post("/api/v1/tickets/ZG-1/comments", files=files)
    assert r.status_code == 413
    assert r.json()["error"] == "body_too_large"


async def test_a_streamed_body_is_refused_while_it_arrives(api: Api) -> None:
    """No Content-Length (chunked): the app stops reading right after the limit, not at the end."""
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"category": "pothole", "description": "'
        for _ in range(2000):  # 2000 × 16 KB = 32 MB if it were all read
            sent += 16 * 1024
            yield b"x" * (16 * 1024)
        yield b'"}'

    r = await api.client("zgierz").post("/api/v1/tickets", content=chunks(),
                                        headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"] == "body_too_large"
    assert sent <= DEFAULT_MAX_BODY + 32 * 1024, f"read {sent} bytes before refusing"


async def test_the_limit_is_a_setting(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from web_helpers import Clock, make_api

    monkeypatch.setenv("KOMUNIKATOR_MAX_BODY_BYTES", "2048")
    small = make_api(Clock())
    try:
        r = await small.client("zgierz").post("/api/v1/tickets", content=_padded_report(3000),
                                              headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        assert r.json()["details"] == {"max_body_bytes": 2048}
    finally:
        for client in small.clients.values():
            await client.aclose()


# -- a real server --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[int]:
    """`uvicorn komunikator.web.app:create_app --factory` on the test database; its port."""
    port = _free_port()
    env = {**os.environ, "KOMUNIKATOR_DATABASE_URL": database_url, "KOMUNIKATOR_JOBS": "off",
           "KOMUNIKATOR_MEDIA_DIR": str(tmp_path / "media")}
    log = (tmp_path / "uvicorn.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "komunikator.web.app:create_app", "--factory", "--port", str(port),
         "--log-level", "warning"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/tenant",
                             headers={"Host": "zgierz.localhost"}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (tmp_path / "uvicorn.log").read_text()
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _response(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server answers until it closes or `timeout` passes without a byte."""
    data = b""
    while select.select([sock], [], [], timeout)[0]:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data and data.rstrip().endswith(b"}"):
            break
    return data


_HEAD = (b"POST /api/v1/tickets HTTP/1.1\r\nHost: zgierz.localhost\r\nContent-Type: application/json\r\n")


def test_a_real_server_refuses_a_150_mb_chunked_body_while_it_streams(server: int) -> None:
    sock = socket.create_connection(("127.0.0.1", server))
    try:
        sock.sendall(_HEAD + b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        sent = 0
        started = time.monotonic()
        sock.setblocking(False)
        while sent < 150 * 1024 * 1024:
            readable, writable, _ = select.select([sock], [sock], [], 5)
            if readable:
                break  # the server answered before the body ended
            assert writable, "the server neither read nor answered for 5 s"
            try:
                sent += sock.send(framed)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
        sock.setblocking(True)
        answer = _response(sock, 5)
        elapsed = time.monotonic() - started
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b'"error":"body_too_large"' in answer.replace(b" ", b"")
    # The server stopped at the limit; what the client got out is that plus the sockets' buffers.
    assert sent < 32 * 1024 * 1024, f"the client sent {sent} bytes before the 413"
    assert elapsed < 5
    after = httpx.get(f"http://127.0.0.1:{server}/api/v1/tenant", headers={"Host": "zgierz.localhost"})
    assert after.status_code == 200  # still serving


def test_a_real_server_refuses_a_declared_150_mb_body_without_reading_it(server: int) -> None:
    sock = socket.create_connection(("127.0.0.1", server))
    try:
        sock.sendall(_HEAD + b"Content-Length: 157286400\r\n\r\n" + b"{" * 1000)
        answer = _response(sock, 5)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"body_too_large" in answer
