"""Remove identifying metadata from JPEG, PNG and WebP images.

A photo of a pet must not give away the house's location: EXIF (GPS, camera
serial numbers, thumbnails of the uncropped original), XMP, IPTC, comments and
PNG text chunks all go. The pixels are kept exactly: metadata is removed at
the container level (JPEG segments, PNG chunks, WebP RIFF chunks), so an image
is re-encoded only when its EXIF orientation has to be applied first.

What is kept is a short allow-list (the pixels and what is needed to show them
right: colour profile, transparency, animation); anything else is dropped, so
a metadata block nobody has heard of yet does not slip through.
"""

import hashlib
import io
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hearth.ownerfiles import owner_only_folder, replace_owner_only

# EXIF tag 0x0112: how the camera held the picture. 1 is "as stored".
_ORIENTATION = 0x0112

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks that draw the image (PNG 3rd edition, APNG). Text (tEXt, zTXt,
# iTXt), eXIf, tIME and unknown private chunks are dropped.
_PNG_KEEP = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP",
    b"sBIT", b"sRGB", b"cICP", b"mDCV", b"cLLI", b"bKGD", b"hIST", b"pHYs",
    b"sPLT", b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip

# WebP chunks that draw the image; EXIF and "XMP " (and unknown ones) go.
_WEBP_KEEP = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"}
# VP8X flag bits announcing EXIF (0x08) and XMP (0x04) chunks.
_VP8X_METADATA_FLAGS = 0x08 | 0x04


class ImageError(ValueError):
    """An image that cannot be read well enough to clean it."""


def image_format(data: bytes) -> str | None:
    """'jpeg', 'png', 'webp' from the first bytes, or None for anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == _PNG_SIGNATURE:
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def clean_image(data: bytes) -> bytes | None:
    """Return the image without metadata, or None if it has none to remove.

    `data` is the bytes of a JPEG, PNG or WebP file (other formats give None).
    The EXIF orientation is applied to the pixels first, so a photo taken on
    its side still shows upright. Raise ImageError for a damaged image.
    """
    fmt = image_format(data)
    if fmt is None:
        return None
    stripped = _STRIPPERS[fmt](data)
    if stripped is None:
        return None
    if _orientation(data) not in (None, 1):
        upright = _transpose(data, fmt)
        stripped = _STRIPPERS[fmt](upright) or upright
    _check(stripped, fmt)
    return stripped


# JPEG -------------------------------------------------------------------------


class CleanCache:
    """What clean_image gave for each image before, by the SHA-256 of its bytes.

    An image unchanged since the last build is not parsed again: its cleaned
    bytes (or "nothing to remove") come from here. For published images only
    (they are public once cleaned); the folder is the owner's alone.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._new: dict[Path, bytes] = {}
        self.hits = 0

    def clean(self, data: bytes) -> bytes | None:
        """clean_image(data), from the cache when these bytes were seen."""
        path = self.folder / hashlib.sha256(data).hexdigest()
        try:
            cached = path.read_bytes()
        except OSError:
            cached = None
        if cached is not None:
            self.hits += 1
            return cached or None
        result = clean_image(data)
        self._new[path] = result or b""
        return result

    def save(self) -> None:
        """Write what this build cleaned for the first time (owner-only files)."""
        if not self._new:
            return
        owner_only_folder(self.folder)
        for path, data in self._new.items():
            replace_owner_only(path, data)
        self._new = {}


def _keep_jpeg_segment(marker: int, payload: bytes) -> bool:
    if marker == 0xE0:  # APP0: JFIF yes; JFXX carries a thumbnail
        return payload.startswith(b"JFIF\x00")
    if marker == 0xE2:  # APP2: the colour profile, not FlashPix or MPF
        return payload.startswith(b"ICC_PROFILE\x00")
    if marker == 0xEE:  # APP14: Adobe colour transform, needed to decode
        return payload.startswith(b"Adobe")
    # Every other APPn (EXIF, XMP, IPTC, maker notes) and COM go.
    return not (0xE0 <= marker <= 0xEF or marker == 0xFE)


def _strip_jpeg(data: bytes) -> bytes | None:
    out = [b"\xff\xd8"]
    changed = False
    i = 2
    end = len(data)
    while True:
        if i + 2 > end or data[i] != 0xFF:
            raise ImageError("the JPEG ends early or is damaged")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == 0xD9:  # EOI: anything after it (MPF images) is dropped
            out.append(b"\xff\xd9")
            changed = changed or i + 2 < end
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            out.append(data[i : i + 2])
            i += 2
            continue
        if i + 4 > end:
            raise ImageError("the JPEG ends early or is damaged")
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        segment = data[i : i + 2 + length]
        if len(segment) != 2 + length or length < 2:
            raise ImageError("the JPEG ends early or is damaged")
        if _keep_jpeg_segment(marker, segment[4:]):
            out.append(segment)
        else:
            changed = True
        i += 2 + length
        if marker == 0xDA:  # SOS: entropy-coded data runs to the next marker
            j = i
            while True:
                j = data.find(b"\xff", j)
                if j < 0 or j + 1 >= end:
                    raise ImageError("the JPEG ends early or is damaged")
                following = data[j + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    j += 2
                elif following == 0xFF:
                    j += 1
                else:
                    break
            out.append(data[i:j])
            i = j
    return b"".join(out) if changed else None


# PNG --------------------------------------------------------------------------


def _strip_png(data: bytes) -> bytes | None:
    out = [_PNG_SIGNATURE]
    changed = False
    i = len(_PNG_SIGNATURE)
    while True:
        if i + 12 > len(data):
            raise ImageError("the PNG ends early or is damaged")
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        chunk = data[i : i + 12 + length]
        if len(chunk) != 12 + length:
            raise ImageError("the PNG ends early or is damaged")
        if kind in _PNG_KEEP:
            out.append(chunk)
        else:
            changed = True
        i += 12 + length
        if kind == b"IEND":
            changed = changed or i < len(data)
            break
    return b"".join(out) if changed else None


# WebP -------------------------------------------------------------------------


def _webp_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Yield (kind, chunk with its header and padding) of a WebP file."""
    (size,) = struct.unpack("<I", data[4:8])
    if size + 8 > len(data) or size < 4:
        raise ImageError("the WebP ends early or is damaged")
    i = 12
    while i < size + 8:
        if i + 8 > size + 8:
            raise ImageError("the WebP ends early or is damaged")
        kind = data[i : i + 4]
        (length,) = struct.unpack("<I", data[i + 4 : i + 8])
        padded = length + (length & 1)
        chunk = data[i : i + 8 + padded]
        if len(chunk) < 8 + length or (kind == b"VP8X" and length < 1):
            raise ImageError("the WebP ends early or is damaged")
        yield kind, chunk
        i += 8 + padded


def _strip_webp(data: bytes) -> bytes | None:
    out = []
    (size,) = struct.unpack("<I", data[4:8])
    changed = size + 8 < len(data)  # bytes after the RIFF container
    for kind, chunk in _webp_chunks(data):
        if kind not in _WEBP_KEEP:
            changed = True
        elif kind == b"VP8X" and chunk[8] & _VP8X_METADATA_FLAGS:
            flags = chunk[8] & ~_VP8X_METADATA_FLAGS & 0xFF
            out.append(chunk[:8] + bytes([flags]) + chunk[9:])
            changed = True
        else:
            out.append(chunk)
    if not changed:
        return None
    body = b"WEBP" + b"".join(out)
    return b"RIFF" + struct.pack("<I", len(body)) + body


_STRIPPERS = {"jpeg": _strip_jpeg, "png": _strip_png, "webp": _strip_webp}


# Orientation -------------------------------------------------------------------


def _orientation(data: bytes) -> int | None:
    """The EXIF orientation of a still image (None for an animation)."""
    from PIL import Image  # only for an image not cleaned before (CleanCache)

    try:
        with Image.open(io.BytesIO(data)) as im:
            if getattr(im, "n_frames", 1) > 1:
                return None  # turning would keep only the first frame
            return im.getexif().get(_ORIENTATION)
    except (OSError, SyntaxError, ValueError, struct.error, zlib.error) as err:
        raise ImageError(f"Pillow cannot read the image ({err})") from err


def _transpose(data: bytes, fmt: str) -> bytes:
    """Apply the EXIF orientation; re-encode as faithfully as Pillow can."""
    from PIL import Image, ImageOps, JpegImagePlugin

    with Image.open(io.BytesIO(data)) as im:
        options: dict[str, Any] = {}
        if im.info.get("icc_profile"):
            options["icc_profile"] = im.info["icc_profile"]
        if fmt == "jpeg" and isinstance(im, JpegImagePlugin.JpegImageFile):
            # The source's own quantisation tables and chroma subsampling:
            # the closest Pillow gets to the original quality.
            options["qtables"] = im.quantization
            sampling = JpegImagePlugin.get_sampling(im)
            if sampling != -1:
                options["subsampling"] = sampling
            if im.info.get("progressive"):
                options["progressive"] = True
        elif fmt == "webp":
            kinds = {kind for kind, _ in _webp_chunks(data)}
            options["lossless"] = b"VP8L" in kinds
            options["quality"] = 100 if options["lossless"] else 95
        upright = ImageOps.exif_transpose(im)
        # Nothing of the old metadata may ride along in info.
        upright.info = {
            k: v for k, v in upright.info.items() if k in ("transparency", "dpi")
        }
        buffer = io.BytesIO()
        upright.save(buffer, fmt.upper(), **options)
        return buffer.getvalue()


def _check(data: bytes, fmt: str) -> None:
    """Fail closed: the result must open, decode, and carry no metadata."""
    if _STRIPPERS[fmt](data) is not None:
        raise ImageError("metadata survived cleaning")
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            if len(im.getexif()):
                raise ImageError("EXIF survived cleaning")
    except (OSError, SyntaxError, struct.error, zlib.error) as err:
        raise ImageError(f"the cleaned image does not decode ({err})") from err
