"""The watcher's queue of changed paths: how a burst becomes batches."""

from __future__ import annotations

import threading
import time

from ingest.debounce import ChangeQueue


def test_a_burst_still_arriving_makes_a_full_first_batch_not_a_handful() -> None:
    """Files moved in arrive as "created" events, each due a little later. Many queued but
    not yet due must not end the gathering: the first batch would be the few that were due."""
    queue = ChangeQueue(gather=0.05, max_gather=2.0, max_batch=10)
    queue.put("due-now")
    for n in range(30):
        queue.put(f"early-{n}", delay=0.04)
    stop = threading.Event()

    def keep_arriving() -> None:
        n = 0
        while not stop.is_set():
            queue.put(f"late-{n}", delay=0.04)
            n += 1
            time.sleep(0.002)

    producer = threading.Thread(target=keep_arriving)
    producer.start()
    try:
        batch = queue.get_batch(timeout=5)
    finally:
        stop.set()
        producer.join()
    assert len(batch) == 10
    assert batch[0] == "due-now"
