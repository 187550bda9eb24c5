"""Links that unlock: a page address with an audience key in its fragment.

The fragment (`#k=...`) never leaves the reader's browser: it is not sent to
the server, and the page strips it from the address bar once used. The link
carries the derived audience key, never the passphrase, so it cannot reveal
the passphrase; but anyone who has the link can read every post of that
audience until its passphrase (or salt) changes.
"""

import os
from urllib.parse import urlsplit, urlunsplit

from hearth import envelope
from hearth.state import State


class LinkError(ValueError):
    """A link that unlocks cannot be made."""


def audience_key(
    audience: str, passphrase: str, state_file: str | os.PathLike[str]
) -> bytes:
    """Derive an audience's key with the salt and iterations the site uses."""
    known = State.load(state_file, check_key=False).known_audience(audience)
    if known is None:
        raise LinkError(
            f"Audience {audience!r} has no salt in {state_file} yet. Build the "
            "site once (invoke build), so that its posts and this link share "
            "one salt, then make the link."
        )
    salt, iterations = known
    return envelope.derive_key(passphrase, salt, iterations)


def unlock_link(url: str, key: bytes, site_url: str = "") -> str:
    """Return `url` (made absolute with `site_url`) with `#k=<key>` appended."""
    parts = urlsplit(url)
    if not parts.scheme and site_url:
        url = site_url.rstrip("/") + "/" + url.lstrip("/")
        parts = urlsplit(url)
    if not parts.path.startswith("/"):
        raise LinkError(f"{url!r} is not a page address; give it as /p/<id>/.")
    fragment = "k=" + envelope.b64url(key)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, fragment))
