"""The compliance pages: export download, chain verification, a record's full history."""

import csv
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import Database
from app.web.audit import word_diff
from tests.audit import tampering
from tests.factories import People, Person, answer, ask, count_rows
from tests.web.helpers import sign_in

AUDIT = ("audit_events",)


@pytest.fixture
def officer(people: People) -> Person:
    return people.make("compliance")


def last_event(db: Database) -> AuditEvent:
    with db.session(write=False) as session:
        latest = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
        return session.execute(latest).scalar_one()


def field_error(html: str, name: str) -> str:
    """The message shown beside field `name`."""
    found = re.search(rf'<p class="field__error" id="{name}-error">([^<]*)</p>', html)
    assert found, f"no error beside {name}"
    return found.group(1)


@pytest.mark.parametrize("role", ["rep", "expert", "admin"])
def test_only_compliance_sees_the_audit_pages(pages: TestClient, people: People, role: str) -> None:
    sign_in(pages, people.make(role, topics=("claims",) if role == "expert" else ()).username)
    for path in ("/audit", "/audit/verify", "/audit/export", "/audit/records/question/1"):
        response = pages.get(path)
        assert response.status_code == 403, path
        assert "Forbidden" in response.text
        assert "Chain intact" not in response.text


def test_the_audit_page_offers_export_verification_and_record_history(
    pages: TestClient, officer: Person
) -> None:
    sign_in(pages, officer.username)
    page = pages.get("/audit").text
    for heading in ("Export events", "Verify the chain", "A record's full history"):
        assert heading in page
    assert '<option value="answer.delete">answer.delete</option>' in page
    assert 'type="datetime-local"' in page and "in UTC" in page


def test_a_filtered_export_downloads_only_matching_events_and_is_audited(
    client: TestClient, pages: TestClient, people: People, officer: Person, db: Database
) -> None:
    rep, other = people.make("rep"), people.make("rep")
    topic = people.topic("claims")
    ask(client, rep, topic)
    ask(client, other, topic)
    sign_in(pages, officer.username)
    response = pages.get("/audit/export", params={"actor": rep.username, "format": "ndjson"})
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    events = [json.loads(line) for line in response.text.splitlines()]
    assert events and {e["actor_username"] for e in events} == {rep.username}
    assert "question.create" in {e["action"] for e in events}
    recorded = last_event(db)
    assert (recorded.action, recorded.actor_username) == ("audit.export", officer.username)
    assert recorded.payload == {"filter": {"actor": rep.username}, "format": "ndjson"}
    assert response.headers["x-audit-export-seq"] == str(recorded.seq)


def test_an_export_as_csv_starts_with_its_header_row(
    pages: TestClient, officer: Person, db: Database
) -> None:
    sign_in(pages, officer.username)
    response = pages.get(
        "/audit/export",
        params={"since": "2000-01-01T00:00", "until": "", "action": "auth.login", "format": "csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows and {r["action"] for r in rows} == {"auth.login"}
    assert last_event(db).payload["filter"] == {
        "since": "2000-01-01T00:00:00.000000Z",
        "action": "auth.login",
    }


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"since": "2026-03-02T10:00", "until": "2026-03-01T10:00"}, "until", "before"),
        ({"action": "question.destroy"}, "action", "unknown action"),
        ({"target_id": "9" * 65}, "target_id", "at most 64"),
        ({"since": "yesterday"}, "since", "datetime"),
        ({"format": "xlsx"}, "format", "ndjson"),
    ],
)
def test_a_refused_export_shows_the_error_beside_its_field_and_writes_nothing(
    pages: TestClient,
    officer: Person,
    db: Database,
    params: dict[str, str],
    field: str,
    message: str,
) -> None:
    sign_in(pages, officer.username)
    before = count_rows(db, AUDIT)
    response = pages.get("/audit/export", params={"actor": "alice", **params})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert message in field_error(response.text, field)
    assert 'value="alice"' in response.text  # what was typed is kept
    assert count_rows(db, AUDIT) == before


def test_an_unknown_export_parameter_is_refused_not_ignored(
    pages: TestClient, officer: Person, db: Database
) -> None:
    sign_in(pages, officer.username)
    before = count_rows(db, AUDIT)
    response = pages.get("/audit/export", params={"actr": "alice"})
    assert response.status_code == 422
    assert "Unknown filter &#39;actr&#39;: nothing was exported." in response.text
    assert count_rows(db, AUDIT) == before


def test_verification_shows_the_head_of_an_intact_chain(
    pages: TestClient, officer: Person, db: Database
) -> None:
    sign_in(pages, officer.username)
    response = pages.get("/audit/verify")
    assert response.status_code == 200
    head = last_event(db)
    assert "Chain intact." in response.text
    assert f"<dt>Head seq</dt><dd>{head.seq}</dd>" in response.text
    assert head.hash in response.text


def test_verification_names_the_first_bad_seq_after_tampering(
    pages: TestClient, officer: Person, db: Database
) -> None:
    sign_in(pages, officer.username)
    tampering.edit_payload(db, 1)
    response = pages.get("/audit/verify")
    assert response.status_code == 200
    assert "Chain broken at seq 1." in response.text
    assert "Chain intact" not in response.text


def test_verification_against_a_different_checkpoint_fails(
    pages: TestClient, officer: Person, db: Database
) -> None:
    sign_in(pages, officer.username)
    response = pages.get(
        "/audit/verify", params={"checkpoint_seq": "1", "checkpoint_hash": "b" * 64}
    )
    assert "Chain broken at seq 1." in response.text
    assert "differs from the checkpoint" in response.text


def test_a_malformed_checkpoint_is_refused_beside_its_field(
    pages: TestClient, officer: Person
) -> None:
    sign_in(pages, officer.username)
    response = pages.get("/audit/verify", params={"checkpoint_seq": "1", "checkpoint_hash": "xyz"})
    assert response.status_code == 422
    assert "64 characters" in field_error(response.text, "checkpoint_hash")
    assert 'value="xyz"' in response.text


def test_verification_by_htmx_returns_only_its_part_of_the_page(
    pages: TestClient, officer: Person
) -> None:
    sign_in(pages, officer.username)
    response = pages.get("/audit/verify", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<section class="card" id="verification"')
    assert "Chain intact." in response.text
    assert "Export events" not in response.text


def test_a_malformed_checkpoint_sent_by_htmx_gets_its_part_with_the_error(
    pages: TestClient, officer: Person
) -> None:
    sign_in(pages, officer.username)
    params = {"checkpoint_seq": "x", "checkpoint_hash": ""}
    response = pages.get("/audit/verify", params=params, headers={"HX-Request": "true"})
    assert response.status_code == 200  # htmx swaps in only a 2xx answer
    assert response.text.lstrip().startswith('<section class="card" id="verification"')
    assert "whole number" in field_error(response.text, "checkpoint_seq")
    assert "Chain intact" not in response.text


def test_the_record_form_opens_the_record_page(pages: TestClient, officer: Person) -> None:
    sign_in(pages, officer.username)
    response = pages.get(
        "/audit/records",
        params={"record_type": "answer", "record_id": "12"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/audit/records/answer/12"


@pytest.mark.parametrize("record_id", ["abc", "0", "99999999999", ""])
def test_a_record_form_with_a_garbage_id_is_refused_beside_the_field(
    pages: TestClient, officer: Person, record_id: str
) -> None:
    sign_in(pages, officer.username)
    response = pages.get("/audit/records", params={"record_type": "answer", "record_id": record_id})
    assert response.status_code == 422
    assert "Enter the number" in field_error(response.text, "record_id")


def test_a_record_history_shows_every_version_the_difference_and_the_deletion(
    client: TestClient, pages: TestClient, people: People, officer: Person
) -> None:
    rep = people.make("rep")
    question = ask(client, rep, people.topic("claims"))
    posted = answer(client, rep, question["id"], "Cancel within 14 days for a refund.")
    edited = {"body": "Cancel within 30 days for a full refund."}
    patch = client.patch(f"/answers/{posted['id']}", json=edited, headers=rep.headers)
    assert patch.status_code == 200, patch.text
    assert client.delete(f"/answers/{posted['id']}", headers=rep.headers).status_code == 204
    sign_in(pages, officer.username)
    page = pages.get(f"/audit/records/answer/{posted['id']}").text
    assert "<h1>Answer {}: full history</h1>".format(posted["id"]) in page
    assert "Version 1: the original" in page and "Version 2" in page
    assert "Cancel within 14 days for a refund." in page  # the original, in full
    assert "<del>14</del><ins>30</ins>" in page
    assert "<ins>full </ins>" in page
    assert "<strong>Deleted.</strong>" in page
    assert "answer.delete" in page
    assert "Open in its thread" not in page  # a deleted answer has no thread to open


def test_a_record_history_escapes_what_people_wrote(
    client: TestClient, pages: TestClient, people: People, officer: Person
) -> None:
    rep = people.make("rep")
    question = ask(client, rep, people.topic("claims"), title="<b>Bold</b> question title here")
    client.patch(
        f"/questions/{question['id']}",
        json={"body": "<script>alert(1)</script> now"},
        headers=rep.headers,
    )
    sign_in(pages, officer.username)
    page = pages.get(f"/audit/records/question/{question['id']}").text
    assert "<script>alert(1)" not in page and "<b>Bold" not in page
    assert "<ins>&lt;script&gt;alert(1)&lt;/script&gt; now</ins>" in page
    assert "Open in its thread" in page


def test_word_diff_marks_whole_words_and_escapes() -> None:
    assert str(word_diff("a b c", "a x c")) == "a <del>b</del><ins>x</ins> c"
    assert str(word_diff("", "<i>")) == "<ins>&lt;i&gt;</ins>"
    assert str(word_diff("same", "same")) == "same"


@pytest.mark.parametrize(
    "path", ["/audit/records/answer/999", "/audit/records/comment/1", "/audit/records/answer/x"]
)
def test_an_unknown_record_is_a_404_page(pages: TestClient, officer: Person, path: str) -> None:
    sign_in(pages, officer.username)
    response = pages.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
