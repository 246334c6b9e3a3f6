"""A real OpenID Connect provider for the sign-in tests: the npm package `oidc-provider`
(tests/support/oidc/) on Node.js, behind a reverse proxy (`tests/support/oidc_proxy.py`)
whose URL is the issuer.

The npm packages are installed with `npm ci` from the pinned lock file into the per-user
cache, keyed by the lock file's hash, so once per machine and lock file. Run
`python -m tests.support.oidc_provider --install` to do that ahead of the tests (CI does).
Node.js 18 or later must be on PATH.
"""

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from joserfc.jwk import RSAKey

from tests.support.live_server import free_port
from tests.support.oidc_proxy import OidcProxy

SOURCE = Path(__file__).parent / "oidc"
NODE_MAJOR = 18
START_TIMEOUT = 20.0


class OidcProviderError(RuntimeError):
    """The provider could not be installed or started, or a sign-in did not go through."""


def node_binary() -> str:
    """The `node` on PATH, checked to be recent enough; a clear error otherwise."""
    node = shutil.which("node")
    if node is None:
        raise OidcProviderError(
            "the OpenID provider tests need Node.js 18 or later (`node` on PATH): "
            "scripts/system-deps installs it"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    major = int(version.stdout.strip().lstrip("v").split(".")[0])
    if major < NODE_MAJOR:
        raise OidcProviderError(f"Node.js {version.stdout.strip()} is too old: 18 or later")
    return node


def cache_path() -> Path:
    lock = (SOURCE / "package-lock.json").read_bytes()
    key = hashlib.sha256(lock).hexdigest()[:16]
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "vouch" / f"oidc-provider-{key}"


def ensure_installed() -> Path:
    """The `node_modules` folder holding oidc-provider, installed first if needed."""
    target = cache_path()
    modules = target / "node_modules"
    if modules.is_dir():
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise OidcProviderError("npm is needed once to install oidc-provider for the tests")
    target.parent.mkdir(parents=True, exist_ok=True)
    # One installer at a time; the finished folder appears by rename, so it is never half made.
    with open(target.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if modules.is_dir():
            return modules
        staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
        try:
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(SOURCE / name, staging / name)
            subprocess.run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--silent"],
                cwd=staging,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            staging.replace(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return modules


def new_signing_key() -> dict[str, Any]:
    parameters = {"kid": secrets.token_hex(8), "alg": "RS256", "use": "sig"}
    key = RSAKey.generate_key(2048, parameters=parameters, private=True)  # type: ignore[arg-type]
    return key.as_dict(private=True)


class _Form(HTMLParser):
    """The forms of a page: action and the named inputs with their values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), {}))
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1][1][values["name"]] = values.get("value", "")


def _form_with(page: str, field: str) -> tuple[str, dict[str, str]] | None:
    parser = _Form()
    parser.feed(page)
    for action, fields in parser.forms:
        if field in fields:
            return action, fields
    return None


class OidcProvider:
    """oidc-provider on a free port behind a proxy on another; `issuer` is the proxy's URL.

    One client is registered (`client_secret_basic`, code flow, PKCE S256 required). Scopes
    `openid profile email groups`; their claims (name, preferred_username, email,
    email_verified, groups) are put in the ID token. Usable as a context manager.
    """

    def __init__(
        self,
        folder: Path,
        *,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str],
        post_logout_redirect_uris: Sequence[str] = (),
    ) -> None:
        self.folder = folder
        self.client = {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": list(redirect_uris),
            "post_logout_redirect_uris": list(post_logout_redirect_uris),
        }
        self.signing_key = new_signing_key()
        self._node_port = free_port()
        self._proxy = OidcProxy(f"http://127.0.0.1:{self._node_port}")
        self.issuer = self._proxy.url
        self._accounts_file = folder / "accounts.json"
        self._process: subprocess.Popen[bytes] | None = None

    # -- life cycle

    def start(self) -> "OidcProvider":
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self._accounts_file.exists():
            self._write_accounts({})
        self._start_node()
        self._proxy.start()
        return self

    def stop(self) -> None:
        self._proxy.close()
        self._stop_node()

    def __enter__(self) -> "OidcProvider":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _start_node(self) -> None:
        node = node_binary()
        modules = self.folder / "node_modules"
        # Node resolves packages from the script's folder upwards, so the script sits beside
        # a link to the cached packages.
        if modules.is_symlink():
            modules.unlink()
        modules.symlink_to(ensure_installed(), target_is_directory=True)
        shutil.copyfile(SOURCE / "provider.mjs", self.folder / "provider.mjs")
        config = {
            "port": self._node_port,
            "issuer": self.issuer,
            "clients": [self.client],
            "jwks": {"keys": [self.signing_key]},
            "accounts_file": str(self._accounts_file),
        }
        config_file = self.folder / "provider.json"
        config_file.write_text(json.dumps(config))
        out = self.folder / "provider.out"
        with open(out, "wb") as stdout, open(self.folder / "provider.err", "ab") as stderr:
            self._process = subprocess.Popen(
                [node, "provider.mjs", str(config_file)],
                cwd=self.folder,
                stdout=stdout,
                stderr=stderr,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while b"ready" not in out.read_bytes():
            if self._process.poll() is not None or time.monotonic() > deadline:
                errors = (self.folder / "provider.err").read_text(errors="replace")
                self._stop_node()
                raise OidcProviderError(f"oidc-provider did not start:\n{errors[-3000:]}")
            time.sleep(0.05)

    def _stop_node(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    # -- what the tests change

    def set_account(
        self, login: str, *, name: str, email: str, groups: list[str] | None, sub: str = ""
    ) -> None:
        """Add or change the user `login` (any password signs in); read at the next sign-in.
        `groups=None` leaves the groups claim out; `sub` defaults to one fixed per login."""
        accounts = json.loads(self._accounts_file.read_text())
        sub = sub or accounts.get(login, {}).get("sub") or f"sub-{login}"
        accounts[login] = {"sub": sub, "name": name, "email": email, "groups": groups}
        self._write_accounts(accounts)

    def _write_accounts(self, accounts: dict[str, Any]) -> None:
        # Written aside and renamed, so the provider never reads half a file.
        partial = self._accounts_file.with_suffix(".part")
        partial.write_text(json.dumps(accounts))
        partial.replace(self._accounts_file)

    def rotate_keys(self) -> None:
        """Sign with a new key from now on; the old one leaves the JWKS. The provider restarts
        on the same port, so its sessions end (the next sign-in shows the login form)."""
        self.signing_key = new_signing_key()
        self._stop_node()
        self._start_node()

    def rewrite_id_tokens(self, fn: Callable[[str], str] | None) -> None:
        """Replace the `id_token` of each token response by `fn(id_token)`; None stops."""
        self._proxy.rewrite = fn

    def set_delay(self, seconds: float) -> None:
        """Hold every response back by `seconds`."""
        self._proxy.delay = seconds

    def go_down(self) -> None:
        """Refuse connections to the issuer until `come_back`."""
        self._proxy.stop()

    def come_back(self) -> None:
        self._proxy.start()

    @property
    def jwks(self) -> dict[str, Any]:
        """The public keys the provider publishes."""
        public = {k: v for k, v in self.signing_key.items() if k in ("kty", "kid", "n", "e")}
        return {"keys": [{**public, "alg": "RS256", "use": "sig"}]}

    # -- driving the provider's pages

    def sign_in(self, client: httpx.Client, authorize_url: str, login: str) -> str:
        """Follow `authorize_url` through the provider's own login and consent pages as a
        browser would (any password), and return the URL it finally redirects to (the
        relying party's redirect_uri with code and state, or with an error), unfollowed.
        A client that still holds a provider session for a login is not asked again."""
        origin = urlsplit(self.issuer)[:2]
        response = client.get(authorize_url, follow_redirects=False)
        for _ in range(12):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if urlsplit(location)[:2] != origin:
                    return location
                response = client.get(location, follow_redirects=False)
                continue
            form = _form_with(response.text, "prompt") if response.status_code == 200 else None
            if form is None:
                raise OidcProviderError(
                    f"sign-in stopped at {response.url} with {response.status_code}: "
                    f"{response.text[:500]}"
                )
            action, fields = form
            if fields["prompt"] == "login":
                fields.update(login=login, password="any password")
            response = client.post(
                urljoin(str(response.url), action), data=fields, follow_redirects=False
            )
        raise OidcProviderError("sign-in went round in circles")

    def sign_out(self, client: httpx.Client, end_session_url: str) -> str:
        """Open the end_session URL (RP-initiated logout), confirm on the provider's page, and
        return the URL it redirects to (the post_logout_redirect_uri with state), unfollowed."""
        response = client.get(end_session_url, follow_redirects=False)
        form = _form_with(response.text, "xsrf") if response.status_code == 200 else None
        if form is None:
            raise OidcProviderError(
                f"sign-out stopped at {response.url} with {response.status_code}: "
                f"{response.text[:500]}"
            )
        action, fields = form
        response = client.post(
            urljoin(str(response.url), action),
            data={**fields, "logout": "yes"},
            follow_redirects=False,
        )
        while response.is_redirect:
            location = urljoin(str(response.url), response.headers["location"])
            if urlsplit(location)[:2] != urlsplit(self.issuer)[:2]:
                return location
            response = client.get(location, follow_redirects=False)
        raise OidcProviderError(f"sign-out ended at {response.url} with {response.status_code}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--install"]:
        sys.exit("usage: python -m tests.support.oidc_provider --install")
    node_binary()
    print(ensure_installed())
