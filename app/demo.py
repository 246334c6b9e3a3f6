"""Demo users and content for trying Vouch locally (`vouch demo`)."""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.answers.schemas import AnswerCreate
from app.answers.service import cast_vote, create_answer
from app.audit.service import AuditContext
from app.comments.service import add_comment
from app.deps import actor_of
from app.questions.schemas import QuestionCreate
from app.questions.service import create_question
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


def seed(session: Session, ctx: AuditContext) -> bool:
    """Create the demo topics, users and a few threads; False when they already exist."""
    if session.execute(select(User.id).where(User.username == "admin")).first():
        return False
    for topic in DEMO_TOPICS:
        create_topic(session, ctx, topic)
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

    q1 = create_question(
        session,
        as_user("alice"),
        users["alice"],
        QuestionCreate(
            title="Can a customer claim for accidental damage to a laptop at work?",
            body="Home contents policy with accidental damage cover. The laptop belongs to the "
            "customer but was damaged in the office. Is that covered?",
            topic="claims",
            tags=["contents", "accidental-damage"],
        ),
    )
    a1 = create_answer(
        session,
        as_user("bob"),
        users["bob"],
        q1,
        AnswerCreate(
            body="Only if the policy has personal possessions cover: accidental damage on its own "
            "applies inside the home.",
        ),
    )
    create_answer(
        session,
        as_user("alice"),
        users["alice"],
        q1,
        AnswerCreate(
            body="Yes, accidental damage covers everything the customer owns, wherever it is.",
        ),
    )
    cast_vote(session, as_user("alice"), users["alice"], a1, 1)
    add_comment(
        session,
        as_user("erin"),
        users["erin"],
        q1.id,
        "Check the schedule for the personal possessions section first.",
        a1.id,
    )

    q2 = create_question(
        session,
        as_user("bob"),
        users["bob"],
        QuestionCreate(
            title="How many days does a customer have to cancel a new policy?",
            body="A customer bought a policy last week and has changed their mind.",
            topic="policy-servicing",
            tags=["cancellation"],
        ),
    )
    create_answer(
        session,
        as_user("alice"),
        users["alice"],
        q2,
        AnswerCreate(
            body="There is a 14-day cooling-off period from the start date or from receiving the "
            "documents, whichever is later.",
        ),
    )
    create_question(
        session,
        as_user("alice"),
        users["alice"],
        QuestionCreate(
            title="When does an expression of dissatisfaction count as a complaint?",
            body="A customer grumbled on the phone but said they did not want to complain.",
            topic="complaints",
            tags=["definition"],
        ),
    )
    return True
