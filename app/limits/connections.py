"""What `vouch serve` does about slow and oversized requests, per connection.

uvicorn (with httptools, its parser when installed) has a keep-alive timeout, but no
limit on how long a client may take to send a request's head or body, and none on the
head's size: a client that opens a connection and sends half a request holds it for
ever. This protocol adds, per request:

- a head timeout: the request line and headers must arrive within
  `header_timeout_seconds` of the connection opening (or of the first byte after the
  previous response), else 408 and the connection closes;
- a body timeout: the body must arrive within `body_timeout_seconds` of the head, else
  408 (when no response has started) and the connection closes, so the application's
  read of the body ends with a disconnect and its transaction rolls back;
- head caps: at most `max_header_bytes` of request line and headers (counted as they
  are parsed, and for a head still incomplete as its bytes arrive, so the buffer can
  outgrow the cap by one read of the socket before the refusal) and at most
  `max_headers` headers, else 431 and the connection closes.

Refusals are problem documents written straight to the socket: the application never
sees the request.
"""

import asyncio
import http
import json

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.config import get_settings
from app.errors import AppError, HeadersTooLarge, RequestTimeout, problem_body


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a request that is refused."""


def raw_problem(error: AppError) -> bytes:
    """A whole HTTP/1.1 response carrying `error` as a problem document, closing."""
    body = json.dumps(problem_body(error.status, error.problem, error.title, error.detail))
    return (
        f"HTTP/1.1 {error.status} {http.HTTPStatus(error.status).phrase}\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
        f"{body}"
    ).encode()


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head and body timeouts and head caps."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, object],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.header_timeout = settings.header_timeout_seconds
        self.body_timeout = settings.body_timeout_seconds
        self.max_header_bytes = settings.max_header_bytes
        self.max_headers = settings.max_headers
        self._timer: asyncio.TimerHandle | None = None
        self._awaiting_head = True
        self._head_bytes = 0
        self._header_count = 0
        self._parsed_bytes = 0
        self._refusal: AppError | None = None

    # ---- the deadline of the part of the request being read ----

    def _arm(self, seconds: float, expired: str) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._expired, expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self, part: str) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        started = part == "body" and self.cycle is not None and self.cycle.response_started
        if part == "head" and self._head_bytes == 0:
            self.transport.close()  # an idle connection: nothing to answer
            return
        seconds = self.header_timeout if part == "head" else self.body_timeout
        if not started:
            error = RequestTimeout(f"The request's {part} did not arrive within {seconds:g} s.")
            self.transport.write(raw_problem(error))
        self.transport.close()

    def _refuse(self, error: AppError) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(raw_problem(error))
            self.transport.close()

    # ---- uvicorn's protocol, with the guards added ----

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout, "head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_head and self._timer is None:
            # The first bytes of a request after a response: its head's deadline starts.
            self._arm(self.header_timeout, "head")
        super().data_received(data)
        if self._awaiting_head and not self.transport.is_closing():
            # This read ended inside a head: count it (a read that completed the head is
            # not counted, so a body sent along with it never is).
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._refuse(self._too_large())

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._awaiting_head = True
        self._header_count = 0
        self._parsed_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._parsed_bytes += len(url)
        self._check_head()
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._parsed_bytes += len(name) + len(value) + 4  # ": " and CRLF
        if self._header_count > self.max_headers:
            self._refusal = HeadersTooLarge(
                f"Requests may carry at most {self.max_headers} headers."
            )
            raise _Refused
        self._check_head()
        super().on_header(name, value)

    def _check_head(self) -> None:
        # A head that arrived whole in one read: its parsed parts are counted here.
        if self._parsed_bytes > self.max_header_bytes:
            self._refusal = self._too_large()
            raise _Refused

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._head_bytes = 0
        self._arm(self.body_timeout, "body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self._awaiting_head = True
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers any parser error with 400; a refusal of ours says what it was.
        refusal, self._refusal = self._refusal, None
        if refusal is None:
            super().send_400_response(msg)
        else:
            self._refuse(refusal)

    def _too_large(self) -> AppError:
        return HeadersTooLarge(
            f"The request line and headers are limited to {self.max_header_bytes} bytes."
        )
