"""Digest and leaderboard pages."""

from fastapi import APIRouter

router = APIRouter()
