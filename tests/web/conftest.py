"""Web page tests: the app's pages through a test client on the test's database."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def pages(client: TestClient) -> Iterator[TestClient]:
    """A browser-like client of the web pages (cookies kept), on the same app as `client`.

    Not entered as a context manager: `client` already runs the app's lifespan."""
    browser = TestClient(client.app, base_url="http://testserver")
    yield browser
    browser.close()
