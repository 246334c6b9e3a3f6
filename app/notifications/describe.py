"""What a notification says, in words: the same in the web interface's list, in an
email and in a webhook's message."""

from app.config import Settings
from app.notifications.models import NotificationKind
from app.notifications.service import Listed

VERDICTS = {"endorse": "endorsed", "correct": "corrected", "reject": "rejected"}


def headline(listed: Listed) -> str:
    n, who = listed.notification, listed.actor_name or "Someone"
    title, topic = listed.question_title or "", listed.topic_name
    detail = n.payload
    match n.kind:
        case NotificationKind.question_new:
            return f"New question in {topic}: {title}"
        case NotificationKind.answer_new:
            return f"{who} answered a question in {topic}: {title}"
        case NotificationKind.question_answered:
            return f"{who} answered your question: {title}"
        case NotificationKind.question_commented:
            return f"{who} commented on your question: {title}"
        case NotificationKind.flag_new:
            return f"{who} flagged an answer in {topic}: {title}"
        case NotificationKind.answer_reviewed:
            verdict = VERDICTS.get(str(detail.get("verdict")), "reviewed")
            return f"{who} {verdict} your answer to: {title}"
        case NotificationKind.endorsement_stale:
            return f"An endorsement is due for review in {topic}: {title}"
        case NotificationKind.learning_need:
            step = "reopened" if detail.get("reopened") else "opened"
            where = title or f"the whole topic {topic}"
            return f"A learning need {step} in {topic}: {where}"
    return f"News in {topic}: {title}"


def details(listed: Listed) -> list[str]:
    detail = listed.notification.payload
    lines = []
    if detail.get("rationale"):
        lines.append(f"Rationale: {detail['rationale']}")
    if detail.get("correction"):
        lines.append(f"Correction: {detail['correction']}")
    if detail.get("reason"):
        lines.append(f"Reason: {detail['reason']}")
    if "wrong" in detail and "reviewed" in detail:
        lines.append(f"{detail['wrong']} of {detail['reviewed']} reviewed answers wrong")
    return lines


def link(listed: Listed) -> str:
    """Where it points in the web interface (a path): the thread, at the answer; a
    topic's signal is on the learning-needs page."""
    n = listed.notification
    if n.question_id is None:
        return "/learning-needs"
    return thread_path(n.question_id, n.answer_id)


def thread_path(question_id: int, answer_id: int | None = None) -> str:
    """The thread's page, at the answer when there is one."""
    return f"/questions/{question_id}" + (f"#answer-{answer_id}" if answer_id else "")


def public(settings: Settings, path: str) -> str:
    """`path` of the web interface as people open it from an email or a chat channel."""
    return settings.public_url.rstrip("/") + path
