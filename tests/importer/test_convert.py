"""A dump's HTML as markdown, its tags as slugs, its times and ids."""

from pathlib import Path

import pytest

from app.importer.convert import html_to_markdown
from app.importer.dump import identifier, slug, tags, timestamp
from app.importer.stackexchange import ImportRefused, TopicMap


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<p>Plain text.</p>", "Plain text."),
        (
            "<p>A <strong>bold</strong> and <em>slanted</em> word.</p>",
            "A **bold** and *slanted* word.",
        ),
        (
            '<p>See <a href="https://intranet.example/a_b">the guide</a>.</p>',
            "See [the guide](https://intranet.example/a_b).",
        ),
        ("<pre><code>if claim:\n    pay()\n</code></pre>", "```\nif claim:\n    pay()\n```"),
        ("<p>Run <code>renew --all</code> first.</p>", "Run `renew --all` first."),
        ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),
        ("<ol><li>first</li><li>second</li></ol>", "1. first\n2. second"),
        (
            '<p><img src="https://img.example/a.png" alt="a chart"></p>',
            "![a chart](https://img.example/a.png)",
        ),
        ("<blockquote><p>Quoted policy.</p></blockquote>", "> Quoted policy."),
        ("<h2>Cover</h2><p>Text</p>", "## Cover\n\nText"),
        ("<p>Line<br>break</p>", "Line  \nbreak"),
    ],
)
def test_html_becomes_markdown_that_keeps_its_structure(html: str, markdown: str) -> None:
    assert html_to_markdown(html) == markdown


@pytest.mark.parametrize(
    "html",
    [
        "<script>steal()</script><p>ok</p>",
        '<iframe src="https://evil.example/"></iframe><p>ok</p>',
        '<p><a href="javascript:steal()">ok</a></p>',
        '<p onclick="steal()">ok</p>',
        "<style>body{display:none}</style><p>ok</p>",
        '<p><a href="data:text/html,steal">ok</a></p>',
    ],
)
def test_active_content_leaves_only_harmless_text(html: str) -> None:
    converted = html_to_markdown(html)
    assert converted == "ok"


def test_tags_become_at_most_five_distinct_slugs_in_their_order() -> None:
    assert tags("<Home-Contents><accidental damage><laptops>") == [
        "home-contents",
        "accidental-damage",
        "laptops",
    ]
    assert tags("|motor|glass|motor|") == ["motor", "glass"]
    assert tags("<a1><b2><c3><d4><e5><f6>") == ["a1", "b2", "c3", "d4", "e5"]
    assert tags("<c#><c++><.net><café>") == ["csharp", "cplusplus", "net", "cafe"]
    assert tags("<--->") == [] and tags("") == [] and tags(None) == []


def test_slugs_fit_the_tag_rule() -> None:
    import re

    for name in ("Ünïcode Tag", "x" * 100, "-leading-and-trailing-", "a" + "-" * 70 + "b"):
        made = slug(name)
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", made), made


def test_times_and_ids() -> None:
    assert timestamp("2018-02-06T20:19:50.957").isoformat() == "2018-02-06T20:19:50.957000+00:00"  # type: ignore[union-attr]
    assert timestamp("yesterday") is None and timestamp(None) is None
    assert identifier("42") == 42
    assert identifier("-1") is None and identifier("0") is None and identifier("x") is None
    assert identifier("99999999999") is None


def test_a_topic_map_reads_first_match_and_default(tmp_path: Path) -> None:
    path = tmp_path / "map.txt"
    path.write_text("glass motor  # windscreens\nmotor motor\nski travel\n\n* claims\n")
    topics = TopicMap.read(path)
    assert topics.topic_for(["ski", "glass"]) == "motor"  # the map's first line wins
    assert topics.topic_for(["ski"]) == "travel"
    assert topics.topic_for(["pets"]) == "claims"
    assert topics.topics == ["claims", "motor", "travel"]
    path.write_text("glass motor\n")
    with pytest.raises(ImportRefused, match="no default topic"):
        TopicMap.read(path)
    path.write_text("glass\n* claims\n")
    with pytest.raises(ImportRefused, match="line 1"):
        TopicMap.read(path)
