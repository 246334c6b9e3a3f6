"""A compliance officer in a real browser: a filtered export that verifies offline, the
chain verified, and an edited then deleted answer's full history."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.factories import Person, answer, ask
from tests.web.browser.conftest import Site, assert_accessible, sign_in


def verify_file(site: Site, path: Path) -> dict[str, Any]:
    """`vouch audit verify-file --partial FILE`, as an officer would run it; its report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")}
    env["VOUCH_DATABASE_URL"] = site.db.engine.url.render_as_string(hide_password=False)
    vouch = Path(sys.executable).parent / "vouch"
    done = subprocess.run(
        [str(vouch), "audit", "verify-file", "--partial", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(json.loads(done.stdout.splitlines()[0]))


def edited_then_deleted_answer(site: Site, rep: Person) -> int:
    question = ask(site.api, rep, site.topic())
    posted = answer(site.api, rep, question["id"], "Cancel within 14 days for a refund.")
    edit = {"body": "Cancel within 30 days for a full refund."}
    assert site.api.patch(f"/answers/{posted['id']}", json=edit, headers=rep.headers).is_success
    assert site.api.delete(f"/answers/{posted['id']}", headers=rep.headers).is_success
    return int(posted["id"])


def test_compliance_exports_verifies_and_reads_a_deleted_answers_history(
    page: Any, site: Site, axe_source: str, tmp_path: Path
) -> None:
    rep = site.person("rep")
    answer_id = edited_then_deleted_answer(site, rep)
    sign_in(page, site.person("compliance"))
    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit trail", level=1)).to_be_visible()
    assert_accessible(page, axe_source)

    # A filtered export: only what the rep did, downloaded, and verified offline.
    page.get_by_label("Actor").fill(rep.username)
    page.get_by_label("NDJSON", exact=False).check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download export").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert {e["actor_username"] for e in events} == {rep.username}
    assert {"answer.update", "answer.delete"} <= {e["action"] for e in events}
    report = verify_file(site, path)
    assert (report["ok"], report["events_checked"]) == (True, len(events))

    page.get_by_role("button", name="Verify the chain").click()
    expect(page.get_by_text("Chain intact.")).to_be_visible()
    expect(page.get_by_text("Head hash")).to_be_visible()
    assert_accessible(page, axe_source)
    print("screenshot:", site.screenshot(page, "audit"))

    page.get_by_label("Record", exact=True).select_option("answer")
    page.get_by_label("Number").fill(str(answer_id))
    page.get_by_role("button", name="Show history").click()
    heading = f"Answer {answer_id}: full history"
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Version 1: the original")).to_be_visible()
    expect(page.get_by_role("heading", name="Version 2", exact=True)).to_be_visible()
    expect(page.get_by_text("Cancel within 14 days for a refund.", exact=True)).to_be_visible()
    expect(page.get_by_role("deletion").filter(has_text="14")).to_be_visible()
    expect(page.get_by_role("insertion").filter(has_text="30")).to_be_visible()
    expect(page.get_by_role("heading", name="Deleted", exact=True)).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("deleted this answer")
    assert_accessible(page, axe_source)
    print("screenshot:", site.screenshot(page, "audit-record"))


def test_the_export_form_works_without_javascript(
    no_script_page: Any, site: Site, axe_source: str
) -> None:
    page = no_script_page
    sign_in(page, site.person("compliance"))
    page.goto("/audit")
    page.get_by_label("From (UTC)").fill("2026-03-02T10:00:00")
    page.get_by_label("Until (UTC)").fill("2026-03-01T10:00:00")
    page.get_by_role("button", name="Download export").click()
    expect(page.get_by_text("must not be before")).to_be_visible()
    page.get_by_label("Until (UTC)").fill("")
    page.get_by_label("From (UTC)").fill("2000-01-01T00:00:00")
    page.get_by_label("Action").select_option("auth.login")
    page.get_by_label("CSV", exact=False).check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download export").click()
    text = Path(download.value.path()).read_text()
    header, *rows = text.splitlines()
    assert header.startswith("seq,occurred_at,")
    assert rows and all(",auth.login," in row for row in rows)
