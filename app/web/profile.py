"""A person's profile: reputation, questions and answers with the experts' verdicts."""

from fastapi import APIRouter

router = APIRouter()
