"""Imports every model so `Base.metadata` knows the whole schema (Alembic, tests)."""

from app.answers.models import Answer, AnswerRevision, Vote
from app.audit.models import AuditEvent, AuditHead
from app.auth.models import ApiToken, LoginAttempt
from app.comments.models import Comment
from app.db import Base
from app.importer.models import ImportedRecord
from app.limits.models import WriteCounter
from app.notifications.models import Notification, NotificationOutboxEntry
from app.outbox.models import OutboxEntry
from app.questions.models import Question, QuestionRevision, QuestionTag
from app.recognition.models import ReputationEvent, TopicReputation
from app.resources.models import Resource
from app.reviews.models import Flag, Review
from app.signals.models import LearningNeed, LearningNeedEvent
from app.topics.models import Topic
from app.users.models import User, user_expert_topics

__all__ = [
    "Answer",
    "AnswerRevision",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Comment",
    "Flag",
    "ImportedRecord",
    "LearningNeed",
    "LearningNeedEvent",
    "LoginAttempt",
    "Notification",
    "NotificationOutboxEntry",
    "OutboxEntry",
    "Question",
    "QuestionRevision",
    "QuestionTag",
    "ReputationEvent",
    "Resource",
    "Review",
    "Topic",
    "TopicReputation",
    "User",
    "Vote",
    "WriteCounter",
    "user_expert_topics",
]
