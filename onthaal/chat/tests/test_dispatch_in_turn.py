"""How a consumer takes turns between its client's frames and its channel
layer's events (``_dispatch_in_turn``): one event at a time, a client's
next frame read only after its last was handled, and the first failure
ends the socket's tasks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from onthaal.chat.consumers import _dispatch_in_turn


class Frames:
    """A client's frames, as uvicorn's ``receive`` hands them out."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reads = 0

    async def receive(self) -> dict[str, Any]:
        event = await self.queue.get()
        self.reads += 1
        return event


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_one_event_at_a_time_and_the_next_frame_only_after_the_last() -> None:
    frames, inbox = Frames(), asyncio.Queue()
    release = asyncio.Event()
    running: list[str] = []
    log: list[str] = []

    async def dispatch(event: dict[str, Any]) -> None:
        running.append(event["name"])
        assert len(running) == 1, f"two at once: {running}"
        log.append(f"start {event['name']}")
        if event["name"] == "slow frame":
            await release.wait()
        log.append(f"end {event['name']}")
        running.remove(event["name"])
        if event["name"] == "stop":
            raise RuntimeError("stop")

    task = asyncio.create_task(_dispatch_in_turn([(frames.receive, True)], dispatch, inbox))
    frames.queue.put_nowait({"name": "slow frame"})
    await _settle()
    frames.queue.put_nowait({"name": "second frame"})
    inbox.put_nowait({"name": "layer event"})
    await _settle()
    # The slow frame holds its turn: the layer event waits, and the second
    # frame is not even read.
    assert log == ["start slow frame"]
    assert frames.reads == 1

    release.set()
    await _settle()
    assert log == [
        "start slow frame",
        "end slow frame",
        "start layer event",
        "end layer event",
        "start second frame",
        "end second frame",
    ]
    inbox.put_nowait({"name": "stop"})
    with pytest.raises(RuntimeError, match="stop"):
        await task


@pytest.mark.parametrize("failing", ["frame", "layer event"])
async def test_a_failure_in_either_ends_the_others(failing: str) -> None:
    frames, inbox = Frames(), asyncio.Queue()
    layer: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    cancelled: list[str] = []

    async def layer_receive() -> dict[str, Any]:
        try:
            return await layer.get()
        except asyncio.CancelledError:
            cancelled.append("layer reader")
            raise

    async def dispatch(event: dict[str, Any]) -> None:
        if event["name"] == failing:
            raise ValueError(failing)

    task = asyncio.create_task(
        _dispatch_in_turn([(frames.receive, True), (layer_receive, False)], dispatch, inbox)
    )
    await _settle()
    if failing == "frame":
        frames.queue.put_nowait({"name": "frame"})
    else:
        layer.put_nowait({"name": "layer event"})
    await asyncio.wait([task], timeout=2)
    assert task.done(), "the failure did not end the socket's tasks"
    with pytest.raises(ValueError, match=failing):
        task.result()
    # The layer's reader was inside receive when it was cancelled (the
    # layer ends the channel's subscription there).
    assert cancelled == ["layer reader"]


async def test_nothing_is_dispatched_after_the_frame_that_ended_the_socket() -> None:
    frames, inbox = Frames(), asyncio.Queue()
    release = asyncio.Event()
    handled: list[str] = []

    async def dispatch(event: dict[str, Any]) -> None:
        if event["name"] == "disconnect":
            await release.wait()
            raise ValueError("disconnected")  # as StopConsumer
        handled.append(event["name"])

    task = asyncio.create_task(_dispatch_in_turn([(frames.receive, True)], dispatch, inbox))
    frames.queue.put_nowait({"name": "disconnect"})
    await _settle()
    inbox.put_nowait({"name": "layer event"})  # waits for the disconnect's turn
    await _settle()
    release.set()
    with pytest.raises(ValueError, match="disconnected"):
        await asyncio.wait_for(task, 2)
    # Its socket is gone: the layer event is not sent to it.
    assert handled == []


async def test_a_layer_source_is_read_on_while_a_frame_is_handled() -> None:
    frames, inbox = Frames(), asyncio.Queue()
    layer: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    release = asyncio.Event()
    handled: list[str] = []

    async def dispatch(event: dict[str, Any]) -> None:
        if event["name"] == "slow frame":
            await release.wait()
        handled.append(event["name"])

    task = asyncio.create_task(
        _dispatch_in_turn([(frames.receive, True), (layer.get, False)], dispatch, inbox)
    )
    frames.queue.put_nowait({"name": "slow frame"})
    await _settle()
    for n in range(3):
        layer.put_nowait({"name": f"layer {n}"})
    await _settle()
    # Read on meanwhile (into the inbox), handled after the frame, in order.
    assert layer.empty()
    assert handled == []
    release.set()
    await _settle()
    assert handled == ["slow frame", "layer 0", "layer 1", "layer 2"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
