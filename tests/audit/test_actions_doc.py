from pathlib import Path

from app.audit.actions import render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit-actions.md"


def test_audit_actions_page_matches_the_code() -> None:
    assert DOC.read_text() == render_markdown(), (
        "docs/audit-actions.md is stale: run `vouch audit actions > docs/audit-actions.md`"
    )
