"""Acknowledged means durable: a writer killed with SIGKILL mid-stream loses no acknowledged event."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.unit.stream.backends import REDIS_URL, Backend
from tests.unit.stream.backends import backend as backend

from newretail.ingest.events import StoredEvent, flush
from newretail.lake.storage import Lake

# Four threads append batches of five and print each id once accept() has returned.
WRITER = """
import datetime as dt, json, sys, threading
from newretail.config import get_settings
from newretail.ingest.events import accept
from newretail.stream import open_stores

stores = open_stores(get_settings(), prefix=sys.argv[1])
received = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
out = threading.Lock()

def writer(w):
    n = 0
    while True:
        ids = [f"w{w}-{n}-{i}" for i in range(5)]
        batch = [{"type": "track", "messageId": m, "userId": f"u{w}", "event": "Tick"} for m in ids]
        accept(json.dumps({"batch": batch}).encode(), endpoint="batch", source="app",
               received_at=received, log=stores.log, dedupe=stores.dedupe)
        with out:
            sys.stdout.write("".join(m + "\\n" for m in ids))
            sys.stdout.flush()
        n += 1

for w in range(4):
    threading.Thread(target=writer, args=(w,), daemon=True).start()
threading.Event().wait()
"""


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_event(backend: Backend, isolated_home: Path) -> None:
    env = {**os.environ, "NEWRETAIL_HOME": str(isolated_home)}
    if backend.name == "redis":
        env["NEWRETAIL_REDIS_URL"] = REDIS_URL
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, backend.prefix], stdout=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None
    acknowledged: list[str] = []
    for line in proc.stdout:
        acknowledged.append(line.decode().strip())
        if len(acknowledged) >= 2_000:
            break
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=30)
    # Only whole lines: a line cut by the kill was still acknowledged, so it is checked too if whole.
    acknowledged += [line for line in rest.decode().split("\n")[:-1] if line]
    assert proc.returncode == -signal.SIGKILL

    restarted = backend.reopen()
    try:
        logged = [
            StoredEvent.from_bytes(e.payload).message_id
            for e in restarted.log.read("check", "c", count=1_000_000)
        ]
        assert set(acknowledged) <= set(logged)
        assert len(logged) == len(set(logged))
        lake = Lake(isolated_home / "lake")
        flush(log=restarted.log, lake=lake, consumer="after-crash")
        in_lake = [
            row["message_id"]
            for partition in lake.partitions("ods", "app_events")
            for row in lake.read_partition("ods", "app_events", partition).to_pylist()
        ]
        assert len(in_lake) == len(set(in_lake))
        assert set(acknowledged) <= set(in_lake)
    finally:
        restarted.close()
