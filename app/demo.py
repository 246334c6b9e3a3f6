"""Demo users and content for trying Vouch locally (`vouch demo`).

The users and topics are here; the threads, as data, are in `app/demo_content.py`.
Everything is created through the services, so the audit events, search outbox rows,
reputation and learning-need signals are the ones real use would produce.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import AnyHttpUrl
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.answers.models import Answer
from app.answers.schemas import AnswerCreate, AnswerUpdate
from app.answers.service import cast_vote, create_answer, update_answer
from app.audit.service import AuditContext
from app.comments.service import add_comment
from app.config import Settings
from app.db import utcnow
from app.demo_content import DEMO_RESOURCES, DEMO_THREADS, DemoAnswer, DemoReview, DemoThread
from app.deps import actor_of
from app.questions.models import Question
from app.questions.schemas import QuestionCreate, QuestionUpdate
from app.questions.service import create_question, update_question
from app.resources.models import Resource
from app.resources.schemas import ResourceCreate
from app.resources.service import add_resource
from app.reviews.schemas import ReviewCreate
from app.reviews.service import create_review, flag_answer
from app.signals.models import LearningNeed, SignalKind
from app.signals.service import get_need, transition
from app.topics.models import Topic
from app.topics.schemas import TopicCreate
from app.topics.service import create_topic
from app.users.models import Role, User
from app.users.schemas import UserCreate
from app.users.service import create_user


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    password: str
    roles: tuple[Role, ...]
    expert_topics: tuple[str, ...] = field(default=())


DEMO_TOPICS = (
    TopicCreate(
        slug="claims",
        name="Claims",
        description="Making and settling claims.",
        required_endorsements=1,
        review_interval_days=180,
    ),
    TopicCreate(
        slug="policy-servicing",
        name="Policy servicing",
        description="Changes to cover, renewals, cancellations.",
        required_endorsements=2,
    ),
    TopicCreate(
        slug="complaints", name="Complaints", description="Handling expressions of dissatisfaction."
    ),
    TopicCreate(
        slug="payments",
        name="Payments",
        description="Direct Debits, card payments, instalments and refunds.",
        # Collection rules and payment processes change often: endorsements are re-checked
        # monthly. This short interval is also what lets the demo show stale answers.
        review_interval_days=30,
    ),
    TopicCreate(
        slug="vulnerable-customers",
        name="Vulnerable customers",
        description="Recognising and supporting customers in vulnerable circumstances.",
    ),
)

# Every demo user's password. It meets the password policy: no username inside it (so
# not `demo-<username>-pass`, as it once was), and not a common password.
DEMO_PASSWORD = "vouch-demo-pass"

DEMO_USERS = (
    DemoUser("admin", "Ada Admin", DEMO_PASSWORD, (Role.admin,)),
    DemoUser("alice", "Alice Rep", DEMO_PASSWORD, (Role.rep,)),
    DemoUser("bob", "Bob Rep", DEMO_PASSWORD, (Role.rep,)),
    DemoUser("erin", "Erin Expert", DEMO_PASSWORD, (Role.expert,), ("claims", "complaints")),
    DemoUser("paul", "Paul Expert", DEMO_PASSWORD, (Role.expert,), ("policy-servicing",)),
    DemoUser("carla", "Carla Compliance", DEMO_PASSWORD, (Role.compliance,)),
    DemoUser("fatima", "Fatima Rep", DEMO_PASSWORD, (Role.rep,)),
    DemoUser("george", "George Rep", DEMO_PASSWORD, (Role.rep,)),
    DemoUser("hannah", "Hannah Rep", DEMO_PASSWORD, (Role.rep,)),
    DemoUser(
        "priya", "Priya Expert", DEMO_PASSWORD, (Role.expert,), ("policy-servicing", "payments")
    ),
    DemoUser(
        "nadia",
        "Nadia Expert",
        DEMO_PASSWORD,
        (Role.expert,),
        ("vulnerable-customers", "complaints"),
    ),
    DemoUser("owen", "Owen Expert", DEMO_PASSWORD, (Role.expert,), ("claims", "payments")),
)


class _Seeder:
    """Creates the demo content as its users, through the services, in the caller's session."""

    def __init__(
        self, session: Session, settings: Settings, ctx: AuditContext, started: datetime
    ) -> None:
        self.session, self.settings, self.ctx, self.started = session, settings, ctx, started
        self.topics: dict[str, Topic] = {}
        self.users: dict[str, User] = {}
        self.resources: dict[str, Resource] = {}

    def as_user(self, name: str) -> AuditContext:
        return self.ctx.as_actor(actor_of(self.users[name]))

    def people(self) -> None:
        for data in DEMO_TOPICS:
            self.topics[data.slug] = create_topic(self.session, self.ctx, data)
        for u in DEMO_USERS:
            self.users[u.username] = create_user(
                self.session,
                self.ctx,
                UserCreate(
                    username=u.username,
                    display_name=u.display_name,
                    password=u.password,
                    roles=list(u.roles),
                    expert_topics=list(u.expert_topics),
                ),
            )

    def signposts(self) -> None:
        for r in DEMO_RESOURCES:
            self.resources[r.key] = add_resource(
                self.session,
                self.as_user(r.curator),
                self.users[r.curator],
                self.topics[r.topic],
                ResourceCreate(title=r.title, url=AnyHttpUrl(r.url), description=r.description),
            )

    def thread(self, thread: DemoThread) -> tuple[Question, list[Answer]]:
        """The question and its answers, with edits, votes and flags; no reviews yet."""
        author = self.users[thread.author]
        question = create_question(
            self.session,
            self.as_user(thread.author),
            author,
            QuestionCreate(
                title=thread.title, body=thread.body, topic=thread.topic, tags=list(thread.tags)
            ),
        )
        if thread.revised_title:
            update_question(
                self.session,
                self.as_user(thread.author),
                author,
                question,
                QuestionUpdate(title=thread.revised_title),
            )
        answers = [self.answer(question, a) for a in thread.answers]
        return question, answers

    def answer(self, question: Question, data: DemoAnswer) -> Answer:
        author = self.users[data.author]
        answer = create_answer(
            self.session,
            self.as_user(data.author),
            author,
            question,
            AnswerCreate(body=data.body),
        )
        if data.revised:
            update_answer(
                self.session,
                self.as_user(data.author),
                author,
                answer,
                AnswerUpdate(body=data.revised),
            )
        for name, value in [(n, 1) for n in data.up] + [(n, -1) for n in data.down]:
            cast_vote(self.session, self.as_user(name), self.users[name], answer, value)
        for name, reason in data.flags:
            flag_answer(self.session, self.as_user(name), self.users[name], answer.id, reason)
        return answer

    def review(self, answer: Answer, data: DemoReview) -> None:
        # Staleness: an endorsed answer reads `stale` once its last endorsement (the review's
        # `created_at`, which the service takes from its `now`) is older than the topic's
        # review interval. Moving stored times afterwards (an UPDATE of a review or an
        # answer) would be a change without an audit event, and every derived field (stale
        # at, reputation, signal counts) would have to be faked to match. Instead a stale
        # demo endorsement is given through the review service with an earlier clock, in a
        # topic with a short interval (payments, 30 days) so the clock moves back only a few
        # weeks; the service derives everything else from that one time. The audit event is
        # never backdated: it records truthfully when the demo wrote the review.
        now = self.started - timedelta(days=data.days_ago) if data.days_ago else None
        references: list[int | str] = [
            self.resources[ref].id if ref in self.resources else ref for ref in data.references
        ]
        create_review(
            self.session,
            self.settings,
            self.as_user(data.expert),
            self.users[data.expert],
            answer.id,
            ReviewCreate(
                verdict=data.verdict,
                rationale=data.rationale,
                correction=data.correction,
                references=references,
            ),
            now=now,
        )

    def comments(self, question: Question, thread: DemoThread, answers: list[Answer]) -> None:
        for name, body in thread.comments:
            add_comment(self.session, self.as_user(name), self.users[name], question.id, body)
        for answer, data in zip(answers, thread.answers, strict=True):
            for name, body in data.comments:
                add_comment(
                    self.session,
                    self.as_user(name),
                    self.users[name],
                    question.id,
                    body,
                    answer.id,
                )

    def acknowledge(self, question: Question, expert: str, note: str) -> None:
        need_id = self.session.execute(
            select(LearningNeed.id).where(
                LearningNeed.kind == SignalKind.thread, LearningNeed.question_id == question.id
            )
        ).scalar_one()
        need = get_need(self.session, need_id)
        transition(
            self.session,
            self.as_user(expert),
            self.users[expert],
            need,
            "acknowledge",
            note,
            utcnow(),
        )


def seed(session: Session, settings: Settings, ctx: AuditContext) -> bool:
    """Create the demo topics, users, signposts and threads, with the experts' reviews,
    flags waiting in their queues, and learning needs; False when they already exist.

    Questions and answers keep the time the demo created them: their services stamp the
    clock themselves, and moving the rows afterwards would be a change without an audit
    event. Only the stale endorsements are dated earlier (see `_Seeder.review`).
    """
    if session.execute(select(User.id).where(User.username == "admin")).first():
        return False
    seeder = _Seeder(session, settings, ctx, utcnow())
    seeder.people()
    seeder.signposts()
    threads = [(thread, *seeder.thread(thread)) for thread in DEMO_THREADS]

    # The experts review every thread's answers; endorsements first. A topic's
    # learning-need signal opens when, at any review, its wrong answers reach 40% of those
    # reviewed: the demo keeps every topic under that, while two threads (two wrong
    # answers each) open thread signals.
    reviewed = [
        (answer, data)
        for thread, _, answers in threads
        for answer, data in zip(answers, thread.answers, strict=True)
        if data.reviews
    ]
    reviewed.sort(key=lambda pair: any(r.verdict != "endorse" for r in pair[1].reviews))
    for answer, data in reviewed:
        for review in data.reviews:
            seeder.review(answer, review)

    for thread, question, answers in threads:
        seeder.comments(question, thread, answers)
        if thread.acknowledge:
            seeder.acknowledge(question, *thread.acknowledge)
    return True
