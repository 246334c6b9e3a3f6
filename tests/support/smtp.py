"""A real SMTP server for the tests (aiosmtpd) on a free port, keeping what it receives.

It can be stopped and started again on the same port (a mail server that goes away and
comes back), refuse chosen recipients, and require a login.
"""

import email
import ssl
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.live_server import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())


@dataclass
class Mailbox:
    """The handler: what arrived, and whom to refuse."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if address in r.recipients]


class SmtpServer:
    """`tls`: STARTTLS required, with a certificate for 127.0.0.1 from a test authority
    (`ca_file`, which clients must trust)."""

    def __init__(self, login: tuple[str, str] | None = None, tls_dir: Path | None = None) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.login = login
        self._controller: Controller | None = None
        self._tls: ssl.SSLContext | None = None
        self.ca_file: Path | None = None
        if tls_dir is not None:
            authority = trustme.CA()
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            authority.issue_cert("127.0.0.1").configure_cert(self._tls)
            self.ca_file = tls_dir / "smtp-ca.pem"
            authority.cert_pem.write_to_path(str(self.ca_file))

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.login == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)

    def start(self) -> "SmtpServer":
        extra: dict[str, Any] = {}
        if self.login is not None:
            extra = {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": self._tls is not None,
            }
        if self._tls is not None:
            extra |= {"tls_context": self._tls, "require_starttls": True}
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **extra)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
