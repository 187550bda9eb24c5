"""Checks shared by every target's publish -> withdraw -> lock -> publish cycle.

Each check takes `read(path) -> bytes | None`, what the target serves at an
output path (over HTTP, on disk, in the bucket or in the branch), and the
sample build, and asserts the whole site is in the intended state.
"""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from hearth import envelope
from hearth.release import MARKER, is_feed, is_page
from hearth.targets import ops

CARRIER = re.compile(r'id="hearth-locked-page"[^>]*>([^<]*)</script>')

ATOM = "{http://www.w3.org/2005/Atom}"
NOTICE_META = b'<meta name="hearth-state" content="withdrawn">'
LOCKED_META = b'<meta name="hearth-state" content="locked">'
MESSAGE = "Taking a break. Back when I can."


def lock(build, target, recipients, **kw):
    return ops.lock(
        build, [target], recipients=recipients, sitename="Hearth",
        site_url="http://127.0.0.1", **kw,
    )  # fmt: skip


def build_files(build):
    build = Path(build)
    return {
        p.relative_to(build).as_posix(): p.read_bytes()
        for p in sorted(build.rglob("*"))
        if p.is_file()
    }


def assert_published(read, build):
    """Every file of the build is served with exactly its bytes."""
    for rel, data in build_files(build).items():
        assert read(rel) == data, f"/{rel} is not the published file"


def assert_feed_empty(body, rel):
    root = ET.fromstring(body)
    if root.tag == ATOM + "feed":
        assert root.find(ATOM + "title") is not None, rel
        assert root.find(ATOM + "updated") is not None, rel
        assert root.findall(ATOM + "entry") == [], rel
    else:
        assert root.tag == "rss", rel
        assert root.findall("channel/item") == [], rel


def assert_withdrawn(read, build, *, missing_is_notice=False, message=MESSAGE):
    """Nothing of the build is served: the notice everywhere, empty feeds.

    missing_is_notice: the reader of a missing file gets the 404 page (HTTP),
    so it must be the notice too; on disk a missing file reads as None.
    """
    files = build_files(build)
    for rel, old in files.items():
        if rel == "robots.txt":
            continue  # the build's own, replaced by the notice's (checked below)
        body = read(rel)
        assert body != old, f"/{rel} still serves its old content"
        if is_page(rel):
            assert NOTICE_META in body, f"/{rel} is not the notice"
            assert message.encode() in body, f"/{rel} lacks the writer's message"
        elif is_feed(rel):
            assert_feed_empty(body, rel)
        elif missing_is_notice:
            assert body is not None and NOTICE_META in body, f"/{rel} is reachable"
        else:
            assert body is None, f"/{rel} is still on the target"
    robots = read("robots.txt")
    assert robots is not None and b"Disallow: /" in robots
    # Nothing of the old site's text survives anywhere in what is served.
    home = read("index.html")
    for rel in files:
        if is_page(rel) and rel != "404.html":
            assert read(rel) == home, f"/{rel} differs from the notice"


def assert_locked(read, build, recipients, *, missing_is_shell=False):
    """Every page is the unlock shell carrying that very page; nothing in clear."""
    files = build_files(build)
    [site] = recipients
    for rel, old in files.items():
        if rel == "robots.txt":
            continue  # the build's own, replaced by the lock's
        body = read(rel)
        if rel.startswith("theme/") or envelope.is_ciphertext(old):
            # The theme stays public (the unlock page needs it), and a
            # private post's files and an audience's list and keyring are
            # ciphertext already.
            assert body == old, f"/{rel} should be served as it is"
            continue
        assert body != old, f"/{rel} still serves its plain content"
        if is_page(rel):
            assert LOCKED_META in body, f"/{rel} is not the unlock shell"
            carried = CARRIER.search(body.decode()).group(1)
            payload = json.loads(envelope.decrypt(carried, rel, site.key, "site"))
            assert payload["html"].encode() == old, f"/{rel} carries another page"
        elif is_feed(rel):
            assert_feed_empty(body, rel)
        elif missing_is_shell:
            assert body is not None and LOCKED_META in body, f"/{rel} is reachable"
        else:
            assert body is None, f"/{rel} is still served in the clear"


def marker_state(read):
    data = read(MARKER)
    return json.loads(data)["state"] if data else None
