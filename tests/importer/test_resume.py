"""An import killed with SIGKILL mid-way: the next run completes it, with no duplicate and
no thread missing a part."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.answers.models import Answer
from app.audit.service import verify_chain
from app.comments.models import Comment
from app.config import Settings
from app.db import Database
from app.importer.models import ImportedRecord
from app.questions.models import Question
from app.reviews.models import Review
from tests.importer.helpers import run_import, write_dump

pytestmark = pytest.mark.slow

QUESTIONS = 120


def _imported(db: Database) -> int:
    with db.session(write=False) as session:
        return session.execute(
            select(func.count()).where(ImportedRecord.site == "renewals")
        ).scalar_one()


def test_a_killed_import_resumes_and_completes_with_nothing_twice(
    import_env: None, db: Database, settings: Settings, tmp_path: Path
) -> None:
    dump = write_dump(tmp_path / "renewals", QUESTIONS)
    env = {
        **os.environ,
        "VOUCH_DATABASE_URL": settings.database_url,
        "VOUCH_MEILI_URL": settings.meili_url,
    }
    vouch = Path(sys.executable).parent / "vouch"
    job = subprocess.Popen(
        [
            str(vouch),
            "import",
            "stackexchange",
            str(dump),
            "--topic",
            "claims",
            "--batch-size",
            "5",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Kill it once the questions are in and the answers are under way.
        deadline = time.monotonic() + 120
        while _imported(db) < 20 + QUESTIONS + 30 and time.monotonic() < deadline:
            assert job.poll() is None, "the import ended before it could be killed"
            time.sleep(0.05)
    finally:
        job.kill()
        job.wait(timeout=20)
    partial = _imported(db)
    assert 0 < partial < 20 + QUESTIONS * 5

    result = run_import(str(dump), "--topic", "claims", "--batch-size", "5")

    assert result.exit_code == 0, result.output
    with db.session(write=False) as session:

        def count(model: type) -> int:
            return session.execute(select(func.count()).select_from(model)).scalar_one()

        assert count(Question) == QUESTIONS
        assert count(Answer) == QUESTIONS * 2
        assert count(Comment) == QUESTIONS * 2
        assert count(Review) == QUESTIONS  # every accepted answer endorsed once
        per_question = session.execute(
            select(Answer.question_id, func.count()).group_by(Answer.question_id)
        ).all()
        assert {n for _, n in per_question} == {2}
        records = session.execute(
            select(ImportedRecord.kind, ImportedRecord.source_id).where(
                ImportedRecord.site == "renewals"
            )
        ).all()
        assert len(records) == len(set(records)) == 20 + QUESTIONS * 5
        assert verify_chain(session).ok
    again = run_import(str(dump), "--topic", "claims")
    assert again.exit_code == 0 and _imported(db) == 20 + QUESTIONS * 5
