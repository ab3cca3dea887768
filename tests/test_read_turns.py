"""``ReadTurns``: the relays' readers share the event loop in slices (``server/transport.py``)."""

from __future__ import annotations

import asyncio
import time

from jupyter_bgjobs.server.transport import ReadTurns


def work(seconds: float) -> None:
    """Hold the loop as a reader's work on a message does."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_reader_past_its_slice_waits_for_the_next_loop_iteration() -> None:
    turns = ReadTurns(slice_seconds=0.01)
    order: list[str] = []

    async def main() -> None:
        await turns.next_turn()  # opens the slice of this iteration
        asyncio.get_running_loop().call_soon(order.append, "other work")
        await turns.next_turn()  # within the slice: at once
        order.append("reader, in the slice")
        work(0.02)  # the reader's work outlasts the slice
        await turns.next_turn()  # past it: the other work runs first
        order.append("reader, next slice")

    asyncio.run(main())
    assert order == ["reader, in the slice", "other work", "reader, next slice"]


def test_a_slice_left_open_by_a_loop_that_stopped_does_not_hold_the_next_loop() -> None:
    turns = ReadTurns(slice_seconds=0.01)
    stopped = asyncio.new_event_loop()

    async def open_a_slice_and_stop() -> None:
        await turns.next_turn()
        work(0.02)
        stopped.stop()  # the loop ends with this iteration: the slice's end never runs

    task = stopped.create_task(open_a_slice_and_stop())
    stopped.run_forever()
    assert task.done()
    stopped.close()
    began = time.monotonic()
    asyncio.run(asyncio.wait_for(turns.next_turn(), 1.0))
    assert time.monotonic() - began < 0.5
