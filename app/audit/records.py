"""Reconstructing a question or an answer, every version of it, from the audit trail.

The audit payloads are the source: they are hash-chained, so what they say is
what happened. Each version is also compared with the revision table, which
the product shows to users, so a compliance officer sees at once whether the
two agree.
"""

from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.answers.models import AnswerRevision
from app.audit.models import AuditEvent
from app.audit.schemas import ActorOut, EventOut, RecordOut, VersionOut
from app.errors import NotFound
from app.questions.models import QuestionRevision

RecordType = Literal["question", "answer"]

# The fields a user writes, and so the ones that make a new version when edited.
CONTENT_FIELDS: dict[str, tuple[str, ...]] = {
    "question": ("title", "body", "tags"),
    "answer": ("body",),
}


def _actor(event: AuditEvent) -> ActorOut:
    return ActorOut(id=event.actor_id, username=event.actor_username, roles=event.actor_roles)


def _stored_revisions(
    session: Session, target_type: RecordType, target_id: int
) -> dict[int, tuple[dict[str, Any], int]]:
    """Revision number → (content, editor id), from the revision table."""
    if target_type == "question":
        questions = select(QuestionRevision).where(QuestionRevision.question_id == target_id)
        return {
            r.number: ({"title": r.title, "body": r.body, "tags": r.tags}, r.editor_id)
            for r in session.execute(questions).scalars()
        }
    answers = select(AnswerRevision).where(AnswerRevision.answer_id == target_id)
    return {r.number: ({"body": r.body}, r.editor_id) for r in session.execute(answers).scalars()}


def reconstruct(session: Session, target_type: RecordType, target_id: int) -> RecordOut:
    """The original content, every interim version with who and when, and all events.

    Tombstoned records are included: deletion hides content from the product,
    never from compliance. 404 when the trail holds nothing about the record.
    """
    events = list(
        session.execute(
            select(AuditEvent)
            .where(AuditEvent.target_type == target_type, AuditEvent.target_id == str(target_id))
            .order_by(AuditEvent.seq)
        ).scalars()
    )
    if not events:
        raise NotFound(f"The audit trail holds nothing about {target_type} {target_id}.")
    fields = CONTENT_FIELDS[target_type]
    stored = _stored_revisions(session, target_type, target_id)
    content: dict[str, Any] = {}
    versions: list[VersionOut] = []
    for event in events:
        if event.action not in (f"{target_type}.create", f"{target_type}.update"):
            continue
        after = event.payload.get("after", {})
        changed = [f for f in fields if f in after and (not versions or after[f] != content.get(f))]
        if not changed:
            continue  # an edit of something other than the content (e.g. a state change)
        content = {**content, **{f: after[f] for f in changed}}
        number = event.payload.get("revision", versions[-1].number + 1 if versions else 1)
        kept = stored.get(number)
        versions.append(
            VersionOut(
                number=number,
                seq=event.seq,
                occurred_at=event.occurred_at,
                actor=_actor(event),
                content=content,
                changed=changed,
                matches_stored_revision=None
                if kept is None
                else kept == ({f: content.get(f) for f in fields}, event.actor_id),
            )
        )
    return RecordOut(
        target_type=target_type,
        target_id=target_id,
        deleted=any(e.action == f"{target_type}.delete" for e in events),
        versions=versions,
        history=[
            EventOut(
                seq=e.seq,
                occurred_at=e.occurred_at,
                actor=_actor(e),
                action=e.action,
                outcome=e.outcome,
                request_id=e.request_id,
                payload=e.payload,
            )
            for e in events
        ],
    )
