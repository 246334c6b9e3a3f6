"""`vouch serve --workers 2`: both processes take connections, one that dies is started
again, and SIGTERM stops them all."""

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from tests.support.live_server import ESTABLISHED, listening_sockets, tcp_sockets
from tests.support.served import healthy, vouch_serve, wait_for, workers_of

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads connections from /proc"
)


def _established(pid: int, port: int) -> int:
    """How many established TCP connections process `pid` holds on local `port`."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return sum(inode in inodes for inode in tcp_sockets(port, ESTABLISHED))


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    with vouch_serve(settings.database_url, 2, {}) as served:
        yield served


def test_connections_opened_together_are_spread_over_both_processes(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = served
    request = b"GET /api/v1/healthz HTTP/1.1\r\nHost: test\r\n\r\n"
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
    try:
        for connection in connections:
            connection.sendall(request)
        for connection in connections:
            assert connection.recv(65536).startswith(b"HTTP/1.1 200")
        held = {pid: _established(pid, port) for pid in workers_of(process.pid)}
        assert sum(held.values()) == 32
        # Hashed by the kernel: both take a share (all 32 on one: 2 in 4 billion).
        assert all(n > 0 for n in held.values()), held
    finally:
        for connection in connections:
            connection.close()


def test_a_worker_that_dies_is_started_again_and_sigterm_stops_all(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = served
    first, second = workers_of(process.pid)
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: first not in workers_of(process.pid), "the dead worker to be reaped")
    wait_for(lambda: len(workers_of(process.pid)) == 2, "a worker to replace it")
    wait_for(lambda: listening_sockets(port) == 2, "the new worker to listen")
    assert second in workers_of(process.pid)
    wait_for(lambda: healthy(port), "the API to answer")
    workers = workers_of(process.pid)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_a_second_server_on_the_same_port_fails_instead_of_sharing_it(
    served: tuple[subprocess.Popen[bytes], int], settings: Settings
) -> None:
    _, port = served
    vouch = Path(sys.executable).parent / "vouch"
    env = {**os.environ, "VOUCH_DATABASE_URL": settings.database_url}
    second = subprocess.run(
        [str(vouch), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert second.returncode != 0
    assert b"cannot listen on" in second.stderr and b"Address already in use" in second.stderr
    assert b"Traceback" not in second.stderr
    assert listening_sockets(port) == 2
