"""The last guard of a publish build, outside every plugin.

publishconf.py installs it when Pelican reads the settings, so it runs even
when the plugins do not: with PLUGINS emptied or overridden (for example
`pelican content -s publishconf.py -e 'PLUGINS=[]'`) no Hearth plugin runs,
and a post with an audience would be written in the clear, feeds first.
"""

import ipaddress
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from pelican import Pelican, signals
from pelican.contents import Static
from pelican.generators import Generator

from hearth import buildlog, contents, frontmatter


class UnsealedError(Exception):
    """Private content reached the writing stage without being encrypted."""


class SiteAddressError(Exception):
    """A publish build whose feeds would point where no reader can go."""


FEED_SETTINGS = (
    "FEED_ATOM",
    "FEED_RSS",
    "FEED_ALL_ATOM",
    "FEED_ALL_RSS",
    "CATEGORY_FEED_ATOM",
    "CATEGORY_FEED_RSS",
    "TAG_FEED_ATOM",
    "TAG_FEED_RSS",
    "AUTHOR_FEED_ATOM",
    "AUTHOR_FEED_RSS",
    "TRANSLATION_FEED_ATOM",
    "TRANSLATION_FEED_RSS",
)


def install() -> None:
    """Connect the guard's checks (publishconf.py calls this once per read)."""
    # weak=False: nothing else holds this receiver. Connecting the same
    # function again (the settings are read once per build) changes nothing.
    signals.all_generators_finalized.connect(refuse_unsealed, weak=False)
    # initialized: before anything is read or written.
    signals.initialized.connect(refuse_unreachable_feeds, weak=False)
    # Its stop is shown as its message, without a traceback (unless -D).
    buildlog.install(UnsealedError, SiteAddressError)


def is_loopback(url: str) -> bool:
    """True if the URL's host is this machine (localhost, 127.x, ::1)."""
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_unreachable_feeds(pelican: Pelican) -> None:
    """Stop a publish build whose feeds would link to no address or this machine.

    Feed readers need absolute links; Pelican makes them from FEED_DOMAIN
    (else SITEURL). publishconf.py sets both from HEARTH_SITEURL.
    """
    settings = pelican.settings
    # Settings that declare HEARTH_SITEURL (publishconf.py) are checked; the
    # receiver stays connected in this process for later builds of others.
    if not settings.get("HEARTH_PUBLISH") or "HEARTH_SITEURL" not in settings:
        return
    if not any(settings.get(name) for name in FEED_SETTINGS):
        return
    address = settings.get("FEED_DOMAIN") or settings.get("SITEURL") or ""
    if address and not is_loopback(address):
        return
    if address and settings.get("HEARTH_ALLOW_LOOPBACK_SITEURL"):
        return
    what = (
        f"is {address!r}, this machine, which no reader can reach"
        if address
        else "is not set"
    )
    raise SiteAddressError(
        f"The site's public address {what}, so every link in the feed would be "
        "broken. Set it once, in publishconf.py, e.g. HEARTH_SITEURL = "
        '"https://blog.example.org", or as the target\'s ?url= in '
        "HEARTH_TARGETS (or HEARTH_SITEURL=... in the environment for one "
        "run), then build again. Nothing was written."
    )


def refuse_unsealed(generators: Iterable[Generator]) -> None:
    """Stop the build if any content declaring an audience is not sealed.

    all_generators_finalized is the last signal before any file (feeds
    included) is written. hearth_private marks what it encrypted with
    `hearth_sealed`; the raw `audience` metadata is read here, so this works
    without hearth_frontmatter too.
    """
    unsealed = sorted(
        {
            str(item.source_path)
            for item in contents.listed(generators).values()
            if not isinstance(item, Static)  # images are sealed by their posts
            and _declares_audience(getattr(item, "metadata", None), item.settings)
            and not getattr(item, "hearth_sealed", False)
        }
    )
    if unsealed:
        names = "\n  ".join(unsealed)
        raise UnsealedError(
            "Hearth stopped the publish build before writing anything: these "
            f"posts have an audience but were not encrypted:\n  {names}\n"
            'Keep "hearth_frontmatter" and "hearth_private" in PLUGINS '
            "(pelicanconf.py, or a -e PLUGINS=... override) and check "
            "PLUGIN_PATHS if Pelican said it cannot load them."
        )


def _declares_audience(metadata: object, settings: Mapping[str, Any]) -> bool:
    if not isinstance(metadata, dict):
        return False
    if metadata.get("audience") is None:
        # Without hearth_frontmatter nothing applies HEARTH_DEFAULT_AUDIENCE:
        # a post without `audience` then has that default.
        default = settings.get("HEARTH_DEFAULT_AUDIENCE")
        return default is not None and frontmatter.as_list(default) != ["public"]
    # Without hearth_frontmatter a YAML list may arrive as the text
    # "[friends, family]": anything but "public" counts as an audience.
    names = [
        n.strip("[]'\" ").lower() for n in frontmatter.as_list(metadata["audience"])
    ]
    return any(name != "public" for name in names if name) or not names
