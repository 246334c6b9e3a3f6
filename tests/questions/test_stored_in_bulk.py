"""Questions stored in bulk (the importer's path: Core inserts, out of the session) end as
the API's own: each with its id, its defaults, tags in order, revision, outbox row and
`question.create` event, and the chain verifies."""

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.audit.service import verify_chain
from app.db import Database, session_scope
from app.outbox.models import OutboxEntry
from app.questions.models import Question, QuestionRevision
from app.questions.service import add_questions
from app.topics.models import Topic
from tests.factories import SETUP, People


def test_questions_stored_in_bulk_are_whole(people: People, db: Database) -> None:
    slug = people.topic("bulk")
    asker = people.make("rep")
    with session_scope(db) as session:
        topic_id = session.execute(select(Topic.id).where(Topic.slug == slug)).scalar_one()
        questions = []
        for n in range(30):
            question = Question(
                topic_id=topic_id, author_id=asker.id, title=f"Bulk question {n}", body=f"Body {n}"
            )
            question.tags = ["b", "a"] if n % 2 else []
            questions.append(question)
        add_questions(session, SETUP, questions, {topic_id: slug}, announce=False, in_session=False)
        ids = [q.id for q in questions]
        assert all(q not in session for q in questions)
    assert len(set(ids)) == 30
    with db.session(write=False) as session:
        for question_id, n in zip(ids, range(30), strict=True):
            stored = session.get_one(Question, question_id)
            assert stored.title == f"Bulk question {n}"
            assert stored.status == "open" and stored.has_learning_need is False
            assert stored.tags == (["b", "a"] if n % 2 else [])
        revisions = session.execute(
            select(func.count()).where(QuestionRevision.question_id.in_(ids))
        ).scalar_one()
        outbox = session.execute(
            select(func.count()).where(OutboxEntry.question_id.in_(ids))
        ).scalar_one()
        events = session.execute(
            select(func.count()).where(
                AuditEvent.action == "question.create",
                AuditEvent.target_id.in_([str(i) for i in ids]),
            )
        ).scalar_one()
        assert (revisions, outbox, events) == (30, 30, 30)
        assert verify_chain(session).ok
