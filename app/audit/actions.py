"""The fixed vocabulary of audit actions: name → (meaning, payload description).

`docs/audit-actions.md` is generated from this table (`vouch audit actions`), and
recording an action that is not listed here is a programming error.
"""

from typing import NamedTuple


class Action(NamedTuple):
    meaning: str
    payload: str


ACTIONS: dict[str, Action] = {
    "audit.export": Action(
        "Compliance exported audit events (over HTTP or with `vouch audit export`).",
        "`filter` (the criteria set: `since`, `until`, `actor`, `action`, `target_type`, "
        "`target_id`) and `format` (`ndjson` or `csv`); the export covers events up to this one.",
    ),
    "backup.create": Action(
        "The operator backed up the whole database (`vouch backup`); recorded before the "
        "snapshot is taken, so the backup holds this event.",
        "`database` (`postgresql` or `sqlite`) and `signed` (whether the backup's checkpoint "
        "is signed).",
    ),
    "backup.restore": Action(
        "A backup was restored into an empty database (`vouch restore`) and its audit chain "
        "verified against the checkpoint kept beside it; the first event after the restored "
        "chain.",
        "`created_at` of the backup, its `checkpoint` (`seq`, `hash`, `key_id` when the "
        "signature was checked) and `alembic_revision`.",
    ),
    "auth.login": Action(
        "A login attempt; outcome `success` or `failure`.",
        "`username` tried; on failure `reason` (`unknown-user`, `bad-password`, `inactive`); "
        "on success `token_id` and `expires_at`. Never the password or the token.",
    ),
    "auth.logout": Action(
        "A bearer token was revoked by its holder.",
        "`token_id`.",
    ),
    "auth.token_create": Action(
        "A user made a personal access token (a named bearer token for their scripts).",
        "`token_id`, `name` and `expires_at`. Never the token.",
    ),
    "auth.token_revoke": Action(
        "A user revoked one of their personal access tokens.",
        "`token_id` and `name`.",
    ),
    "user.create": Action(
        "A user account was created (by an admin or by the command line).",
        "`after`: username, display name, email, roles, expert topics, active.",
    ),
    "user.update": Action(
        "A user's display name or email address changed.",
        "`before` and `after` of the changed fields.",
    ),
    "notification_settings.update": Action(
        "A user changed their notification settings (which news, on which channel, how often).",
        "`before` and `after`: the changed choices, as `kind/channel` → frequency. A one-click "
        "unsubscribe from an email is recorded so too, with its recipient as the actor.",
    ),
    "webhook.create": Action(
        "An admin registered a webhook that hears a topic's news.",
        "`topic`, `format`, `url` (its origin only: such URLs hold a secret) and `url_sha256`.",
    ),
    "webhook.delete": Action(
        "An admin removed a webhook; calls not yet made are dropped.",
        "`topic` and `url` (its origin only).",
    ),
    "notification_delivery.retry": Action(
        "An admin sent a dead letter (an email or a webhook call that failed for good) again.",
        "`channel`, `kind` and the `error` it had died of.",
    ),
    "user.roles_change": Action(
        "A user's roles or expert topics changed.",
        "`before` and `after` of `roles` and `expert_topics`.",
    ),
    "user.deactivate": Action(
        "A user was deactivated; their tokens were revoked at once.",
        "`before`/`after` of `active`, `tokens_revoked`.",
    ),
    "user.activate": Action(
        "A deactivated user was made active again.",
        "`before`/`after` of `active`.",
    ),
    "topic.create": Action(
        "A topic was created.",
        "`after`: slug, name, description, required endorsements, review interval.",
    ),
    "topic.update": Action(
        "A topic's settings changed.",
        "`before` and `after` of the changed fields.",
    ),
    "import.batch": Action(
        "A batch of an import (`vouch import stackexchange`) committed; the batch's own "
        "rows carry their usual events (`user.create`, `question.create`, `answer.create`, "
        "`review.create`, `comment.create`, …) by the importer.",
        "`site`, `file`, and `records`: each row imported as `[kind, id in the dump, id "
        "in Vouch]`.",
    ),
    "question.close": Action(
        "A question was closed (an imported question that was closed at its source).",
        "`before` and `after` of `status`.",
    ),
    "question.create": Action(
        "A question was asked.",
        "`after`: title, body, topic, tags, status.",
    ),
    "question.update": Action(
        "A question was edited; a revision was kept.",
        "`before` and `after` of the changed fields, `revision` number.",
    ),
    "question.delete": Action(
        "A question was tombstoned: hidden from threads and search, kept for compliance.",
        "`before`: the full question as it was.",
    ),
    "answer.create": Action(
        "An answer was posted.",
        "`after`: question id, body, state.",
    ),
    "answer.update": Action(
        "An answer was edited; a revision was kept.",
        "`before` and `after` of the changed fields, `revision` number.",
    ),
    "answer.delete": Action(
        "An answer was tombstoned.",
        "`before`: the full answer as it was.",
    ),
    "comment.create": Action(
        "A comment was added to a question or an answer.",
        "`after`: parent type and id, body.",
    ),
    "review.create": Action(
        "An expert endorsed, corrected or rejected an answer.",
        "`review_id`, `verdict`, `rationale`, `correction`, `references`, `answer_revision`; "
        "`before`/`after` of the answer's `state` and `correction`.",
    ),
    "flag.create": Action(
        "An answer was flagged as possibly wrong.",
        "`flag_id`, `reason`, the answer's `open_flags`.",
    ),
    "learning_need.open": Action(
        "A thread or topic crossed its wrong-answer threshold: a signal opened.",
        "`kind`, `topic_id`, `question_id`, `wrong` and `reviewed` counts.",
    ),
    "learning_need.reopen": Action(
        "A new wrong answer reopened an addressed signal.",
        "`kind`, `topic_id`, `question_id`, `wrong` and `reviewed` counts.",
    ),
    "learning_need.acknowledge": Action(
        "An expert or admin acknowledged a signal.",
        "`kind`, `topic_id`, `question_id`, `before`/`after` of `status`, `note`.",
    ),
    "learning_need.address": Action(
        "An expert or admin recorded what was done about a signal.",
        "`kind`, `topic_id`, `question_id`, `before`/`after` of `status`, `note`.",
    ),
    "resource.create": Action(
        "A signpost (resource) was added to a topic.",
        "`after`: topic, title, URL, description.",
    ),
    "vote.cast": Action(
        "A vote on an answer was cast or replaced.",
        "`before` (previous value or null) and `after` of `value`, the answer's new `score`.",
    ),
}


def render_markdown() -> str:
    """The vocabulary as the Markdown page `docs/audit-actions.md`."""
    lines = [
        "# Audit actions",
        "",
        "Generated from `app/audit/actions.py` by `vouch audit actions`; do not edit by hand",
        "(a test fails when this page and the code disagree).",
        "",
        "Every event also carries `seq`, `occurred_at`, the actor (id, username, roles),",
        "`outcome`, the target (type and id), the request id, client IP, user agent,",
        "`prev_hash` and `hash`; the payload column below is what is specific to the action.",
        "",
        "| action | meaning | payload |",
        "| --- | --- | --- |",
    ]
    for name, action in sorted(ACTIONS.items()):
        lines.append(f"| `{name}` | {action.meaning} | {action.payload} |")
    return "\n".join(lines) + "\n"
