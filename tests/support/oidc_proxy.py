"""The reverse proxy in front of the test OpenID provider (`tests/support/oidc_provider.py`).

It is the issuer the relying party sees. It forwards requests and responses unchanged
(status, headers including Host, cookies and Location, body), except that it can replace the
`id_token` of token responses, delay every response, and stop listening altogether.
"""

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx

from tests.support.live_server import free_port

# Headers about one connection, not the message: each hop sets its own.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class OidcProxy:
    """Forwards http://127.0.0.1:`port` to `upstream` (an origin such as http://127.0.0.1:8000)."""

    def __init__(self, upstream: str, token_path: str = "/token") -> None:
        self.upstream = upstream
        self.token_path = token_path
        self.port = free_port()
        self.rewrite: Callable[[str], str] | None = None
        self.delay = 0.0
        self._http = httpx.Client(base_url=upstream, timeout=30, follow_redirects=False)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen (again) on the same port."""
        if self._server is not None:
            return
        self._server = _Server(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket: connections are refused until `start`."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def close(self) -> None:
        self.stop()
        self._http.close()

    def _forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[httpx.Response, bytes]:
        request = self._http.build_request(
            method,
            path,
            headers=[(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP],
            content=body,
        )
        response = self._http.send(request, stream=True)
        try:
            content = b"".join(response.iter_raw())
        finally:
            response.close()
        return response, content

    def _rewritten(self, path: str, response: httpx.Response, content: bytes) -> bytes:
        rewrite = self.rewrite
        if (
            rewrite is None
            or urlsplit(path).path != self.token_path
            or not response.headers.get("content-type", "").startswith("application/json")
            or response.headers.get("content-encoding")
        ):
            return content
        document = json.loads(content)
        if "id_token" not in document:
            return content
        document["id_token"] = rewrite(document["id_token"])
        return json.dumps(document).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        # HTTP/1.0 (the default): one request per connection, so no kept-alive connection
        # outlives `stop`.
        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    response, content = proxy._forward(
                        self.command, self.path, list(self.headers.items()), body
                    )
                except httpx.TransportError:
                    self.send_error(502, "the OpenID provider is not answering")
                    return
                content = proxy._rewritten(self.path, response, content)
                time.sleep(proxy.delay)
                self.send_response_only(response.status_code, response.reason_phrase)
                for name, value in response.headers.multi_items():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                if self.command == "HEAD":
                    length_header = response.headers.get("content-length", "0")
                else:
                    length_header = str(len(content))
                self.send_header("Content-Length", length_header)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _relay

            def log_message(self, *args: object) -> None:
                pass

        return Handler
