"""Notification settings: for each kind of news and channel, immediately, in a daily
summary, or never. A person's choices are rows; everything else is the default here."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.service import AuditContext
from app.db import utcnow
from app.errors import InvalidInput
from app.notifications.models import Channel, Frequency, NotificationKind, NotificationSetting
from app.users.models import User

K, F = NotificationKind, Frequency

# What each kind is, as the settings page names it.
KIND_LABELS: dict[NotificationKind, str] = {
    K.answer_reviewed: "An expert reviewed my answer",
    K.question_answered: "Someone answered my question",
    K.question_commented: "Someone commented on my question or its answers",
    K.answer_new: "A new answer to review in my topics (experts)",
    K.flag_new: "An answer flagged in my topics (experts)",
    K.learning_need: "A learning need opened in my topics (experts)",
    K.endorsement_stale: "An endorsement in my topics due for review (experts)",
    K.question_new: "A new question in my topics (experts)",
    K.digest: "The weekly digest of newly validated answers",
}

# The web interface's list is there or not: a daily summary is an email's way.
CHOICES: dict[Channel, tuple[Frequency, ...]] = {
    Channel.web: (F.immediately, F.never),
    Channel.email: (F.immediately, F.daily, F.never),
}


def offered(kind: NotificationKind, channel: Channel) -> tuple[Frequency, ...]:
    """The frequencies `channel` offers for `kind` (none: the pair does not exist). The
    digest is a weekly email, not news of one change."""
    if kind == K.digest:
        return (F.weekly, F.never) if channel == Channel.email else ()
    return CHOICES[channel]


# Review work (new questions and answers in my topics, flags, learning needs, stale
# endorsements) and verdicts at once; comments gathered into a daily email.
_EMAIL_DEFAULTS: dict[NotificationKind, Frequency] = {
    K.answer_reviewed: F.immediately,
    K.question_answered: F.immediately,
    K.question_commented: F.daily,
    K.answer_new: F.immediately,
    K.flag_new: F.immediately,
    K.learning_need: F.immediately,
    K.endorsement_stale: F.immediately,
    K.question_new: F.immediately,
    K.digest: F.weekly,
}


def default(kind: NotificationKind, channel: Channel) -> Frequency:
    return F.immediately if channel == Channel.web else _EMAIL_DEFAULTS[kind]


def email_frequencies(
    session: Session, user_ids: Iterable[int], kinds: Iterable[str]
) -> dict[tuple[int, str], Frequency]:
    """How each of these users hears of each of these kinds by email: (user, kind) →
    frequency, the default where they did not choose."""
    users, wanted = set(user_ids), {NotificationKind(k) for k in kinds}
    chosen = {
        (user_id, kind): Frequency(frequency)
        for user_id, kind, frequency in session.execute(
            select(
                NotificationSetting.user_id,
                NotificationSetting.kind,
                NotificationSetting.frequency,
            ).where(
                NotificationSetting.user_id.in_(users),
                NotificationSetting.kind.in_([str(k) for k in wanted]),
                NotificationSetting.channel == Channel.email,
            )
        )
    }
    return {
        (u, str(k)): chosen.get((u, str(k)), default(k, Channel.email))
        for u in users
        for k in wanted
    }


@dataclass(frozen=True)
class Setting:
    kind: NotificationKind
    channel: Channel
    frequency: Frequency
    is_default: bool


def _chosen(session: Session, user: User) -> dict[tuple[str, str], NotificationSetting]:
    """The user's stored choices, by (kind, channel)."""
    return {
        (row.kind, row.channel): row
        for row in session.execute(
            select(NotificationSetting).where(NotificationSetting.user_id == user.id)
        ).scalars()
    }


def _settings(chosen: dict[tuple[str, str], NotificationSetting]) -> list[Setting]:
    """Every kind on every channel: the stored choice, else the default."""
    return [
        Setting(kind, channel, Frequency(chosen[key].frequency), False)
        if (key := (str(kind), str(channel))) in chosen
        else Setting(kind, channel, default(kind, channel), True)
        for kind in KIND_LABELS
        for channel in CHOICES
        if offered(kind, channel)
    ]


def settings_of(session: Session, user: User) -> list[Setting]:
    """Every kind on every channel, as it stands for `user`."""
    return _settings(_chosen(session, user))


def muted_in_app(
    session: Session, user_ids: Iterable[int], kinds: Iterable[str]
) -> set[tuple[int, str]]:
    """The (user, kind) pairs among these that the user turned off in the web interface."""
    found = session.execute(
        select(NotificationSetting.user_id, NotificationSetting.kind).where(
            NotificationSetting.user_id.in_(set(user_ids)),
            NotificationSetting.kind.in_(set(kinds)),
            NotificationSetting.channel == Channel.web,
            NotificationSetting.frequency == Frequency.never,
        )
    )
    return {(user_id, kind) for user_id, kind in found}


def update_settings(
    session: Session,
    ctx: AuditContext,
    user: User,
    changes: list[tuple[NotificationKind, Channel, Frequency]],
) -> list[Setting]:
    """Set the given choices (the others stay); audited with what changed. A frequency a
    channel does not offer (for that kind) is a 422 and changes nothing."""
    refused = [
        {
            "field": f"body.settings.{n}.frequency",
            "message": f"{kind} on {channel}: "
            + (", ".join(offered(kind, channel)) or "not offered"),
        }
        for n, (kind, channel, frequency) in enumerate(changes)
        if frequency not in offered(kind, channel)
    ]
    if refused:
        raise InvalidInput("A channel does not offer that frequency.", errors=refused)
    rows = _chosen(session, user)
    current = {(s.kind, s.channel): s.frequency for s in _settings(rows)}
    before, after = {}, {}
    for kind, channel, frequency in changes:
        if current[(kind, channel)] == frequency:
            continue
        label = f"{kind}/{channel}"
        before[label], after[label] = str(current[(kind, channel)]), str(frequency)
        current[(kind, channel)] = frequency
        row = rows.get((str(kind), str(channel)))
        if row is None:
            row = NotificationSetting(user_id=user.id, kind=str(kind), channel=str(channel))
            session.add(row)
            rows[(str(kind), str(channel))] = row
        row.frequency, row.updated_at = str(frequency), utcnow()
    if after:
        session.flush()
        audit.record(
            session,
            ctx,
            "notification_settings.update",
            target_type="user",
            target_id=user.id,
            payload={"before": before, "after": after},
        )
    return _settings(rows)
