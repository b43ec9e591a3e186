"""Throughput of the event-intake core: accept() of single events and of batches of 100, per backend.

Not a test. Prints medians of 3 runs and writes the ``events_core`` section of bench/RESULTS.md.
Run: ``.venv/bin/python bench/events_core.py`` (the Redis half needs Redis at 127.0.0.1:6379).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from newretail.config import Settings
from newretail.ingest.events import accept
from newretail.stream import Stores, open_stores
from results import machine, update_section

REDIS_URL = "redis://127.0.0.1:6379/0"
RECEIVED = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
EVENTS_PER_RUN = 20_000
THREADS = 8  # request handlers appending at once, as a threaded server would


def _message(n: str) -> dict[str, object]:
    return {
        "type": "track",
        "messageId": n,
        "userId": "u-123",
        "event": "Product Viewed",
        "properties": {"product_id": "P42", "store_id": "S7", "price": 2800},
        "context": {"library": {"name": "analytics-python", "version": "2.3.4"}},
        "timestamp": "2026-11-23T09:59:58.123Z",
    }


def _bodies(per_request: int, run: str) -> list[bytes]:
    if per_request == 1:
        return [json.dumps(_message(f"{run}-{i}")).encode() for i in range(EVENTS_PER_RUN)]
    return [
        json.dumps({"batch": [_message(f"{run}-{i}-{j}") for j in range(per_request)]}).encode()
        for i in range(EVENTS_PER_RUN // per_request)
    ]


def _run(stores: Stores, per_request: int, threads: int) -> float:
    """Events per second through accept() (validate, dedupe, durable append, counters)."""
    bodies = _bodies(per_request, uuid.uuid4().hex)
    endpoint = "track" if per_request == 1 else "batch"
    chunks = [bodies[i::threads] for i in range(threads)]

    def work(chunk: list[bytes]) -> None:
        for body in chunk:
            accept(
                body,
                endpoint=endpoint,
                source="app",
                received_at=RECEIVED,
                log=stores.log,
                dedupe=stores.dedupe,
                counters=stores.counters,
            )

    pool = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return EVENTS_PER_RUN / (time.perf_counter() - start)


def _median(open_: Callable[[], Stores], per_request: int, threads: int) -> float:
    rates = []
    for _ in range(3):
        stores = open_()
        try:
            rates.append(_run(stores, per_request, threads))
        finally:
            stores.close()
    return statistics.median(rates)


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL).ping()
    except Exception:
        return False
    return True


def _clean_redis(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=10_000))
    for i in range(0, len(keys), 10_000):
        client.delete(*keys[i : i + 10_000])


def main() -> None:
    lines = [
        "## Event intake core (bench/events_core.py)",
        "",
        f"Machine: {machine()}.",
        f"accept() end to end (parse, validate, dedupe, durable append, counters), {EVENTS_PER_RUN:,} "
        "events per run, median of 3 runs, events/s.",
        "",
        "| backend | request | 1 thread | 8 threads |",
        "| --- | --- | ---: | ---: |",
    ]
    with tempfile.TemporaryDirectory() as home:
        backends: list[tuple[str, Callable[[], Stores], str]] = [
            ("embedded", lambda: open_stores(Settings(home=Path(home))), "")
        ]
        prefix = f"nrbench:{uuid.uuid4().hex}:"
        if _redis_available():
            settings = Settings(home=Path(home), redis_url=REDIS_URL)
            backends.append(("redis", lambda: open_stores(settings, prefix=prefix), prefix))
        else:
            print("Redis not reachable at 127.0.0.1:6379: Redis rows skipped")
        for name, open_, _ in backends:
            for per_request, label in ((1, "single event"), (100, "batch of 100")):
                one = _median(open_, per_request, 1)
                many = _median(open_, per_request, THREADS)
                row = f"| {name} | {label} | {one:,.0f} | {many:,.0f} |"
                print(row, flush=True)
                lines.append(row)
        if len(backends) > 1:
            _clean_redis(prefix)
    update_section("events_core", "\n".join(lines))


if __name__ == "__main__":
    main()
