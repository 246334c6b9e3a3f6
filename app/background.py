"""A worker's loop in a daemon thread of the API process (the local set-up), and what
the workers' retries share."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


class BackgroundLoop:
    """Runs `loop(stop)` in a daemon thread; `stop()` sets the event and waits for the
    loop to end its current batch."""

    def __init__(self, loop: Callable[[threading.Event], None], name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=loop, args=(self._stop,), name=name, daemon=True)

    def start(self) -> "BackgroundLoop":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def backoff(first: float, attempts: int, cap: float) -> float:
    """Seconds to wait after `attempts` failed tries: `first`, doubling, at most `cap`."""
    return float(min(cap, first * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Backlog:
    """Rows a worker has still to handle, and since when the longest-waiting of them has
    been due (None when there are none)."""

    rows: int
    oldest: datetime | None

    def age_seconds(self, now: datetime) -> float:
        """How long the oldest row has waited; 0 with nothing waiting."""
        return max(0.0, (now - self.oldest).total_seconds()) if self.oldest else 0.0
