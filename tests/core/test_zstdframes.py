"""The zstd frame walker: a clean end exactly at frame ends, for every way frames are written."""

from __future__ import annotations

import io
import os

import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from dive_py.core.tar.zstdframes import ZstdFrameWalker


def ends_cleanly(data: bytes, step: int = 997) -> bool:
    walker = ZstdFrameWalker()
    for i in range(0, len(data), step):
        walker.feed(data[i : i + step])
    return walker.at_frame_end


def frames(payload: bytes, *, level: int = 3, checksum: bool = False, size: bool = True) -> bytes:
    cctx = zstandard.ZstdCompressor(level=level, write_checksum=checksum, write_content_size=size)
    return cctx.compress(payload)


def test_whole_frames_end_cleanly_and_every_cut_does_not() -> None:
    payload = os.urandom(5000) + bytes(200_000) + os.urandom(3000)  # raw, RLE and compressed blocks
    for checksum in (False, True):
        data = frames(payload, checksum=checksum) * 2
        assert ends_cleanly(data)
        frame = len(data) // 2
        cuts = [c for c in range(1, len(data)) if c != frame]
        assert not any(ends_cleanly(data[:c]) for c in [*cuts[:: max(1, len(cuts) // 400)], frame - 1, frame + 1])
        assert ends_cleanly(data[:frame])


def test_streamed_frames_without_a_content_size() -> None:
    out = io.BytesIO()
    with zstandard.ZstdCompressor().stream_writer(out, closefd=False) as writer:
        writer.write(os.urandom(1000))
        writer.flush(zstandard.FLUSH_FRAME)
        writer.write(bytes(100_000))
    assert ends_cleanly(out.getvalue())
    assert not ends_cleanly(out.getvalue()[:-3])


def test_skippable_frames_are_walked_over() -> None:
    skippable = (0x184D2A53).to_bytes(4, "little") + (7).to_bytes(4, "little") + b"ignored"
    data = skippable + frames(b"payload" * 100) + skippable
    assert ends_cleanly(data)
    assert not ends_cleanly(data[:-1])


def test_bytes_that_are_not_zstd_are_left_to_the_decompressor() -> None:
    walker = ZstdFrameWalker()
    walker.feed(b"not zstd at all")
    assert walker.invalid and walker.at_frame_end


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=20_000), st.integers(1, 19), st.booleans(), st.booleans(), st.integers(1, 5000))
def test_any_payload_any_settings(payload: bytes, level: int, checksum: bool, size: bool, step: int) -> None:
    data = frames(payload, level=level, checksum=checksum, size=size)
    assert ends_cleanly(data, step)
    assert not ends_cleanly(data[:-1], step)


def test_an_rle_block_stores_one_byte() -> None:
    """A hand-made frame with an RLE block (zstandard itself rarely writes one): 100 'a's stored as one byte."""
    size = 100
    block = ((size << 3) | (1 << 1) | 1).to_bytes(3, "little")  # last block, type RLE
    frame = (0xFD2FB528).to_bytes(4, "little") + bytes([0b00100000, size]) + block + b"a"  # single segment, FCS
    assert zstandard.ZstdDecompressor().decompress(frame) == b"a" * size
    assert ends_cleanly(frame) and ends_cleanly(frame + frame)
    assert not ends_cleanly(frame[:-1])
