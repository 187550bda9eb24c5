"""Hearth's envelope: the versioned encryption format of a private post.

docs/format.md is the specification; this module implements its steps, and
theme/static/js/envelope.js implements the same text in the browser. Imports
the standard library and `cryptography` only, so the plugin, the leak audit
and the tests share this one code path.
"""

import base64
import hashlib
import json
import os
import re
import unicodedata
import zlib
from collections.abc import Sequence
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

VERSION = 1
# OWASP's 2023 figure for PBKDF2-HMAC-SHA256. The only setting of the format.
ITERATION_FLOOR = 600_000
# Like age's cap on scrypt's work factor: an envelope cannot make a reader's
# browser derive for minutes.
ITERATION_CAP = 10_000_000
KDF = "pbkdf2-sha256"
MAX_RECIPIENTS = 64
# A payload is at most this long (8 MiB), before compression: encrypting
# refuses more, and a reader stops inflating past it, so that a small
# envelope (a DEFLATE bomb) cannot make a browser tab allocate gigabytes.
MAX_PAYLOAD = 8 * 1024 * 1024

_SALT_BYTES = 16  # 128-bit salt: no two audiences, ever, share one by chance
_KEY_BYTES = 32  # AES-256
_NONCE_BYTES = 12  # GCM's native nonce; random nonces stay far below 2**32 uses
_TAG_BYTES = 16  # GCM's full tag
_SALT_ID_BYTES = 9
_WRAPPED_BYTES = _KEY_BYTES + _TAG_BYTES
_MIN_PADDED = 256
_PAD_MARKER = b"\x80"
_ATTACHMENT_MAGIC = b"hearth"
# How an attachment blob of this version starts (docs/format.md, "Attachments").
ATTACHMENT_PREFIX = _ATTACHMENT_MAGIC + bytes([VERSION])
_ATTACHMENT_HEADER = len(ATTACHMENT_PREFIX) + _NONCE_BYTES

# Every version starts with this prefix, so a reader can name a newer version
# without understanding the rest of it.
_VERSION_PREFIX = re.compile(r'\{"hearth":(0|[1-9][0-9]*)[,}]')
# The only characters of a version 1 envelope: no whitespace, no escapes.
_ENVELOPE_CHARS = re.compile(r'[A-Za-z0-9_\-":,{}\[\]]*')
_AUDIENCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_ENVELOPE_MEMBERS = ["hearth", "recipients", "nonce", "ciphertext"]
_RECIPIENT_MEMBERS = [
    "audience",
    "kdf",
    "salt_id",
    "salt",
    "iterations",
    "nonce",
    "wrapped_key",
]


class EnvelopeError(Exception):
    """An envelope that cannot be opened. The message is safe to show."""


class WrongKey(EnvelopeError):
    """No entry for this audience opens with this key: a wrong passphrase."""


class Damaged(EnvelopeError):
    """Not a well-formed envelope, or its payload was changed or moved."""


class NewerVersion(EnvelopeError):
    """The envelope is a newer format version than this reader knows."""


class Recipient(NamedTuple):
    """One audience key an envelope is written for."""

    audience: str
    salt: bytes
    iterations: int
    key: bytes

    def __repr__(self) -> str:
        # Recipients travel through logs and tracebacks; the key never does.
        salt: object = self.salt
        if isinstance(salt, (bytes, bytearray)):
            salt = f"<salt id {_salt_id(salt)}>"
        return (
            f"Recipient(audience={self.audience!r}, salt={salt}, "
            f"iterations={self.iterations!r}, key=<hidden>)"
        )


class Attachment(NamedTuple):
    """An encrypted private-only attachment: its key and its blob."""

    key: bytes
    blob: bytes

    def __repr__(self) -> str:
        return f"Attachment(key=<hidden>, blob=<{len(self.blob)} bytes>)"


class _Entry(NamedTuple):
    audience: str
    salt: bytes
    iterations: int
    nonce: bytes
    wrapped_key: bytes


class _Envelope(NamedTuple):
    recipients: list[_Entry]
    nonce: bytes
    ciphertext: bytes


# -- keys ------------------------------------------------------------------


def new_salt() -> bytes:
    """Return a new random 16-byte salt for an audience."""
    return os.urandom(_SALT_BYTES)


def salt_id(salt: bytes | bytearray) -> str:
    """Return a salt's short public name: b64(SHA-256(salt)[0:9])."""
    _check_salt(salt, "salt")
    return _salt_id(salt)


_TRIMMED = " \t\r\n"


def derive_key(passphrase: str, salt: bytes | bytearray, iterations: int) -> bytes:
    """Derive an audience's 32-byte key from its passphrase (PBKDF2-HMAC-SHA256).

    Slow on purpose (about 0.1 s at the floor): derive once per audience per
    build and pass the key down.
    """
    if not isinstance(passphrase, str):
        raise TypeError(f"passphrase must be a str, not {type(passphrase).__name__}.")
    if not passphrase.strip():
        raise ValueError(
            "The passphrase is empty. Set a real passphrase for this audience."
        )
    _check_salt(salt, "salt")
    _check_iterations(iterations, "iterations")
    # docs/format.md, "Keys": a pasted trailing space or newline is no part
    # of the passphrase (ASCII space, tab, CR, LF only, as envelope.js trims).
    passphrase = passphrase.strip(_TRIMMED)
    secret = _utf8(unicodedata.normalize("NFC", passphrase), "passphrase")
    # cryptography's OpenSSL PBKDF2 is about twice as fast as hashlib's here;
    # same function, same bytes (the committed vectors pin them).
    kdf = PBKDF2HMAC(
        algorithm=hashes.SHA256(),
        length=_KEY_BYTES,
        salt=bytes(salt),
        iterations=iterations,
    )
    return kdf.derive(secret)


# -- envelope --------------------------------------------------------------


def encrypt(
    payload: bytes | bytearray,
    url: str,
    recipients: Sequence[Recipient],
    previous: str | None = None,
) -> str:
    """Encrypt `payload` for the page at `url`; return the envelope text.

    `recipients` is a list of Recipient. When `previous` (the envelope written
    for this URL last time) holds exactly this payload for exactly these
    recipients, it is returned unchanged; otherwise the envelope is new, with a
    new content key and nonces from the operating system.
    """
    checked = _check_encrypt_args(payload, url, recipients)
    if previous is not None:
        if not isinstance(previous, str):
            raise TypeError(
                f"previous must be an envelope str or None, "
                f"not {type(previous).__name__}."
            )
        if _holds(previous, payload, url, checked):
            return previous
    return _encrypt_from_parts(
        payload,
        url,
        checked,
        content_key=os.urandom(_KEY_BYTES),
        nonce=os.urandom(_NONCE_BYTES),
        key_nonces=[os.urandom(_NONCE_BYTES) for _ in checked],
    )


def decrypt(envelope: str, url: str, key: bytes | bytearray, audience: str) -> bytes:
    """Open an envelope with an audience key; return the payload bytes.

    Raises WrongKey, Damaged or NewerVersion (all EnvelopeError).
    """
    if not isinstance(envelope, str):
        raise TypeError(f"envelope must be a str, not {type(envelope).__name__}.")
    _check_url(url)
    checked_key = _check_key(key, "key")
    _check_audience(audience, "audience")
    parsed = _parse(envelope)
    content_key = _unwrap(parsed, checked_key, audience)
    return _open_payload(parsed, content_key, url)


def _encrypt_from_parts(
    payload: bytes | bytearray,
    url: str,
    recipients: Sequence[Recipient],
    *,
    content_key: bytes,
    nonce: bytes,
    key_nonces: Sequence[bytes],
) -> str:
    """Encrypt with the given content key and nonces (the seam for vectors)."""
    checked = _check_encrypt_args(payload, url, recipients)
    key = _check_key(content_key, "content_key")
    _check_nonce(nonce, "nonce")
    if len(key_nonces) != len(checked):
        raise ValueError("key_nonces must hold one nonce per recipient.")
    for key_nonce in key_nonces:
        _check_nonce(key_nonce, "key_nonces")
    padded = _pad(_compress(payload))
    ciphertext = AESGCM(key).encrypt(nonce, padded, _payload_ad(url))
    entries = []
    for recipient, key_nonce in zip(checked, key_nonces, strict=True):
        wrapped = AESGCM(recipient.key).encrypt(
            key_nonce,
            key,
            _key_ad(recipient.audience, recipient.salt, recipient.iterations),
        )
        entries.append(
            {
                "audience": recipient.audience,
                "kdf": KDF,
                "salt_id": _salt_id(recipient.salt),
                "salt": b64url(recipient.salt),
                "iterations": recipient.iterations,
                "nonce": b64url(key_nonce),
                "wrapped_key": b64url(wrapped),
            }
        )
    return _dump(
        {
            "hearth": VERSION,
            "recipients": entries,
            "nonce": b64url(nonce),
            "ciphertext": b64url(ciphertext),
        }
    )


def _holds(
    previous: str, payload: bytes | bytearray, url: str, recipients: list[Recipient]
) -> bool:
    """True if `previous` opens to exactly `payload` for exactly `recipients`."""
    try:
        parsed = _parse(previous)
    except EnvelopeError:
        return False
    listed = [(e.audience, e.salt, e.iterations) for e in parsed.recipients]
    wanted = [(r.audience, r.salt, r.iterations) for r in recipients]
    if listed != wanted:
        return False
    content_keys: set[bytes] = set()
    for entry, recipient in zip(parsed.recipients, recipients, strict=True):
        try:
            content_keys.add(
                AESGCM(recipient.key).decrypt(
                    entry.nonce,
                    entry.wrapped_key,
                    _key_ad(entry.audience, entry.salt, entry.iterations),
                )
            )
        except InvalidTag:
            return False  # a changed passphrase: write a new envelope
    if len(content_keys) != 1:
        return False
    try:
        return _open_payload(parsed, content_keys.pop(), url) == bytes(payload)
    except EnvelopeError:
        return False


def is_ciphertext(data: bytes) -> bool:
    """Whether bytes are already Hearth ciphertext: an attachment (a private
    post's file) or a well-formed envelope (an audience's list or keyring)."""
    if data.startswith(ATTACHMENT_PREFIX):
        return True
    try:
        _parse(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError, EnvelopeError):
        return False
    return True


def _parse(text: str) -> _Envelope:
    """Decrypting steps 1-3: the strict parse, before any cryptography."""
    match = _VERSION_PREFIX.match(text)
    if not match:
        raise Damaged("This is not a Hearth envelope.")
    if match.group(1) != "1":
        if match.group(1) == "0":
            raise Damaged("This envelope has version 0, which does not exist.")
        raise NewerVersion(
            f"This envelope is format version {match.group(1)}; this reader "
            f"knows version {VERSION}. Update Hearth to open it."
        )
    if not _ENVELOPE_CHARS.fullmatch(text):
        raise Damaged("The envelope contains characters it may not contain.")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise Damaged("The envelope is not valid JSON.") from None
    if _dump(data) != text:
        raise Damaged("The envelope is not in its one canonical spelling.")
    # The prefix has already read "hearth" as the integer 1.
    _check_members(data, _ENVELOPE_MEMBERS, "the envelope")
    entries = data["recipients"]
    if type(entries) is not list or not 1 <= len(entries) <= MAX_RECIPIENTS:
        raise Damaged(f"The envelope must list 1 to {MAX_RECIPIENTS} recipients.")
    recipients = [_parse_entry(entry) for entry in entries]
    ciphertext = _unb64(data["ciphertext"], None, "ciphertext")
    if not _is_padded_length(len(ciphertext) - _TAG_BYTES):
        raise Damaged("The ciphertext's length is not a padded length.")
    return _Envelope(
        recipients, _unb64(data["nonce"], _NONCE_BYTES, "nonce"), ciphertext
    )


def _parse_entry(entry: Any) -> _Entry:
    _check_members(entry, _RECIPIENT_MEMBERS, "a recipient")
    audience = entry["audience"]
    if type(audience) is not str or not _AUDIENCE.fullmatch(audience):
        raise Damaged("A recipient's audience is not a valid audience name.")
    if entry["kdf"] != KDF:
        raise Damaged(f"A recipient's kdf is not {KDF!r}.")
    iterations = entry["iterations"]
    if type(iterations) is not int or not (
        ITERATION_FLOOR <= iterations <= ITERATION_CAP
    ):
        raise Damaged(
            f"A recipient's iterations are not between {ITERATION_FLOOR} "
            f"and {ITERATION_CAP}."
        )
    salt = _unb64(entry["salt"], _SALT_BYTES, "salt")
    if _unb64(entry["salt_id"], _SALT_ID_BYTES, "salt_id") != _salt_id_bytes(salt):
        raise Damaged("A recipient's salt_id does not match its salt.")
    return _Entry(
        audience,
        salt,
        iterations,
        _unb64(entry["nonce"], _NONCE_BYTES, "nonce"),
        _unb64(entry["wrapped_key"], _WRAPPED_BYTES, "wrapped_key"),
    )


def _unwrap(parsed: _Envelope, key: bytes, audience: str) -> bytes:
    """Decrypting steps 4-5: the content key from an entry of `audience`."""
    entries = [e for e in parsed.recipients if e.audience == audience]
    if not entries:
        raise WrongKey(f"This envelope has no key for audience {audience!r}.")
    for entry in entries:
        try:
            return AESGCM(key).decrypt(
                entry.nonce,
                entry.wrapped_key,
                _key_ad(entry.audience, entry.salt, entry.iterations),
            )
        except InvalidTag:
            continue
    raise WrongKey(
        f"The key for audience {audience!r} does not open this envelope "
        "(wrong passphrase)."
    )


def _open_payload(parsed: _Envelope, content_key: bytes, url: str) -> bytes:
    """Decrypting steps 6-8: decrypt, unpad, inflate."""
    try:
        padded = AESGCM(content_key).decrypt(
            parsed.nonce, parsed.ciphertext, _payload_ad(url)
        )
    except InvalidTag:
        raise Damaged(
            "The payload was changed, or this envelope belongs to another page."
        ) from None
    return _inflate(_unpad(padded))


# -- attachments -----------------------------------------------------------


def encrypt_attachment(
    data: bytes | bytearray, url: str, previous: Attachment | None = None
) -> Attachment:
    """Encrypt a private-only attachment published at `url`.

    Returns Attachment(key, blob): the blob to publish, and the key that goes
    into the payload's "attachments" map. When `previous` (last build's
    Attachment for this URL) decrypts to exactly `data`, it is returned
    unchanged.
    """
    _check_bytes(data, "data")
    _check_url(url)
    if previous is not None:
        if not isinstance(previous, Attachment):
            raise TypeError(
                f"previous must be an Attachment or None, "
                f"not {type(previous).__name__}."
            )
        try:
            if decrypt_attachment(previous.blob, url, previous.key) == bytes(data):
                return previous
        except (EnvelopeError, ValueError, TypeError):
            pass  # an unusable previous: encrypt afresh
    return _encrypt_attachment_from_parts(
        data, url, os.urandom(_KEY_BYTES), os.urandom(_NONCE_BYTES)
    )


def decrypt_attachment(
    blob: bytes | bytearray, url: str, key: bytes | bytearray
) -> bytes:
    """Decrypt an attachment blob published at `url` with its key."""
    _check_bytes(blob, "blob")
    _check_url(url)
    checked_key = _check_key(key, "key")
    data = bytes(blob)
    if len(data) < len(_ATTACHMENT_MAGIC) + 1 or not data.startswith(_ATTACHMENT_MAGIC):
        raise Damaged("This is not a Hearth attachment.")
    version = data[len(_ATTACHMENT_MAGIC)]
    if version > VERSION:
        raise NewerVersion(
            f"This attachment is format version {version}; this reader knows "
            f"version {VERSION}. Update Hearth to open it."
        )
    if version != VERSION:
        raise Damaged("This attachment has version 0, which does not exist.")
    if not _is_padded_length(len(data) - _ATTACHMENT_HEADER - _TAG_BYTES):
        raise Damaged("The attachment's length is not a padded length.")
    nonce = data[len(_ATTACHMENT_MAGIC) + 1 : _ATTACHMENT_HEADER]
    try:
        padded = AESGCM(checked_key).decrypt(
            nonce, data[_ATTACHMENT_HEADER:], _ad("attachment", _utf8(url, "url"))
        )
    except InvalidTag:
        raise Damaged(
            "The attachment was changed, or is not the one this post names."
        ) from None
    return _unpad(padded)


def _encrypt_attachment_from_parts(
    data: bytes | bytearray, url: str, key: bytes | bytearray, nonce: bytes
) -> Attachment:
    _check_bytes(data, "data")
    _check_url(url)
    checked_key = _check_key(key, "key")
    _check_nonce(nonce, "nonce")
    ciphertext = AESGCM(checked_key).encrypt(
        nonce, _pad(bytes(data)), _ad("attachment", _utf8(url, "url"))
    )
    blob = ATTACHMENT_PREFIX + nonce + ciphertext
    return Attachment(checked_key, blob)


# -- associated data, padding, compression, encoding -----------------------


def _ad(label: str, *fields: bytes) -> bytes:
    # The label carries version and kind; length prefixes make the fields
    # unambiguous, so no two field lists give the same associated data.
    parts = [f"hearth/{VERSION}/{label}".encode("ascii"), b"\x00"]
    for field in fields:
        parts += [len(field).to_bytes(4, "big"), field]
    return b"".join(parts)


def _payload_ad(url: str) -> bytes:
    return _ad("payload", _utf8(url, "url"))


def _key_ad(audience: str, salt: bytes, iterations: int) -> bytes:
    return _ad(
        "key", audience.encode("ascii"), bytes(salt), iterations.to_bytes(4, "big")
    )


def _padded_length(n: int) -> int:
    """Padmé with a 256-byte floor: see docs/format.md, "Padding"."""
    if n <= _MIN_PADDED:
        return _MIN_PADDED
    e = n.bit_length() - 1  # floor(log2(n))
    step = 1 << (e - e.bit_length())  # 2 ** (E - (floor(log2(E)) + 1))
    return -(-n // step) * step


def _is_padded_length(m: int) -> bool:
    return m >= _MIN_PADDED and _padded_length(m) == m


def _pad(data: bytes) -> bytes:
    n = len(data) + 1
    return data + _PAD_MARKER + bytes(_padded_length(n) - n)


def _unpad(padded: bytes) -> bytes:
    data = padded.rstrip(b"\x00")
    if not data.endswith(_PAD_MARKER):
        raise Damaged("The padding is malformed.")
    data = data[:-1]
    if _padded_length(len(data) + 1) != len(padded):
        raise Damaged("The padding has the wrong length.")
    return data


def compressor() -> "zlib._Compress":
    """The envelope's compression: raw DEFLATE at level 9 (hearth.padding
    sizes lists by it)."""
    return zlib.compressobj(level=9, wbits=-15)


def _compress(payload: bytes | bytearray) -> bytes:
    deflate = compressor()
    return deflate.compress(bytes(payload)) + deflate.flush()


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=-15)
    try:
        payload = inflater.decompress(data, MAX_PAYLOAD + 1)
        if len(payload) > MAX_PAYLOAD or inflater.unconsumed_tail:
            raise Damaged(
                f"The payload inflates to more than {MAX_PAYLOAD} bytes, the "
                "format's limit."
            )
        payload += inflater.flush()
    except zlib.error:
        raise Damaged("The payload is not a valid DEFLATE stream.") from None
    if len(payload) > MAX_PAYLOAD:
        raise Damaged(
            f"The payload inflates to more than {MAX_PAYLOAD} bytes, the "
            "format's limit."
        )
    if not inflater.eof or inflater.unused_data:
        raise Damaged("The payload's DEFLATE stream is truncated or followed by data.")
    return payload


def _dump(data: object) -> str:
    return json.dumps(data, separators=(",", ":"))


def b64url(data: bytes | bytearray) -> str:
    """base64url without padding, the spelling docs/format.md uses."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: object) -> bytes:
    """The bytes of canonical, unpadded base64url; ValueError for anything else."""
    if type(text) is not str or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:
        raise ValueError("not canonical base64url")
    return data


def _unb64(text: object, length: int | None, field: str) -> bytes:
    """Strict base64url: canonical, no padding, of the exact decoded length."""
    try:
        data = unb64url(text)
    except ValueError as err:
        raise Damaged(f"The envelope's {field} is {err}.") from None
    if length is not None and len(data) != length:
        raise Damaged(f"The envelope's {field} is not {length} bytes long.")
    return data


def _salt_id_bytes(salt: bytes | bytearray) -> bytes:
    return hashlib.sha256(salt).digest()[:_SALT_ID_BYTES]


def _salt_id(salt: bytes | bytearray) -> str:
    return b64url(_salt_id_bytes(bytes(salt)))


def _check_members(data: object, members: list[str], what: str) -> None:
    if type(data) is not dict or list(data) != members:
        raise Damaged(f"{what.capitalize()} does not have exactly its members.")


# -- caller checks ---------------------------------------------------------


def _check_encrypt_args(
    payload: object, url: object, recipients: object
) -> list[Recipient]:
    """Check encrypt's arguments; return the recipients with bytes fields."""
    data = _check_bytes(payload, "payload")
    if len(data) > MAX_PAYLOAD:
        raise ValueError(
            f"payload is {len(data)} bytes; an envelope holds at most "
            f"{MAX_PAYLOAD} (docs/format.md). Split the post, or move large "
            "files out of its text into attachments."
        )
    _check_url(url)
    if isinstance(recipients, Recipient):
        raise TypeError(
            "recipients must be a list of Recipient; wrap the one Recipient in a list."
        )
    if not isinstance(recipients, (list, tuple)):
        raise TypeError(
            f"recipients must be a list of Recipient, not {type(recipients).__name__}."
        )
    if not recipients:
        raise ValueError(
            "No recipients: a private post needs at least one audience key."
        )
    if len(recipients) > MAX_RECIPIENTS:
        raise ValueError(
            f"{len(recipients)} recipients; an envelope holds at most {MAX_RECIPIENTS}."
        )
    checked = []
    for index, given in enumerate(recipients):
        where = f"recipients[{index}]"
        if not isinstance(given, Recipient):
            raise TypeError(f"{where} must be a Recipient, not {type(given).__name__}.")
        _check_audience(given.audience, f"{where}.audience")
        _check_salt(given.salt, f"{where}.salt")
        _check_iterations(given.iterations, f"{where}.iterations")
        key = _check_key(given.key, f"{where}.key")
        recipient = Recipient(given.audience, bytes(given.salt), given.iterations, key)
        if recipient in checked:
            raise ValueError(
                f"{where} repeats an earlier recipient (audience "
                f"{recipient.audience!r}); list each key once."
            )
        checked.append(recipient)
    return checked


def _check_bytes(value: object, name: str) -> bytes | bytearray:
    if not isinstance(value, (bytes, bytearray)):
        raise TypeError(f"{name} must be bytes, not {type(value).__name__}.")
    return value


def _check_url(url: object) -> None:
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}.")
    if not url:
        raise ValueError(
            "url is empty: pass the page's path from the site root, "
            "e.g. '2026/my-post/'."
        )
    _utf8(url, "url")


def _check_audience(audience: object, name: str) -> None:
    if not isinstance(audience, str):
        raise TypeError(f"{name} must be a str, not {type(audience).__name__}.")
    if not _AUDIENCE.fullmatch(audience):
        raise ValueError(
            f"{name} {audience!r} is not a valid audience name (lower-case "
            "letters, digits, '-' or '_', at most 64 characters)."
        )


def _check_salt(salt: object, name: str) -> None:
    data = _check_bytes(salt, name)
    if len(data) != _SALT_BYTES:
        raise ValueError(
            f"{name} must be {_SALT_BYTES} bytes, not {len(data)}; make one "
            "with new_salt()."
        )


def _check_iterations(iterations: object, name: str) -> None:
    if type(iterations) is not int:
        raise TypeError(f"{name} must be an int, not {type(iterations).__name__}.")
    if not ITERATION_FLOOR <= iterations <= ITERATION_CAP:
        raise ValueError(
            f"{name} is {iterations}; PBKDF2 iterations must be between "
            f"{ITERATION_FLOOR} and {ITERATION_CAP}."
        )


def _check_key(key: object, name: str) -> bytes:
    data = _check_bytes(key, name)
    if len(data) != _KEY_BYTES:
        raise ValueError(f"{name} must be {_KEY_BYTES} bytes, not {len(data)}.")
    return bytes(data)


def _check_nonce(nonce: object, name: str) -> None:
    data = _check_bytes(nonce, name)
    if len(data) != _NONCE_BYTES:
        raise ValueError(f"{name} must be {_NONCE_BYTES} bytes, not {len(data)}.")


def _utf8(text: str, name: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{name} is not valid Unicode (it holds a lone surrogate)."
        ) from None
