"""Browser tests: `vouch serve` as its own process, a real Meilisearch, Debian's Chromium.

One server and one browser serve the whole session (starting them is the slow part);
each test gets a fresh browser context (no cookies) and its own people and topics, so
tests do not see each other's sign-ins. Screenshots go to `$VOUCH_SCREENSHOTS` when it is
set, else to the session's temporary folder. The README's pictures:
`VOUCH_SCREENSHOTS=docs/screenshots scripts/test tests/web/browser/test_demo_pages.py`.
"""

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.auth import passwords
from app.config import Settings
from app.db import Database
from search.client import make_client
from search.index_settings import ensure_index
from search.local_server import LocalMeilisearch, free_port
from tests.factories import People, Person
from tests.support.axe import ensure_axe

CHROMIUM = Path(os.environ.get("VOUCH_CHROMIUM", "/usr/bin/chromium"))
# Chromium as root in a container, with nothing reaching out to the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET = "browser-test-secret"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/web/browser" in str(item.path):
            item.add_marker(pytest.mark.browser)


@dataclass
class Site:
    """The running Vouch: its address, and direct access to its database for set-up."""

    url: str
    db: Database
    api: httpx.Client
    people: People
    shots: Path
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def unique(self, stem: str) -> str:
        return f"{stem}{next(self._numbers)}"

    def person(self, *roles: str, topics: tuple[str, ...] = ()) -> Person:
        return self.people.make(*roles, topics=topics, username=self.unique(roles[0]))

    def topic(self, **fields: Any) -> str:
        return self.people.topic(self.unique("topic-"), **fields)

    def screenshot(self, page: Any, name: str) -> Path:
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vouch serve exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/api/v1/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"vouch serve did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def site(
    databases: Any, meili_server: LocalMeilisearch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    url = databases.migrated_url()
    index = "threads_browser"
    settings = Settings(
        database_url=url,
        meili_url=meili_server.url,
        meili_key=meili_server.master_key,
        meili_index=index,
        _env_file=None,  # type: ignore[call-arg]
    )
    ensure_index(make_client(settings), index)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")},
        "VOUCH_ENVIRONMENT": "test",
        "VOUCH_DATABASE_URL": url,
        "VOUCH_MEILI_URL": meili_server.url,
        "VOUCH_MEILI_KEY": meili_server.master_key,
        "VOUCH_MEILI_INDEX": index,
        "VOUCH_SECRET_KEY": SECRET,
        "VOUCH_LOGIN_ATTEMPTS_PER_MINUTE": "10000",
        "VOUCH_ARGON2_TIME_COST": "1",
        "VOUCH_ARGON2_MEMORY_KIB": "64",
        "VOUCH_LOG_LEVEL": "WARNING",
        # The webhook a test adds points at this machine.
        "VOUCH_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    log = tmp_path_factory.mktemp("vouch-serve") / "serve.log"
    vouch = Path(sys.executable).parent / "vouch"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(vouch), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    passwords.configure(1, 64)
    db = Database(url)
    api = httpx.Client(base_url=f"{base}/api/v1", timeout=10)
    try:
        _wait_until_up(base, process, log)
        shots = Path(os.environ.get("VOUCH_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
        shots.mkdir(parents=True, exist_ok=True)
        yield Site(base, db, api, People(api, db), shots)  # type: ignore[arg-type]
    finally:
        api.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        db.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    """A fresh tab with no cookies; fails the test on any script error in the page."""
    context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert errors == [], f"script errors in the page: {errors}"


@pytest.fixture
def no_script_page(browser: Any, site: Site) -> Iterator[Any]:
    """A tab with JavaScript turned off: every page's main form must still work."""
    context = browser.new_context(base_url=site.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    return ensure_axe().read_text()


def sign_in(page: Any, person: Person, password: str = "correct horse battery") -> None:
    """Sign in through the login form, as a person would."""
    page.goto("/login")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def assert_accessible(page: Any, axe_source: str) -> None:
    """No serious or critical axe-core violation on the page as it stands."""
    # Evaluated through the DevTools protocol: the page's CSP, which refuses any script
    # added to the page, does not apply to it.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    result = page.evaluate("async () => await axe.run(document)")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: " + "; ".join(bad)
