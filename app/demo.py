"""Demo users and content for trying Vouch locally (`vouch demo`)."""

from dataclasses import dataclass, field
from typing import Any

from pydantic import AnyHttpUrl
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.answers.models import Answer
from app.answers.schemas import AnswerCreate
from app.answers.service import cast_vote, create_answer
from app.audit.service import AuditContext
from app.comments.service import add_comment
from app.config import Settings
from app.deps import actor_of
from app.questions.models import Question
from app.questions.schemas import QuestionCreate
from app.questions.service import create_question
from app.resources.schemas import ResourceCreate
from app.resources.service import add_resource
from app.reviews.schemas import ReviewCreate
from app.reviews.service import create_review, flag_answer
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
)

DEMO_USERS = (
    DemoUser("admin", "Ada Admin", "demo-admin-pass", (Role.admin,)),
    DemoUser("alice", "Alice Rep", "demo-alice-pass", (Role.rep,)),
    DemoUser("bob", "Bob Rep", "demo-bob-pass", (Role.rep,)),
    DemoUser("erin", "Erin Expert", "demo-erin-pass", (Role.expert,), ("claims", "complaints")),
    DemoUser("paul", "Paul Expert", "demo-paul-pass", (Role.expert,), ("policy-servicing",)),
    DemoUser("carla", "Carla Compliance", "demo-carla-pass", (Role.compliance,)),
)


def seed(session: Session, settings: Settings, ctx: AuditContext) -> bool:
    """Create the demo topics, users, threads, reviews and an open learning need;
    False when they already exist."""
    if session.execute(select(User.id).where(User.username == "admin")).first():
        return False
    topics = {topic.slug: create_topic(session, ctx, topic) for topic in DEMO_TOPICS}
    users = {
        u.username: create_user(
            session,
            ctx,
            UserCreate(
                username=u.username,
                display_name=u.display_name,
                password=u.password,
                roles=list(u.roles),
                expert_topics=list(u.expert_topics),
            ),
        )
        for u in DEMO_USERS
    }

    def as_user(name: str) -> AuditContext:
        return ctx.as_actor(actor_of(users[name]))

    def ask(name: str, **fields: Any) -> Question:
        return create_question(session, as_user(name), users[name], QuestionCreate(**fields))

    def reply(name: str, question: Question, body: str) -> Answer:
        return create_answer(session, as_user(name), users[name], question, AnswerCreate(body=body))

    def review(name: str, answer: Answer, **verdict: Any) -> None:
        create_review(
            session,
            settings,
            as_user(name),
            users[name],
            answer.id,
            ReviewCreate.model_validate(verdict),
        )

    laptop = ask(
        "alice",
        title="Can a customer claim for accidental damage to a laptop at work?",
        body="Home contents policy with accidental damage cover. The laptop belongs to the "
        "customer but was damaged in the office. Is that covered?",
        topic="claims",
        tags=["contents", "accidental-damage"],
    )
    right = reply(
        "bob",
        laptop,
        "Only if the policy has personal possessions cover: accidental "
        "damage on its own applies inside the home.",
    )
    too_broad = reply(
        "alice",
        laptop,
        "Yes, accidental damage covers everything the customer owns, wherever it is.",
    )
    too_narrow = reply(
        "bob", laptop, "No: laptops are business equipment and never covered by home insurance."
    )
    cast_vote(session, as_user("alice"), users["alice"], right, 1)
    add_comment(
        session,
        as_user("erin"),
        users["erin"],
        laptop.id,
        "Check the schedule for the personal possessions section first.",
        right.id,
    )
    flag_answer(
        session,
        as_user("bob"),
        users["bob"],
        too_broad.id,
        "I think this only applies inside the home.",
    )
    handbook = add_resource(
        session,
        as_user("erin"),
        users["erin"],
        topics["claims"],
        ResourceCreate(
            title="Claims handbook: accidental damage",
            url=AnyHttpUrl("https://intranet.example/claims/accidental-damage"),
            description="What each level of cover pays for.",
        ),
    )
    # Erin validates the thread; its two wrong answers open a learning need.
    review("erin", right, verdict="endorse", references=[handbook.id])
    review(
        "erin",
        too_broad,
        verdict="reject",
        references=[handbook.id],
        rationale="Accidental damage on its own only covers items in the home.",
    )
    review(
        "erin",
        too_narrow,
        verdict="correct",
        rationale="A personally owned laptop can be covered.",
        correction="A personally owned laptop is covered away from home only under personal "
        "possessions cover; check the schedule.",
    )

    cancel = ask(
        "bob",
        title="How many days does a customer have to cancel a new policy?",
        body="A customer bought a policy last week and has changed their mind.",
        topic="policy-servicing",
        tags=["cancellation"],
    )
    cooling_off = reply(
        "alice",
        cancel,
        "There is a 14-day cooling-off period from the start "
        "date or from receiving the documents, whichever is later.",
    )
    # Policy servicing needs two experts: Paul's endorsement leaves it awaiting a second.
    review("paul", cooling_off, verdict="endorse")

    grumble = ask(
        "alice",
        title="When does an expression of dissatisfaction count as a complaint?",
        body="A customer grumbled on the phone but said they did not want to complain.",
        topic="complaints",
        tags=["definition"],
    )
    # Left unreviewed, so Erin's review queue has something in it.
    reply(
        "bob",
        grumble,
        "Any expression of dissatisfaction about the service counts, "
        "whether or not the customer calls it a complaint.",
    )
    return True
