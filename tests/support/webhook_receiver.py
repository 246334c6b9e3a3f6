"""A local HTTP server that receives webhook calls, for the tests: it keeps each call's
headers and body, and answers as told (a status per path, or hanging for a while)."""

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.live_server import free_port


@dataclass(frozen=True)
class Call:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.status: dict[str, int] = {}  # path → status to answer (200 otherwise)
        self.hang: dict[str, float] = {}  # path → seconds to wait before answering
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                time.sleep(receiver.hang.get(self.path, 0))
                with receiver._lock:
                    receiver.calls.append(Call(self.path, dict(self.headers.items()), body))
                self.send_response(receiver.status.get(self.path, 200))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def to(self, path: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.path == path]

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
