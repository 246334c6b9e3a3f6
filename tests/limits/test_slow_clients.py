"""`vouch serve` against slow and oversized requests, as a client on the network sees it:
a real server in a subprocess, and raw sockets."""

import json
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.served import VOUCH, VouchServer, base_env

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.5
MAX_HEADER_BYTES = 2048
MAX_HEADERS = 20
# The time past a timeout that the server may take to act on it, on a busy machine.
SLACK = 2.0


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    # Its own SQLite file: these requests never reach a write.
    database = tmp_path_factory.mktemp("slow-clients") / "vouch.db"
    env = base_env(
        f"sqlite:///{database}",
        VOUCH_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        VOUCH_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
        VOUCH_MAX_HEADER_BYTES=str(MAX_HEADER_BYTES),
        VOUCH_MAX_HEADERS=str(MAX_HEADERS),
        VOUCH_ARGON2_TIME_COST="1",
        VOUCH_ARGON2_MEMORY_KIB="64",
    )
    subprocess.run([str(VOUCH), "migrate"], env=env, check=True, capture_output=True)
    server = VouchServer(env)
    try:
        server.start_and_wait()
        yield server.port
    finally:
        server.stop()


def read_until_closed(connection: socket.socket, within: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that
    took; fails if it is still open after `within` seconds."""
    started = time.monotonic()
    connection.settimeout(within)
    received = b""
    while True:
        try:
            chunk = connection.recv(65536)
        except TimeoutError:
            pytest.fail(f"the connection was still open after {within} s")
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    return received, time.monotonic() - started


def problem_of(response: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/problem+json" in head.lower()
    return status, json.loads(body)


def opened(port: int, first: bytes = b"") -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port))
    if first:
        connection.sendall(first)
    return connection


def test_a_client_stalling_in_its_headers_is_cut_off_while_others_are_served(port: int) -> None:
    stalled = opened(port, b"GET /api/v1/healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ")
    try:
        # Meanwhile the server serves everyone else.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as other:
            for _ in range(3):
                assert other.get("/api/v1/healthz").status_code == 200
        response, took = read_until_closed(stalled, HEADER_TIMEOUT + SLACK)
    finally:
        stalled.close()
    status, problem = problem_of(response)
    assert status == 408
    assert problem["type"] == "/problems/request-timeout"
    assert took <= HEADER_TIMEOUT + SLACK


def test_a_client_that_drips_its_headers_is_cut_off_all_the_same(port: int) -> None:
    # A byte every half second keeps the connection busy but never finishes the head.
    dripping = opened(port, b"GET /api/v1/healthz HTTP/1.1\r\n")
    started = time.monotonic()
    try:
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            while time.monotonic() - started < HEADER_TIMEOUT + SLACK:
                dripping.sendall(b"X")
                time.sleep(0.25)
            pytest.fail("the server kept reading a head that never ended")
    finally:
        dripping.close()
    assert time.monotonic() - started <= HEADER_TIMEOUT + SLACK


def test_a_client_stalling_in_its_body_is_cut_off(port: int) -> None:
    head = (
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: test\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    stalled = opened(port, head + b'{"username": "so')
    try:
        response, took = read_until_closed(stalled, BODY_TIMEOUT + SLACK)
    finally:
        stalled.close()
    status, problem = problem_of(response)
    assert status == 408
    assert "body" in str(problem["detail"])
    assert took <= BODY_TIMEOUT + SLACK


def test_an_idle_connection_is_closed_after_the_head_timeout(port: int) -> None:
    idle = opened(port)
    try:
        response, took = read_until_closed(idle, HEADER_TIMEOUT + SLACK)
    finally:
        idle.close()
    assert response == b""
    assert took <= HEADER_TIMEOUT + SLACK


def test_headers_over_the_size_cap_are_431(port: int) -> None:
    big = b"X-Big: " + b"b" * MAX_HEADER_BYTES + b"\r\n"
    connection = opened(port, b"GET /api/v1/healthz HTTP/1.1\r\nHost: test\r\n" + big + b"\r\n")
    try:
        response, _ = read_until_closed(connection, 5)
    finally:
        connection.close()
    status, problem = problem_of(response)
    assert status == 431
    assert problem["type"] == "/problems/headers-too-large"
    assert f"{MAX_HEADER_BYTES} bytes" in str(problem["detail"])


def test_a_head_that_keeps_growing_is_431_before_it_ends(port: int) -> None:
    connection = opened(port, b"GET /api/v1/healthz HTTP/1.1\r\nHost: test\r\nX-Long: ")
    try:
        try:
            for _ in range(4):
                connection.sendall(b"v" * MAX_HEADER_BYTES)
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused the head and closed before the client was done
        response, _ = read_until_closed(connection, 5)
    finally:
        connection.close()
    # What came back before the close, unless the close reset the connection first.
    assert response == b"" or response.startswith(b"HTTP/1.1 431 ")


def test_too_many_headers_are_431(port: int) -> None:
    many = b"".join(b"X-H%d: v\r\n" % n for n in range(MAX_HEADERS + 1))
    connection = opened(port, b"GET /api/v1/healthz HTTP/1.1\r\nHost: test\r\n" + many + b"\r\n")
    try:
        response, _ = read_until_closed(connection, 5)
    finally:
        connection.close()
    status, problem = problem_of(response)
    assert status == 431
    assert f"at most {MAX_HEADERS} headers" in str(problem["detail"])


def test_ordinary_requests_on_one_kept_alive_connection_are_served(port: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        for _ in range(5):
            response = client.post(
                "/api/v1/auth/token", json={"username": "nobody", "password": "x" * 12}
            )
            assert response.status_code == 401
            time.sleep(0.3)  # well inside the keep-alive timeout, and the head's
