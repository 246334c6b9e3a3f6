"""The API killed with SIGKILL in the middle of a write load loses nothing it answered
for, leaves no thread half-written, and a new process serves at once."""

import time

import httpx
import pytest

from app.config import Settings
from app.db import Database
from tests.factories import People
from tests.faults.load import Load, assert_nothing_lost, summary
from tests.support.served import VouchServer, vouch_env, wait_for

pytestmark = pytest.mark.slow

WRITES_BEFORE_THE_KILL = 100


def test_api_killed_under_write_load_loses_nothing(
    settings: Settings, db: Database, people: People
) -> None:
    people.topic("claims")
    tokens = [people.make("rep").token for _ in range(8)]
    server = VouchServer(vouch_env(settings))
    cold_start = server.start_and_wait()
    load = Load(server.url, tokens, "claims").start()
    try:
        wait_for(lambda: len(load.written()) >= WRITES_BEFORE_THE_KILL, "the load to get going")
        server.kill()  # mid-load: 16 requests are in flight
        killed_at = load.elapsed()
        time.sleep(0.5)
    finally:
        outcomes = load.stop()
        server.kill()
    before = [o for o in outcomes if o.at < killed_at]
    after = [o for o in outcomes if o.at >= killed_at]
    print(f"\nbefore the kill: {summary(before)}; after: {summary(after)}")
    assert not [o for o in outcomes if o.status is not None and o.status >= 500]

    counts = assert_nothing_lost(db, outcomes)
    print(f"checked: {counts}")

    # A new process serves at once: no recovery step, so it starts as fast as the first
    # one did (with room for a loaded machine), says it is ready, and the same load of 16
    # clients gets nothing but 201s and 200s from its first request on.
    restarted = VouchServer(vouch_env(settings))
    try:
        seconds = restarted.start_and_wait()
        ready = httpx.get(f"{restarted.url}/readyz", timeout=10)
        again = Load(restarted.url, tokens, "claims").start()
        wait_for(lambda: len(again.written()) >= WRITES_BEFORE_THE_KILL, "the load on the new one")
        resumed = again.stop()
    finally:
        restarted.kill()
    print(
        f"cold start {cold_start:.1f} s; restarted and serving in {seconds:.1f} s: "
        f"{summary(resumed)}"
    )
    assert seconds <= max(3 * cold_start, 10.0), (cold_start, seconds)
    assert ready.status_code == 200 and ready.json()["database"] == "ok", ready.text
    assert {o.status for o in resumed} <= {200, 201}, summary(resumed)
    assert_nothing_lost(db, [*outcomes, *resumed])
