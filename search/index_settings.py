"""The threads index's settings, kept in code and applied with a drift check."""

import logging
from dataclasses import dataclass
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchApiError

log = logging.getLogger("vouch.search")

PRIMARY_KEY = "id"
# A modest cap: nobody pages past a thousand hits, and a cap keeps deep offsets cheap.
MAX_TOTAL_HITS = 1000
SETTINGS_TIMEOUT_MS = 10 * 60 * 1000

THREADS_SETTINGS: dict[str, Any] = {
    # Order matters: the "attribute" rule ranks a match in the title above one in an answer.
    "searchableAttributes": ["title", "tags", "body", "best_answer_text", "answers"],
    "filterableAttributes": ["id", "topic", "tags", "status", "validated", "learning_need"],
    "sortableAttributes": ["created_at", "score"],
    # The built-in relevance rules first; `validated:desc` only breaks ties, so a validated
    # thread outranks an unvalidated one of equal relevance and never a more relevant one.
    "rankingRules": [
        "words",
        "typo",
        "proximity",
        "attribute",
        "sort",
        "exactness",
        "validated:desc",
    ],
    "displayedAttributes": ["*"],
    "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
    "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
    "faceting": {"maxValuesPerFacet": 100},
}

# Meilisearch may report these lists in another order; their order means nothing.
_UNORDERED = frozenset({"filterableAttributes", "sortableAttributes", "displayedAttributes"})


def settings_drift(desired: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """The top-level setting names whose value in `actual` differs from `desired`.

    Only what `desired` names is compared, and nested objects only by the keys
    it names: Meilisearch reports every setting, defaults included.
    """
    return [name for name, want in desired.items() if not _matches(name, want, actual.get(name))]


def _matches(name: str, want: Any, have: Any) -> bool:
    if isinstance(want, dict):
        return isinstance(have, dict) and all(
            _matches(key, value, have.get(key)) for key, value in want.items()
        )
    if name in _UNORDERED and isinstance(want, list) and isinstance(have, list):
        return sorted(map(str, want)) == sorted(map(str, have))
    return bool(want == have)


@dataclass(frozen=True)
class IndexCheck:
    #: The index did not exist and was created (empty).
    created: bool
    #: Settings that differed from the code and were re-applied.
    drifted: list[str]


def ensure_index(client: meilisearch.Client, uid: str, *, wait: bool = True) -> IndexCheck:
    """Create index `uid` if it is missing and make its settings match `THREADS_SETTINGS`.

    Raises `IndexSettingsError` when Meilisearch refuses the settings.
    """
    try:
        actual = client.index(uid).get_settings()
    except MeilisearchApiError as exc:
        if exc.code != "index_not_found":
            raise
        _wait(client, client.create_index(uid, {"primaryKey": PRIMARY_KEY}).task_uid, uid)
        actual = {}
    created = not actual
    drifted = settings_drift(THREADS_SETTINGS, actual)
    if drifted:
        if actual:
            log.warning("search index %s settings drifted (%s); re-applying", uid, drifted)
        task = client.index(uid).update_settings(dict(THREADS_SETTINGS))
        if wait:
            _wait(client, task.task_uid, uid)
    return IndexCheck(created, drifted)


class IndexSettingsError(RuntimeError):
    """Meilisearch did not accept an index operation."""


def _wait(client: meilisearch.Client, task_uid: int, uid: str) -> None:
    task = client.wait_for_task(task_uid, timeout_in_ms=SETTINGS_TIMEOUT_MS, interval_in_ms=50)
    # "index_already_exists": another process created it between our check and our request.
    if task.status != "succeeded" and (task.error or {}).get("code") != "index_already_exists":
        raise IndexSettingsError(
            f"task {task_uid} on index {uid} ended {task.status}: {task.error}"
        )
