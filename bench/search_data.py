"""Realistic thread text for the search benchmark.

Threads are the real questions and answers of the Stack Exchange dumps in
`../shared/data/stackexchange/*/Posts.xml`, dealt out again (as `bench/se_dump.py` deals
them into a dump for the importer), their HTML turned into markdown as an import stores
it, each title numbered. Search phrases come from a word-bigram model of the same
titles. When the dumps are absent, a Zipf-distributed synthetic vocabulary stands in
(and the run says so).
"""

import html
import itertools
import random
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from app.importer.convert import html_to_markdown
from bench.se_dump import real_texts

ROOT = Path(__file__).resolve().parent.parent
DUMPS = ROOT.parent / "shared" / "data" / "stackexchange"
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{1,20}")


def _plain(markup: str) -> str:
    return html.unescape(_TAG.sub(" ", markup))


def load_corpus() -> tuple[list[str], list[str], str]:
    """(titles, bodies, source description) from the dumps, or empty lists."""
    titles: list[str] = []
    bodies: list[str] = []
    files = sorted(DUMPS.glob("*/Posts.xml"))
    for path in files:
        for _event, row in ET.iterparse(path):
            if row.tag != "row":
                continue
            if row.get("Title"):
                titles.append(html.unescape(row.get("Title", "")))
            if row.get("Body"):
                bodies.append(_plain(row.get("Body", "")))
            row.clear()
    source = ", ".join(str(p.relative_to(DUMPS.parent.parent)) for p in files)
    return titles, bodies, source


class TextModel:
    """A word-bigram chain: `words(n)` gives n words that read like the training text,
    and `length()` a number of words drawn from the training texts' own lengths."""

    def __init__(self, texts: list[str], rng: random.Random) -> None:
        self.rng = rng
        follows: dict[str, list[str]] = defaultdict(list)
        self.starts: list[str] = []
        self.lengths: list[int] = []
        for text in texts:
            words = _WORD.findall(text)
            if words:
                self.starts.append(words[0])
                self.lengths.append(len(words))
            for a, b in itertools.pairwise(words):
                follows[a.lower()].append(b)
        self.follows = dict(follows)
        self.vocabulary = [w for ws in follows.values() for w in ws]

    def words(self, n: int) -> str:
        word = self.rng.choice(self.starts)
        out = [word]
        for _ in range(n - 1):
            options = self.follows.get(word.lower())
            word = self.rng.choice(options) if options else self.rng.choice(self.vocabulary)
            out.append(word)
        return " ".join(out)

    def length(self) -> int:
        return self.rng.choice(self.lengths)


class SyntheticModel:
    """Fallback when the dumps are absent: Zipf-distributed made-up words."""

    def __init__(
        self, rng: random.Random, lengths: tuple[int, int] = (20, 120), size: int = 20_000
    ) -> None:
        self.rng = rng
        self.lengths = lengths
        letters = "abcdefghijklmnopqrstuvwxyz"
        self.vocabulary = [
            "".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(size)
        ]
        self.weights = [1 / (rank + 1) for rank in range(size)]

    def words(self, n: int) -> str:
        return " ".join(self.rng.choices(self.vocabulary, self.weights, k=n))

    def length(self) -> int:
        return self.rng.randint(*self.lengths)


Model = TextModel | SyntheticModel


def text_models(seed: int = 7) -> tuple[Model, Model, str]:
    """(title model, body model, where the text comes from)."""
    rng = random.Random(seed)
    titles, bodies, source = load_corpus()
    if not titles:
        return (
            SyntheticModel(rng, lengths=(5, 12)),
            SyntheticModel(rng),
            "synthetic words (no Stack Exchange dumps found)",
        )
    return (
        TextModel(titles, rng),
        TextModel(bodies, rng),
        f"the real posts of {source}, dealt out again; queries from a bigram model of them",
    )


def sample_queries(model: Model, count: int, rng: random.Random) -> list[str]:
    """Search phrases of one to three words, as people type them."""
    queries: list[str] = []
    while len(queries) < count:
        words = [w for w in model.words(8).split() if len(w) > 3]
        if words:
            start = rng.randrange(len(words))
            queries.append(" ".join(words[start : start + rng.randint(1, 3)]).lower())
    return queries


def threads(
    count: int, answers_per_thread: int, seed: int = 11
) -> Iterator[tuple[str, str, list[str]]]:
    """(title, body, [answer bodies]) for `count` threads: the dumps' real posts in turn
    (the answers of other questions too, so that threads differ), or text of the
    synthetic models when there are no dumps."""
    sources = sorted(p.parent for p in DUMPS.glob("*/Posts.xml"))
    questions, answers, _comments = real_texts(sources) if sources else ([], [], [])
    if not questions or not answers:
        yield from _made_up(count, answers_per_thread, seed)
        return
    asked = [(title, html_to_markdown(body)) for title, body, _tags in questions]
    converted = [(title, body) for title, body in asked if body]
    replies = [text for text in map(html_to_markdown, answers) if text]
    reply = itertools.cycle(replies)
    for n, (title, body) in zip(range(count), itertools.cycle(converted), strict=False):
        yield (
            f"{html.unescape(title)[:185]} ({n})",
            body,
            [next(reply) for _ in range(answers_per_thread)],
        )


def _made_up(
    count: int, answers_per_thread: int, seed: int
) -> Iterator[tuple[str, str, list[str]]]:
    """Threads of the synthetic model, each text as long as a real title or post."""
    title_model, body_model, _source = text_models(seed)
    for _ in range(count):
        title = title_model.words(max(3, title_model.length())).capitalize()[:200]
        body = body_model.words(body_model.length())
        answers = [body_model.words(body_model.length()) for _ in range(answers_per_thread)]
        yield title, body, answers
