"""`vouch import stackexchange`: what a dump becomes, bad input, and running it again."""

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.answers.models import Answer
from app.audit.service import verify_chain
from app.comments.models import Comment
from app.config import Settings
from app.db import Database
from app.importer.models import ImportedRecord
from app.questions.models import Question
from app.reviews.models import Review
from app.topics.models import Topic
from app.users.models import User
from tests.factories import People
from tests.importer.helpers import DUMP, SHARED, copy_dump, counts, run_import
from tests.search.helpers import search


def _questions(db: Database) -> dict[str, Question]:
    with db.session(write=False) as session:
        return {q.title: q for q in session.execute(select(Question)).scalars()}


def _answers(db: Database) -> dict[str, Answer]:
    with db.session(write=False) as session:
        return {a.body.split("\n")[0]: a for a in session.execute(select(Answer)).scalars()}


def _user(db: Database, display_name: str) -> User:
    with db.session(write=False) as session:
        return session.execute(select(User).where(User.display_name == display_name)).scalar_one()


def test_a_dump_becomes_threads_with_their_people_times_and_status(
    import_env: None, db: Database, client: TestClient, people: People
) -> None:
    result = run_import(str(DUMP), "--topic", "claims")

    assert result.exit_code == 0, result.output
    questions = _questions(db)
    laptop = questions["Is a dropped laptop covered under home contents?"]
    assert laptop.tags == ["home-contents", "accidental-damage", "laptops"]
    assert laptop.created_at.isoformat() == "2021-03-01T10:00:00+00:00"
    assert laptop.updated_at.isoformat() == "2021-03-05T12:00:00+00:00"
    assert "```\npolicy: HC-2021\ncover: contents\n```" in laptop.body
    assert "**laptop**" in laptop.body
    assert questions["Windscreen excess?"].status == "closed"
    assert questions["Windscreen excess?"].tags == ["motor", "glass"]
    ski = questions["Ski cover (imported)"]
    assert ski.tags == ["travel", "winter-sports", "ski", "europe", "add-ons"]

    answers = _answers(db)
    handbook = answers[
        "Yes, if the policy has the accidental damage add-on. "
        "See [the claims handbook](https://intranet.example/claims)."
    ]
    assert handbook.score == 7
    assert handbook.created_at.isoformat() == "2021-03-01T11:00:00+00:00"
    assert answers["The glass excess in the schedule, usually `£75`."].score == 2

    # People: inactive, no password, their names kept; authors without an account too.
    priya = _user(db, "Priya Claims")
    assert priya.active is False and priya.roles == ["rep"]
    assert _user(db, "Deleted Dave").active is False
    assert (
        _user(db, "Unknown author").id
        == answers["The glass excess in the schedule, usually `£75`."].author_id
    )
    token = client.post("/auth/token", json={"username": priya.username, "password": "!"})
    assert token.status_code == 401

    reader = people.make("rep")
    thread = client.get(f"/questions/{laptop.id}", headers=reader.headers).json()
    assert [c["body"] for c in thread["comments"]] == ["Which policy wording is this?"]
    by_body = {a["body"]: a for a in thread["answers"]}
    assert by_body[handbook.body]["comments"][0]["body"] == (
        "Check the schedule for the add-on first."
    )
    assert by_body[handbook.body]["comments"][0]["created_at"].startswith("2021-03-01T11:30")


def test_an_accepted_answer_is_endorsed_by_the_importer_and_the_thread_resolved(
    import_env: None, db: Database
) -> None:
    assert run_import(str(DUMP), "--topic", "claims").exit_code == 0

    with db.session(write=False) as session:
        review = session.execute(select(Review)).scalar_one()
        answer = session.get_one(Answer, review.answer_id)
        question = session.get_one(Question, answer.question_id)
        importer = session.get_one(User, review.reviewer_id)
    assert review.verdict == "endorse"
    assert review.rationale == "Accepted answer on insurance."
    assert answer.state == "endorsed" and answer.body.startswith("Yes, if the policy")
    assert question.status == "resolved"
    assert importer.username == "importer" and importer.active is False
    assert "expert" in importer.roles


@pytest.mark.search
def test_imported_threads_are_searchable_when_the_command_ends(
    import_env: None, client: TestClient, people: People
) -> None:
    result = run_import(str(DUMP), "--topic", "claims")

    assert result.exit_code == 0, result.output
    assert "every imported thread is indexed" in result.output
    found = search(client, people.make("rep"), q="dropped laptop")
    hit = found["hits"][0]
    assert hit["title"] == "Is a dropped laptop covered under home contents?"
    assert hit["validated"] is True
    assert search(client, people.make("rep"), q="windscreen")["hits"][0]["validated"] is False


def test_a_second_run_adds_nothing_and_says_so(
    import_env: None, db: Database, settings: Settings
) -> None:
    assert run_import(str(DUMP), "--topic", "claims").exit_code == 0
    before = counts(db)

    again = run_import(str(DUMP), "--topic", "claims")

    assert again.exit_code == 0, again.output
    assert counts(db) == before
    lines = {line.split("│")[1].strip(): line for line in again.output.splitlines() if "│" in line}
    assert lines["questions"].split("│")[2].strip() == "0"  # imported
    assert lines["questions"].split("│")[3].strip() == "3"  # already present
    assert lines["answers"].split("│")[3].strip() == "4"
    with db.session(write=False) as session:
        assert verify_chain(session).ok


def test_rows_that_break_a_rule_are_rejected_and_counted(import_env: None, db: Database) -> None:
    result = run_import(str(DUMP), "--topic", "claims")

    assert result.exit_code == 0
    output = " ".join(result.output.split())
    assert "empty body: 1" in output  # the question with a blank body
    assert "title over 200 characters: 1" in output
    assert "bad id: 1" in output  # the question with id -9
    assert "unknown or rejected question: 1" in output  # the answer to post 999
    assert "unknown or rejected post: 1" in output  # the comment on post 999
    assert "empty text: 1" in output
    assert "skipped: migrated post" in output and "skipped: post type 4" in output
    titles = set(_questions(db))
    assert "A question whose body is empty" not in titles
    assert "A question that was migrated away" not in titles
    assert "A question with a negative id" not in titles
    with db.session(write=False) as session:
        orphans = session.execute(
            select(Answer.id)
            .outerjoin(Question, Question.id == Answer.question_id)
            .where(Question.id.is_(None))
        ).all()
    assert orphans == []


def test_script_iframes_and_javascript_links_import_as_harmless_text(
    import_env: None, db: Database, pages: TestClient, people: People
) -> None:
    from tests.web.helpers import sign_in

    assert run_import(str(DUMP), "--topic", "claims").exit_code == 0
    hostile = _answers(db)["Never covered."]

    assert "script" not in hostile.body and "stolen" not in hostile.body
    assert "iframe" not in hostile.body and "evil.example" not in hostile.body
    assert "javascript:" not in hostile.body
    assert "click here" in hostile.body
    assert "![proof](https://img.example/proof.png)" in hostile.body
    sign_in(pages, people.make("rep").username)
    html = pages.get(f"/questions/{hostile.question_id}").text
    assert "<script>alert" not in html and "<img" not in html
    assert re.search(r'<a href="https://img.example/proof.png"[^>]*>\[image: proof\]</a>', html)


def test_a_topic_map_sends_each_question_to_the_first_topic_matching_its_tags(
    import_env: None, db: Database, tmp_path: Path
) -> None:
    topic_map = tmp_path / "topics.txt"
    topic_map.write_text(
        "# tag topic\nglass motor\nMotor motor\nwinter-sports travel\n* claims\n",
        encoding="utf-8",
    )

    result = run_import(str(DUMP), "--topic-map", str(topic_map))

    assert result.exit_code == 0, result.output
    with db.session(write=False) as session:
        topic_of = dict(
            session.execute(select(Question.title, Topic.slug).join(Question.topic)).all()
        )
        importer = session.execute(select(User).where(User.username == "importer")).scalar_one()
        session.refresh(importer, ["expert_topics"])
        expert_of = sorted(t.slug for t in importer.expert_topics)
    assert topic_of == {
        "Is a dropped laptop covered under home contents?": "claims",
        "Windscreen excess?": "motor",
        "Ski cover (imported)": "travel",
    }
    assert expert_of == ["claims", "motor", "travel"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-folder", "--topic", "claims"], "no such directory"),
        (["EMPTY", "--topic", "claims"], "no Posts.xml"),
        ([str(DUMP), "--topic", "no-such-topic"], "unknown topic: no-such-topic"),
        ([str(DUMP)], "give exactly one of --topic or --topic-map"),
        ([str(DUMP), "--topic-map", "no-such-map.txt"], "no such topic map file"),
    ],
)
def test_an_import_that_cannot_start_says_why_and_writes_nothing(
    import_env: None, db: Database, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "EMPTY").mkdir()
    args = [str(tmp_path / "EMPTY") if a == "EMPTY" else a for a in args]
    before = counts(db)

    result = run_import(*args)

    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert counts(db) == before


def test_malformed_xml_keeps_the_batches_before_it_and_the_next_run_resumes(
    import_env: None, db: Database, settings: Settings, tmp_path: Path
) -> None:
    dump = copy_dump(tmp_path / "insurance")
    posts = dump / "Posts.xml"
    good = posts.read_bytes()
    cut = good.index(b'  <row Id="12"')
    posts.write_bytes(good[:cut] + b'  <row Id="12" Title="broken <\n' + good[cut:])

    broken = run_import(str(dump), "--topic", "claims", "--batch-size", "1")

    assert broken.exit_code == 1
    assert "Posts.xml: malformed XML at line 14, column 30" in " ".join(broken.output.split())
    assert "Is a dropped laptop covered under home contents?" in _questions(db)
    assert "Ski cover (imported)" not in _questions(db)
    with db.session(write=False) as session:
        assert verify_chain(session).ok

    posts.write_bytes(good)
    fixed = run_import(str(dump), "--topic", "claims", "--batch-size", "1")

    assert fixed.exit_code == 0, fixed.output
    assert len(_questions(db)) == 3 and len(_answers(db)) == 4
    with db.session(write=False) as session:
        records = session.execute(select(ImportedRecord.kind, ImportedRecord.source_id)).all()
        assert len(records) == len(set(records))
        assert len(session.execute(select(Comment.id)).all()) == 3
        assert verify_chain(session).ok


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs the shared Stack Exchange dumps")
def test_a_real_dump_imports_every_question_and_answer_it_holds(
    import_env: None, db: Database
) -> None:
    from xml.etree.ElementTree import parse

    dump = SHARED / "conlang-meta"
    posts = [r.attrib for r in parse(dump / "Posts.xml").getroot()]
    comments = parse(dump / "Comments.xml").getroot()

    result = run_import(str(dump), "--topic", "claims")

    assert result.exit_code == 0, result.output
    with db.session(write=False) as session:
        imported = dict(
            session.execute(
                select(ImportedRecord.kind, func.count()).group_by(ImportedRecord.kind)
            ).all()
        )
        accepted = session.execute(select(func.count()).select_from(Review)).scalar_one()
        assert verify_chain(session).ok
    question_ids = {p["Id"] for p in posts if p["PostTypeId"] == "1"}
    answers = [p for p in posts if p["PostTypeId"] == "2" and p["ParentId"] in question_ids]
    assert imported["question"] == len(question_ids)
    assert imported["answer"] == len(answers)
    assert imported["comment"] == len(comments)
    answer_ids = {a["Id"] for a in answers}
    assert accepted == sum(
        1 for p in posts if p["PostTypeId"] == "1" and p.get("AcceptedAnswerId") in answer_ids
    )


def test_a_person_named_importer_is_never_made_the_import_account(
    import_env: None, db: Database, people: People
) -> None:
    person = people.make("rep", username="importer")
    before = counts(db)

    result = run_import(str(DUMP), "--topic", "claims")

    assert result.exit_code == 2
    assert "is not the import account" in " ".join(result.output.split())
    assert counts(db) == before
    with db.session(write=False) as session:
        assert session.get_one(User, person.id).roles == ["rep"]


def test_the_import_account_is_reused_by_later_imports(
    import_env: None, db: Database, tmp_path: Path
) -> None:
    assert run_import(str(DUMP), "--topic", "claims").exit_code == 0
    other = copy_dump(tmp_path / "other-site")

    result = run_import(str(other), "--topic", "motor")

    assert result.exit_code == 0, result.output
    with db.session(write=False) as session:
        importers = session.execute(select(User).where(User.username == "importer")).all()
        sites = set(session.execute(select(ImportedRecord.site)).scalars())
    assert len(importers) == 1
    assert sites == {"importer", "insurance", "other-site"}
    assert len([t for t in _questions(db) if t.startswith("Is a dropped laptop")]) == 1


def _odd_dump(folder: Path) -> Path:
    from tests.importer.helpers import row

    folder.mkdir()
    question = {
        "PostTypeId": 1,
        "CreationDate": "2022-01-01T00:00:00.000",
        "Body": "<p>What does the policy say about this?</p>",
    }
    posts = [
        row({**question, "Id": " 5", "Title": "Spaces around the id", "OwnerUserId": " 7"}),
        row({**question, "Id": "5", "Title": "The same id again, in the same batch"}),
        row({**question, "Id": "²", "Title": "A superscript digit as its id"}),
        row({**question, "Id": "9" * 5000, "Title": "An id of five thousand digits"}),
        row({**question, "Id": "6", "Title": "A long tag", "Tags": "<" + "x" * 40 + ">"}),
        row(
            {
                "Id": 7,
                "PostTypeId": 2,
                "ParentId": "05",
                "Score": "9" * 30,
                "Body": "<p>An answer with a huge score.</p>",
                "OwnerUserId": 7,
            }
        ),
        row({"Id": 8, "PostTypeId": 2, "Body": "<p>An answer without a parent.</p>"}),
    ]
    users = [row({"Id": " 7", "DisplayName": "Spaced"}), row({"Id": "7", "DisplayName": "Twin"})]
    for name, root, lines in (("Posts.xml", "posts", posts), ("Users.xml", "users", users)):
        (folder / name).write_text(
            f'<?xml version="1.0" encoding="utf-8"?>\n<{root}>\n'
            + "\n".join(lines)
            + f"\n</{root}>\n",
            encoding="utf-8",
        )
    return folder


def test_odd_ids_scores_and_tags_are_rejected_or_kept_never_a_crash(
    import_env: None, db: Database, tmp_path: Path
) -> None:
    dump = _odd_dump(tmp_path / "odd")

    first = run_import(str(dump), "--topic", "claims")
    second = run_import(str(dump), "--topic", "claims")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    questions = _questions(db)
    assert set(questions) == {"Spaces around the id", "A long tag"}
    assert questions["A long tag"].tags == ["x" * 32]
    answer = _answers(db)["An answer with a huge score."]
    assert answer.score == 2_147_483_647
    assert answer.question_id == questions["Spaces around the id"].id
    assert _user(db, "Spaced").id == answer.author_id
    output = " ".join(first.output.split())
    assert "bad id: 2" in output
    assert "unknown or rejected question: 1" in output


def test_answers_to_a_question_deleted_since_its_import_are_rejected(
    import_env: None, db: Database, client: TestClient, people: People, tmp_path: Path
) -> None:
    dump = copy_dump(tmp_path / "insurance")
    posts = dump / "Posts.xml"
    full = posts.read_text(encoding="utf-8")
    answers_out = "\n".join(line for line in full.splitlines() if 'PostTypeId="2"' not in line)
    posts.write_text(answers_out, encoding="utf-8")
    assert run_import(str(dump), "--topic", "claims").exit_code == 0
    laptop = _questions(db)["Is a dropped laptop covered under home contents?"]
    admin = people.make("admin")
    assert client.delete(f"/questions/{laptop.id}", headers=admin.headers).status_code == 204

    posts.write_text(full, encoding="utf-8")
    result = run_import(str(dump), "--topic", "claims")

    assert result.exit_code == 0, result.output
    with db.session(write=False) as session:
        on_deleted = session.execute(select(Answer.id).where(Answer.question_id == laptop.id)).all()
    assert on_deleted == []
    assert "unknown or rejected question: 3" in " ".join(result.output.split())
