"""Learning-need signals: the list, their lifecycle steps, the wrong-answer chart."""

from fastapi import APIRouter

router = APIRouter()
