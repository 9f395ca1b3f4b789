"""Tell whether a zstd stream ends where a frame ends, without decompressing it.

``zstandard``'s stream reader returns end-of-file when its input runs out in
the middle of a frame: a truncated ``.tar.zst`` layer would look like a
shorter, valid one (gzip raises instead).  This walker follows the frame
format (RFC 8878: frame header, 3-byte block headers, optional checksum,
skippable frames) over the compressed bytes as they go to the decompressor;
it touches one header per block of up to 128 KiB, so it costs nothing
measurable.
"""

from __future__ import annotations

_ZSTD_MAGIC = 0xFD2FB528
_SKIPPABLE_MASK = 0xFFFFFFF0
_SKIPPABLE_MAGIC = 0x184D2A50

# What the walker is waiting for.
_MAGIC = 0  # 4 bytes: the next frame's magic number (or a clean end)
_DESCRIPTOR = 1  # 1 byte: the frame header descriptor
_SKIP_SIZE = 2  # 4 bytes: a skippable frame's length
_BLOCK = 3  # 3 bytes: a block header


class ZstdFrameWalker:
    """Feed it the compressed bytes in order; :attr:`at_frame_end` says if a stop here is clean."""

    __slots__ = ("_checksum", "_need", "_pending", "_skip", "_state", "invalid")

    def __init__(self) -> None:
        self._state = _MAGIC
        self._need = 4
        self._pending = b""
        self._skip = 0  # bytes to pass over before the next field
        self._checksum = False
        #: The bytes are not zstd frames; the decompressor reports that itself.
        self.invalid = False

    @property
    def at_frame_end(self) -> bool:
        """True if the bytes so far end exactly after a frame."""
        return self.invalid or (self._state == _MAGIC and not self._pending and self._skip == 0)

    def feed(self, data: bytes) -> None:
        pos = 0
        n = len(data)
        while pos < n and not self.invalid:
            if self._skip:
                step = min(self._skip, n - pos)
                self._skip -= step
                pos += step
                continue
            take = min(self._need - len(self._pending), n - pos)
            self._pending += data[pos : pos + take]
            pos += take
            if len(self._pending) == self._need:
                field = self._pending
                self._pending = b""
                self._advance(field)

    def _advance(self, field: bytes) -> None:
        state = self._state
        if state == _MAGIC:
            magic = int.from_bytes(field, "little")
            if magic == _ZSTD_MAGIC:
                self._state, self._need = _DESCRIPTOR, 1
            elif magic & _SKIPPABLE_MASK == _SKIPPABLE_MAGIC:
                self._state, self._need = _SKIP_SIZE, 4
            else:
                self.invalid = True
        elif state == _SKIP_SIZE:
            self._skip = int.from_bytes(field, "little")
            self._state, self._need = _MAGIC, 4
        elif state == _DESCRIPTOR:
            fhd = field[0]
            fcs_flag = fhd >> 6
            single_segment = (fhd >> 5) & 1
            self._checksum = bool((fhd >> 2) & 1)
            window = 0 if single_segment else 1
            dict_id = (0, 1, 2, 4)[fhd & 3]
            fcs = (1 if single_segment else 0, 2, 4, 8)[fcs_flag]
            self._skip = window + dict_id + fcs
            self._state, self._need = _BLOCK, 3
        else:  # a block header
            header = int.from_bytes(field, "little")
            last = header & 1
            block_type = (header >> 1) & 3
            size = header >> 3
            if block_type == 3:
                self.invalid = True
                return
            self._skip = 1 if block_type == 1 else size  # an RLE block stores one byte
            if last:
                self._skip += 4 if self._checksum else 0
                self._state, self._need = _MAGIC, 4
