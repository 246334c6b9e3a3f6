"""The thread page's answer cards, each rendered once and then served from memory.

A thread is read far more often than it changes, and its answer cards are most of the
page's rendering time. A card is a pure function of what it is given: the answer as
loaded (text, state, score, comments, reviews: its JSON), the verdict that follows from
it and the topic's required endorsements, the reader's controls (vote, edit, flag,
comment, their own vote) and the minute ("3 minutes ago"). That is the cache key, so a
change to any of them is a new key and a card out of date is never served; an answer
that changes costs one card, not the page.

The CSRF token is the one value that differs per session: cards are rendered with a
random placeholder in its place, replaced on the way out, so readers with the same
controls share a card. The placeholder is secret and random, so no text anyone writes
can contain it.
"""

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from markupsafe import Markup, escape

from app.questions.thread import ThreadAnswer
from app.questions.trust import AnswerVerdict
from app.web.render import templates

# Bounded by size, not count (a card's text is the users'): 32 M characters of HTML per
# process, some 8,000 ordinary cards.
CACHED_CHARACTERS = 32 * 1024 * 1024


@dataclass(frozen=True)
class AnswerCard:
    """An answer as the thread shows it to one reader: its verdict and what they may do."""

    answer: ThreadAnswer
    verdict: AnswerVerdict
    may_edit: bool = False
    may_vote: bool = False
    may_flag: bool = False
    may_comment: bool = False
    my_vote: int = 0


_cards: LRUCache[tuple[Any, ...], str] = LRUCache(maxsize=CACHED_CHARACTERS, getsizeof=len)
_lock = threading.Lock()
_CSRF_PLACEHOLDER = secrets.token_hex(16)


def _key(card: AnswerCard) -> tuple[Any, ...]:
    answer = hashlib.blake2b(card.answer.model_dump_json().encode(), digest_size=16).digest()
    controls = (card.may_edit, card.may_vote, card.may_flag, card.may_comment, card.my_vote)
    return answer, card.verdict.required, controls, int(time.time() // 60)


def answer_card(card: AnswerCard, csrf_token: str) -> Markup:
    """The card's HTML for a reader whose session has `csrf_token`."""
    key = _key(card)
    with _lock:
        html = _cards.get(key)
    if html is None:
        macro = templates.env.get_template("macros/answers.html").module.answer_card  # type: ignore[attr-defined]
        html = str(macro(card, _CSRF_PLACEHOLDER))
        with _lock:
            _cards[key] = html
    return Markup(html.replace(_CSRF_PLACEHOLDER, str(escape(csrf_token))))


templates.env.globals["cached_answer_card"] = answer_card
