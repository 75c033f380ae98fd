"""What a consumer takes from the Redis layer's reading task (``wants`` and
``_LayerSink``): the broadcast of what the socket itself sent is left out
as it arrives; everything else goes to the inbox in arrival order."""

from __future__ import annotations

import asyncio

from onthaal.chat.consumers import OperatorConsumer, VisitorConsumer, _LayerSink


def _message(message_id: int) -> dict:
    return {"type": "message.new", "message": {"id": message_id, "body": "hallo"}}


def test_the_echo_of_a_sockets_own_message_and_receipt_is_not_wanted() -> None:
    for consumer in (VisitorConsumer(), OperatorConsumer()):
        consumer._first_time(7)  # as its acknowledgement of message 7 does
        consumer.own_receipt = {"visitor_read_id": 7}

        assert not consumer.wants(_message(7))
        assert consumer.wants(_message(8))
        assert not consumer.wants({"type": "receipt", "receipt": {"visitor_read_id": 7}})
        assert consumer.wants({"type": "receipt", "receipt": {"visitor_read_id": 8}})
        assert consumer.wants({"type": "conversation.changed", "conversation": {}})


def test_a_fresh_socket_wants_every_event() -> None:
    consumer = VisitorConsumer()
    assert consumer.wants(_message(1))
    assert consumer.wants({"type": "receipt", "receipt": {"visitor_read_id": 1}})


def test_the_sink_fills_the_inbox_in_order_and_passes_on_what_it_cannot_judge() -> None:
    inbox: asyncio.Queue = asyncio.Queue()
    consumer = VisitorConsumer()
    consumer._first_time(2)
    sink = _LayerSink(inbox, consumer.wants)
    malformed = {"type": "message.new"}  # its handler reports the missing key

    for event in (_message(1), _message(2), malformed, _message(3)):
        sink.put_nowait(event)

    assert [inbox.get_nowait() for _ in range(inbox.qsize())] == [
        _message(1),
        malformed,
        _message(3),
    ]
