"""Pad an audience's list of posts, so its size does not count the posts.

The envelope pads every payload (Padmé, docs/format.md), but in steps of a
few percent: a list of three more posts, hidden ones included, would show as
a longer envelope. A list is padded here first, inside its JSON, so that it
compresses to a whole number of LIST_BUCKET bytes (a list that compresses to
less than one bucket looks like every other such list), and the envelope's own
padding then lands on that bucket exactly.

The filler is incompressible but not random: it is derived from the list
itself (SHAKE-256), so an unchanged list pads to the same bytes and its
envelope is reused, as every unchanged page's is. It is inside the
ciphertext, so it tells an observer nothing.
"""

import base64
import hashlib
import json
import math

from hearth import envelope

# 8 KiB compressed: about 25 posts' entries (title, day, summary, warnings).
# An observer learns the list's size only to within that many posts.
LIST_BUCKET = 8192
# The compressed list aims just under a bucket boundary. Padmé's steps there
# are at least 256 bytes wide (docs/format.md), so anything in the last
# MARGIN bytes pads up to the boundary itself.
MARGIN = 128
# From 256 KiB compressed, Padmé's own steps are 8 KiB or coarser already.
PADME_IS_ENOUGH = 256 * 1024
PAD_FIELD = "padding"


def _compressed_length(data: bytes) -> int:
    deflate = envelope.compressor()
    return len(deflate.compress(data) + deflate.flush())


def _filler(seed: bytes, length: int) -> str:
    stream = hashlib.shake_256(b"hearth list padding\0" + seed).digest(length)
    return base64.b64encode(stream).decode("ascii")[:length]


def pad_list(payload: bytes) -> bytes:
    """Return the list payload (JSON bytes of an object) with a "padding"
    member that makes it compress to just under a multiple of LIST_BUCKET.

    Readers ignore the member (unlock.js reads `entries` only).
    """
    data = json.loads(payload)
    if not isinstance(data, dict) or PAD_FIELD in data:
        raise ValueError("pad_list takes a JSON object without a padding member.")
    base = _compressed_length(payload)
    if base >= PADME_IS_ENOUGH - MARGIN:
        return payload
    target = math.ceil((base + MARGIN) / LIST_BUCKET) * LIST_BUCKET
    low, high = target - MARGIN, target - 1
    # The member goes last: compress everything before it once, and try
    # filler lengths on copies of that compressor.
    prefix = payload.rstrip()[:-1] + (b', "' if data else b'"') + PAD_FIELD.encode()
    prefix += b'": "'
    head = envelope.compressor()
    head_out = len(head.compress(prefix))

    def size_with(filler: bytes) -> int:
        tail = head.copy()
        return head_out + len(tail.compress(filler) + tail.flush())

    # Base64 of random bytes deflates to about 6 bits a character: estimate,
    # then correct from the measured length (two or three rounds).
    length = max(0, int((low + MARGIN // 2 - base) * 4 / 3))
    for _ in range(12):
        filler = _filler(payload, length).encode("ascii") + b'"}'
        size = size_with(filler)
        if low <= size <= high:
            # zlib's output does not depend on how its input was split.
            return prefix + filler
        step = int((low + MARGIN // 2 - size) * 4 / 3)
        length = max(0, length + (step or (1 if size < low else -1)))
    raise ValueError(
        f"Could not pad a list of {base} compressed bytes to {target}; "
        "this is a bug in hearth.padding."
    )
