"""The experts' review queue and the review forms."""

from fastapi import APIRouter

router = APIRouter()
