"""The load benchmark in a reduced form: a few dozen users of every kind for a few seconds against two server
workers on PostgreSQL. Only correctness is checked — every acknowledged write is in the database once and
nothing is half-written — never a time (`make bench` runs benchmarks/load.py with 1,000 users and prints them).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from benchmarks.load import Mix, run_load


@pytest.mark.postgres
def test_many_users_at_once_lose_and_double_nothing(postgres_url: str) -> None:
    mix = Mix(call_takers=4, dispatchers=2, responders=5, boards=10, readers=9, call_taker_think=(0.2, 1.0),
              dispatcher_think=(0.1, 0.4), responder_think=(0.1, 0.5), reader_think=(0.5, 2.0))
    # A thread of its own: the browser tests' Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        stats, _, findings, ledger = thread.submit(run_load, postgres_url, mix=mix, seconds=6, workers=2,
                                                   log=lambda _: None).result()
    assert findings.problems == []
    assert stats.errors == [] and stats.stream_errors == []
    assert stats.streams_open == mix.boards + mix.responders
    assert len(ledger.calls) >= 4 and ledger.responses and ledger.steps  # every kind of user did write
