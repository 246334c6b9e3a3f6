"""The `vouch` command line against the test database."""

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import Settings
from app.db import Database
from tests.audit.tampering import tampering

runner = CliRunner()


def _login(client: TestClient, username: str, password: str) -> int:
    return client.post("/auth/token", json={"username": username, "password": password}).status_code


def test_users_create_bootstraps_an_admin_who_can_log_in(cli_env: None, client: TestClient) -> None:
    result = runner.invoke(
        cli,
        ["users", "create", "--username", "root-admin", "--role", "admin"],
        env={"VOUCH_PASSWORD": "a-strong-password"},
    )
    assert result.exit_code == 0, result.output
    assert _login(client, "root-admin", "a-strong-password") == 200


def test_users_create_keeps_an_email_address_and_refuses_a_bad_one(
    cli_env: None, client: TestClient
) -> None:
    created = runner.invoke(
        cli,
        ["users", "create", "--username", "mailed", "--role", "admin", "--email", "m@example.com"],
        env={"VOUCH_PASSWORD": "a-strong-password"},
    )
    assert created.exit_code == 0, created.output
    token = client.post(
        "/auth/token", json={"username": "mailed", "password": "a-strong-password"}
    ).json()["access_token"]
    me = client.get("/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["email"] == "m@example.com"
    refused = runner.invoke(
        cli,
        ["users", "create", "--username", "badmail", "--role", "rep", "--email", "nope"],
        env={"VOUCH_PASSWORD": "a-strong-password"},
    )
    assert refused.exit_code == 2
    assert _login(client, "badmail", "a-strong-password") == 401


def test_users_create_refuses_a_short_password(cli_env: None) -> None:
    result = runner.invoke(
        cli,
        ["users", "create", "--username", "shorty", "--role", "rep"],
        env={"VOUCH_PASSWORD": "short"},
    )
    assert result.exit_code == 2


def test_demo_creates_users_that_log_in_and_is_idempotent(
    cli_env: None, client: TestClient
) -> None:
    first = runner.invoke(cli, ["demo"])
    assert first.exit_code == 0, first.output
    assert "alice" in first.output and "vouch-demo-pass" in first.output
    assert _login(client, "alice", "vouch-demo-pass") == 200
    assert _login(client, "erin", "vouch-demo-pass") == 200
    second = runner.invoke(cli, ["demo"])
    assert second.exit_code == 0
    assert "already present" in second.output


def test_audit_verify_exits_non_zero_naming_the_first_bad_seq(cli_env: None, db: Database) -> None:
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    intact = runner.invoke(cli, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    with tampering(db) as conn:  # on PostgreSQL the write-once trigger is off for this edit
        conn.execute(text("UPDATE audit_events SET actor_username = 'mallory' WHERE seq = 5"))
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1
    assert '"first_bad_seq": 5' in broken.output


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="VOUCH_SECRET_KEY"):
        Settings(environment="production", _env_file=None)  # type: ignore[call-arg]
    assert Settings(environment="production", secret_key="s3cret", _env_file=None)  # type: ignore[call-arg]


def test_demo_tells_the_whole_story(cli_env: None, client: TestClient) -> None:
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    token = client.post("/auth/token", json={"username": "alice", "password": "vouch-demo-pass"})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    open_needs = client.get("/learning-needs", params={"status": "open"}, headers=headers)
    [need] = open_needs.json()["items"]
    assert (need["kind"], need["status"], need["wrong_count"]) == ("thread", "open", 2)
    thread = client.get(f"/questions/{need['question_id']}", headers=headers).json()
    assert {a["state"] for a in thread["answers"]} == {"endorsed", "rejected", "corrected"}
    assert thread["resources"]
    board = client.get("/leaderboard", headers=headers).json()["entries"]
    assert board[0]["user"]["username"] == "bob"
