"""Property-based: whatever the query string, search answers 200 or a 4xx problem, never 5xx."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import Settings
from app.db import Database
from tests.factories import People, Person, ask
from tests.search.helpers import drain

pytestmark = pytest.mark.search

# Text that leans towards what breaks filters and parsers: quotes, operators, escapes.
nasty = st.text(
    alphabet=st.sampled_from(list("\"\\'=<>!()[]-_ ORANDTOEXISTS:,*%\x00\u00e9\ue000\ue001az09")),
    max_size=60,
) | st.text(max_size=40)
numbers = st.one_of(st.integers(min_value=-(10**12), max_value=10**12), nasty)
params = st.fixed_dictionaries(
    {},
    optional={
        "q": nasty | st.text(min_size=400, max_size=700),
        "topic": nasty | st.sampled_from(["claims", "billing", "no-such-topic"]),
        "tags": st.lists(nasty, max_size=7),
        "status": nasty | st.sampled_from(["open", "resolved", "closed"]),
        "validated": nasty | st.sampled_from(["true", "false"]),
        "learning_need": nasty | st.sampled_from(["true", "false"]),
        "sort": nasty | st.sampled_from(["relevance", "newest", "score"]),
        "limit": numbers,
        "offset": numbers,
    },
)


@pytest.fixture
def searcher(client: TestClient, people: People, db: Database, settings: Settings) -> Person:
    people.topic("claims")
    rep = people.make("rep")
    for n in range(3):
        ask(client, rep, "claims", title=f"Searchable thread about claims {n}", tags=["home"])
    drain(db, settings)
    return rep


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=params)
def test_search_never_answers_5xx(
    client: TestClient, searcher: Person, query: dict[str, Any]
) -> None:
    response = client.get("/search", params=query, headers=searcher.headers)

    assert response.status_code == 200 or 400 <= response.status_code < 500, response.text
    if response.status_code != 200:
        assert response.headers["content-type"] == "application/problem+json"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=nasty | st.text(max_size=300))
def test_similar_never_answers_5xx(client: TestClient, searcher: Person, title: str) -> None:
    response = client.get("/questions/similar", params={"title": title}, headers=searcher.headers)

    assert response.status_code == 200 or 400 <= response.status_code < 500, response.text
