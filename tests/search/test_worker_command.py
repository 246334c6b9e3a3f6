"""`vouch worker` drains the search outbox and fans out notifications until it is told
to stop."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from tests.factories import People, ask
from tests.search.helpers import hit_ids

pytestmark = [pytest.mark.search, pytest.mark.slow]


def test_the_worker_command_indexes_and_notifies_and_stops_on_sigterm(
    client: TestClient, people: People, settings: Settings
) -> None:
    env = {
        **os.environ,
        "VOUCH_DATABASE_URL": settings.database_url,
        "VOUCH_MEILI_URL": settings.meili_url,
        "VOUCH_MEILI_KEY": settings.meili_key,
        "VOUCH_MEILI_INDEX": settings.meili_index,
    }
    vouch = Path(sys.executable).parent / "vouch"
    worker = subprocess.Popen([str(vouch), "worker"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        expert = people.make("expert", topics=("claims",))
        rep = people.make("rep")
        q = ask(client, rep, "claims", title="Indexed by the worker command")
        deadline = time.monotonic() + 20
        found: list[int] = []
        heard: list[int] = []
        while time.monotonic() < deadline and not (found and heard):
            response = client.get("/search", params={"q": "worker command"}, headers=rep.headers)
            found = hit_ids(response.json())
            inbox = client.get("/notifications", headers=expert.headers).json()["items"]
            heard = [n["question_id"] for n in inbox]
            time.sleep(0.1)
        assert found == [q["id"]]
        assert heard == [q["id"]]
    finally:
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=20)
    assert worker.returncode == 0, err
    assert "search worker" in err
