"""A 200 from ``/v1/batch`` means durable: SIGKILL the server right after one, restart it, and every
acknowledged message id is in the lake exactly once."""

from __future__ import annotations

import collections
import json
import threading
import uuid
from pathlib import Path

import httpx
import pytest
from tests.e2e.test_api_serve import Server, prepared_home

from newretail.lake import Lake

SENDERS = 4
PER_BATCH = 20
KILL_AFTER = 60  # acknowledged batches, across the senders


@pytest.mark.slow
def test_kill_9_after_a_200_loses_no_acknowledged_event(isolated_home: Path) -> None:
    keys = prepared_home(isolated_home)
    server = Server(isolated_home).start()
    acknowledged: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def send(sender: int) -> None:
        with httpx.Client(base_url=server.url, auth=(keys.write, ""), timeout=10) as client:
            n = 0
            while not killed.is_set():
                ids = [f"s{sender}-{n}-{i}-{uuid.uuid4().hex[:6]}" for i in range(PER_BATCH)]
                batch = [
                    {"type": "track", "messageId": m, "userId": f"u{sender}", "event": "Tick"}
                    for m in ids
                ]
                try:
                    response = client.post("/v1/batch", content=json.dumps({"batch": batch}))
                except httpx.TransportError:
                    return  # the server died with this request in flight: not acknowledged
                assert response.status_code == 200, response.text
                with lock:
                    acknowledged.extend(ids)
                    if len(acknowledged) >= KILL_AFTER * PER_BATCH and not killed.is_set():
                        server.kill()  # right after this 200, with the others still sending
                        killed.set()
                n += 1

    threads = [threading.Thread(target=send, args=(s,)) for s in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert killed.is_set() and len(acknowledged) >= KILL_AFTER * PER_BATCH

    restarted = Server(isolated_home).start()
    restarted.stop()  # shutdown drains the stream into the lake

    lake = Lake(isolated_home / "lake")
    ids = [
        message_id
        for partition in lake.partitions("ods", "app_events")
        for message_id in lake.read_partition("ods", "app_events", partition)
        .column("message_id")
        .to_pylist()
    ]
    counts = collections.Counter(ids)
    missing = [m for m in acknowledged if m not in counts]
    assert missing == []
    assert [m for m, n in counts.items() if n > 1] == []
    assert lake.leftover_temporaries() == []
