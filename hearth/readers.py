"""Readers of an audience: generated secrets, strength, and the audience key.

An audience has named readers, each with their own generated passphrase and
a link key (docs/format.md, "Readers and the keyring"). Posts are encrypted
for one random audience key; the audience key is wrapped once per reader
secret in the audience's keyring (`p/k/<salt id>`), an envelope whose
payload is the 32-byte audience key. Dropping a reader (or a link passing
its expiry) makes a new audience key at the next build, so what is
published from then on opens for nobody the old keyring admitted and the
new one does not.

Imports the standard library, `envelope`, xkcdpass's copy of EFF's long
word list and zxcvbn; no Pelican.
"""

import datetime as dt
import functools
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from hearth import envelope
from hearth.ownerfiles import owner_only_folder, replace_owner_only

WORDS = 6  # 6 words of 7776: 77.5 bits
# zxcvbn's estimate of guesses a passphrase needs, as a power of ten. At
# 14,000 PBKDF2-600k guesses a second (one RTX 4090), 10**14 guesses are
# about 226 GPU-years; a generated six-word passphrase is rated far above.
GUESSES_LOG10_FLOOR = 14
# zxcvbn's time grows with length; beyond this nothing changes its verdict.
_ESTIMATE_CHARS = 100
SHARED = "shared"  # the reader of an audience's one shared passphrase
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
KEYRING_DIR = "p/k"
LINK_KEY_BYTES = 32
MIN_LENGTH = 12
# Passphrases that a guesser tries first. Not a strength meter: a short list
# of the obvious, so that the writer hears about it once per build.
_COMMON = {
    "password",
    "passphrase",
    "123456789012",
    "qwertyuiop",
    "letmein",
    "iloveyou",
    "correct horse battery staple",
    "correcthorsebatterystaple",
    "changeme",
    "secret",
}


class ReaderError(ValueError):
    """A reader cannot be added, removed or used. The message is safe to show."""


class Reader(NamedTuple):
    """One reader of an audience and their secrets."""

    audience: str
    name: str
    passphrase: str | None
    link: bytes | None = None  # a link key (the #k= fragment), 32 bytes
    link_expires: dt.date | None = None

    def __repr__(self) -> str:
        # Readers travel through logs and tracebacks; their secrets never do.
        return (
            f"Reader(audience={self.audience!r}, name={self.name!r}, "
            f"passphrase=<hidden>, link={'<hidden>' if self.link else None}, "
            f"link_expires={self.link_expires!r})"
        )

    def link_open(self, today: dt.date) -> bool:
        """Whether this reader's link still opens what is built `today`."""
        return self.link is not None and (
            self.link_expires is None or today <= self.link_expires
        )


def check_name(name: object, what: str = "reader name") -> str:
    """The name, if it is a valid reader (or audience) name; ReaderError if not."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ReaderError(
            f"{name!r} is not a valid {what}: lower-case letters, digits, '-' "
            "or '_', starting with a letter or digit, at most 64 characters "
            "(for example sam or aunt-jo)."
        )
    return name


# --- strength --------------------------------------------------------------


def weakness(passphrase: str, audience: str = "") -> str:
    """Say why a passphrase is obviously weak, or return '' if it is not."""
    lowered = passphrase.strip().lower()
    if len(passphrase) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    if lowered in _COMMON or "password" in lowered:
        return "is one that guessers try first"
    if len(set(lowered)) <= 3:
        return "repeats the same few characters"
    if audience and lowered.replace(" ", "") in {audience, audience * 2}:
        return "is the audience's own name"
    return ""


@functools.cache
def strength_rule() -> str:
    """What a passed strength estimate depends on: a verdict kept under
    another rule (a new zxcvbn, a new floor) does not count."""
    from importlib.metadata import version

    return f"zxcvbn {version('zxcvbn')} floor {GUESSES_LOG10_FLOOR} {_ESTIMATE_CHARS}"


def strength_problem(passphrase: str) -> str:
    """'' when zxcvbn rates the passphrase at GUESSES_LOG10_FLOOR or more;
    else a sentence (without the passphrase) saying how weak it is."""
    from zxcvbn import zxcvbn

    result = zxcvbn(passphrase[:_ESTIMATE_CHARS])
    guesses = float(result["guesses_log10"])
    if guesses >= GUESSES_LOG10_FLOOR:
        return ""
    return (
        f"is too easy to guess: a strength estimate (zxcvbn) puts it at about "
        f"10^{int(guesses)} guesses, and Hearth asks for 10^{GUESSES_LOG10_FLOOR}"
    )


# --- generated secrets ------------------------------------------------------


@functools.cache
def _eff_long_list() -> tuple[str, ...]:
    from xkcdpass import xkcd_password

    path = xkcd_password.locate_wordfile("eff-long")
    words = [
        line.split()[-1]
        for line in Path(path).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    # The list is 6**5 words, one per roll of five dice; anything else is
    # not the list this module promises.
    if len(set(words)) != 7776:
        raise ReaderError(f"The EFF long word list at {path} is not 7776 words.")
    return tuple(words)


def generate_passphrase(words: int = WORDS) -> str:
    """A fresh passphrase of `words` words from EFF's long list (OS randomness)."""
    if words < WORDS:
        raise ReaderError(f"A generated passphrase has at least {WORDS} words.")
    wordlist = _eff_long_list()
    # A draw that Hearth's own checks would refuse (one in about 1,300 holds
    # the list's word "password") is drawn again, so a generated passphrase
    # is always one a publish build accepts. That leaves out a vanishing
    # share of the 7776**words passphrases.
    while True:
        passphrase = " ".join(secrets.choice(wordlist) for _ in range(words))
        if not weakness(passphrase) and not strength_problem(passphrase):
            return passphrase


def new_link_key() -> bytes:
    """A reader's new link key (the #k= fragment of an unlock link)."""
    return os.urandom(LINK_KEY_BYTES)


# --- the audience key and its keyring --------------------------------------


def keyring_path(salt: bytes) -> str:
    """The keyring's site path: p/k/<salt id> (the salt id every post's
    entry for the audience carries, so the browser finds it)."""
    return f"{KEYRING_DIR}/{envelope.salt_id(salt)}"


def _fingerprint(key: bytes) -> str:
    return hashlib.sha256(b"hearth member\x00" + bytes(key)).hexdigest()[:32]


class AudienceKeys:
    """The audience keys of one kind of build (preview or publish).

    Kept in an owner-only JSON file beside Hearth's envelope cache, never
    online and never tracked: per audience the random audience key and the
    fingerprints of the reader keys it was last wrapped for (readers' derived
    keys are hearth.private.Keys'). Losing the file only rotates every
    audience key: readers notice nothing.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._audiences: dict[str, dict[str, Any]] = {}
        self.rotated: list[str] = []
        try:
            data = json.loads(self.path.read_text(encoding="ascii"))
            self._audiences = {
                a: {"key": envelope.unb64url(e["key"]), "members": list(e["members"])}
                for a, e in data["audiences"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self._audiences = {}  # start afresh: rotation

    def key_for(self, audience: str, members: Iterable[bytes]) -> bytes:
        """The audience key for keyring `members` (reader keys, bytes).

        The same key while no member is dropped; a new random key as soon as
        one that the last keyring admitted is not among `members`.
        """
        prints = sorted({_fingerprint(m) for m in members})
        entry = self._audiences.get(audience)
        if entry is None or not set(entry["members"]) <= set(prints):
            if entry is not None:
                self.rotated.append(audience)
            entry = {"key": os.urandom(32)}
        entry["members"] = prints
        self._audiences[audience] = entry
        key: bytes = entry["key"]
        return key

    def save(self) -> None:
        """Write the file atomically, owner-only (mode 0600 in a 0700 folder)."""
        if not self._audiences:
            return
        data = {
            "about": "Hearth's audience keys: secret, owner-only, never commit it.",
            "audiences": {
                a: {"key": envelope.b64url(e["key"]), "members": e["members"]}
                for a, e in sorted(self._audiences.items())
            },
        }
        owner_only_folder(self.path.parent)
        replace_owner_only(self.path, json.dumps(data, indent=1).encode("ascii"))


def keyring_members(
    readers: Iterable[Reader], today: dt.date
) -> list[tuple[Reader, str, str | bytes]]:
    """[(reader, kind, secret)] the keyring admits: every reader's passphrase
    and every link not past its expiry on `today`."""
    members: list[tuple[Reader, str, str | bytes]] = []
    for reader in readers:
        if reader.passphrase is not None:
            members.append((reader, "passphrase", reader.passphrase))
        if reader.link is not None and reader.link_open(today):
            members.append((reader, "link", reader.link))
    return members
