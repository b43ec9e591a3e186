"""Record framing: intact records decode, a torn or corrupted tail is where reading stops."""

from __future__ import annotations

from newretail.stream import records


def test_round_trip_and_positions() -> None:
    data, starts = records.encode([b"a", b"", b"xyz"])
    assert [(p, b) for p, b in records.decode(data)] == list(
        zip(starts, [b"a", b"", b"xyz"], strict=True)
    )
    assert records.valid_end(data) == len(data)


def test_torn_tail_is_ignored() -> None:
    data, starts = records.encode([b"one", b"two"])
    for cut in range(starts[1] + 1, len(data)):
        assert [b for _, b in records.decode(data[:cut])] == [b"one"]
        assert records.valid_end(data[:cut]) == starts[1]


def test_corrupted_payload_stops_reading() -> None:
    data, _ = records.encode([b"one", b"two", b"three"])
    broken = bytearray(data)
    broken[-1] ^= 0xFF
    assert [b for _, b in records.decode(bytes(broken))] == [b"one", b"two"]


def test_garbage_length_is_not_trusted() -> None:
    data, _ = records.encode([b"one"])
    assert records.valid_end(data + b"\xff\xff\xff\x7f" + b"\x00" * 8) == len(data)
