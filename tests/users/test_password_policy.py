"""The password policy, on every path that sets a local password: the admin API, the
command line (the admin pages are in tests/web/test_admin_pages.py), and the demo."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from app.audit.models import AuditEvent
from app.auth.password_policy import common_passwords
from app.cli import app as cli
from app.db import Database
from tests.factories import People, send_rejected

runner = CliRunner()
REFUSED = [
    ("twelve-less", "at least 12 characters"),  # 11 characters
    ("newcomer-at-home", "must not contain the username"),
    ("My name is NEWCOMER", "must not contain the username"),
    ("peanutbutter", "commonly used passwords"),
    ("PeanutButter", "commonly used passwords"),  # the list is compared in lower case
    ("x" * 257, "at most 256 characters"),
]


def new_user(password: str) -> dict[str, Any]:
    return {"username": "newcomer", "display_name": "N", "password": password, "roles": ["rep"]}


@pytest.mark.parametrize(("password", "rule"), REFUSED)
def test_the_api_refuses_a_password_naming_the_rule_and_writes_nothing(
    client: TestClient, db: Database, people: People, password: str, rule: str
) -> None:
    admin = people.make("admin")
    response = send_rejected(
        client,
        db,
        admin,
        "POST",
        "/users",
        json=new_user(password),
        tables=("users", "audit_events"),
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "body.password"
    assert rule in error["message"]
    assert password not in response.text


def test_a_password_of_twelve_characters_is_accepted_and_never_audited(
    client: TestClient, db: Database, people: People
) -> None:
    admin = people.make("admin")
    password = "twelve-chars"
    created = client.post("/users", json=new_user(password), headers=admin.headers)
    assert created.status_code == 201, created.text
    assert people.login("newcomer", password)
    with db.engine.connect() as conn:
        dumped = " ".join(str(row) for row in conn.execute(text("SELECT * FROM audit_events")))
    assert "newcomer" in dumped
    assert password not in dumped


@pytest.mark.parametrize(("password", "rule"), REFUSED[:4])
def test_users_create_refuses_a_password_naming_the_rule(
    cli_env: None, db: Database, password: str, rule: str
) -> None:
    result = runner.invoke(
        cli,
        ["users", "create", "--username", "newcomer", "--role", "rep"],
        env={"VOUCH_PASSWORD": password},
    )
    assert result.exit_code == 2
    assert rule in result.output
    assert password not in result.output
    with db.session(write=False) as session:
        assert session.execute(select(AuditEvent.seq)).first() is None


def test_the_shipped_list_holds_the_common_passwords() -> None:
    common = common_passwords()
    assert len(common) > 19_000
    assert {"password", "123456", "qwerty", "peanutbutter"} <= common
