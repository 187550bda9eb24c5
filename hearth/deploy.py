"""The trees a withdraw or a lock puts online, and the release marker.

Each function writes a complete folder that a target then serves as it is:
- notice_tree: the withdraw notice at the root, at every former page's place
  and as the 404 page, robots.txt refusing everything, feeds without entries;
- lock_tree: every page replaced by an unlock shell carrying that page
  encrypted for the `site` audience, other content files encrypted under
  names that say nothing, feeds without entries;
- write_marker, marked_manifest: `.hearth/release.json`, what is live and
  since when (and the tree's manifest with it).
"""

import hashlib
import hmac
import html
import json
import logging
import os
import re
import shutil
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hearth import envelope
from hearth import notice as notice_post
from hearth.release import (
    MARKER,
    content_type,
    is_feed,
    is_page,
    manifest_digest,
    md5_file,
    tree_manifest,
)

logger = logging.getLogger(__name__)

DEFAULT_NOTICE = notice_post.DEFAULT_NOTICE
NOTICE_CSS = "hearth-notice.css"
LOCKED_DIR = "hearth-locked"
ROBOTS_DISALLOW = "User-agent: *\nDisallow: /\n"

_NOTICE_STYLE = """\
body { margin: 0; font: 1.125rem/1.6 Georgia, "Times New Roman", serif;
  color: #2b2622; background: #fbf7f1; }
main { max-width: 34rem; margin: 18vh auto 0; padding: 0 1.25rem; }
h1 { font-size: 1.6rem; font-weight: normal; margin: 0 0 1.5rem; }
h2 { font-size: 1.25rem; font-weight: normal; margin: 0 0 1rem; }
a { color: inherit; }
@media (prefers-color-scheme: dark) {
  body { color: #ece4da; background: #1f1b18; }
}
"""

# Only this file's own stylesheet; no script at all on a withdrawn site.
_NOTICE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'"
)


# What a withdraw or a lock shows: a Notice, the writer's words, or None for
# the kind's default.
Message = notice_post.Notice | str | None
Folder = str | os.PathLike[str]


def now() -> str:
    """This moment in UTC, as the marker and the feeds write it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def page_url(path: str) -> str:
    """The URL readers use for an output path: a/index.html -> /a/."""
    url = "/" + path
    if url.endswith("/index.html"):
        url = url[: -len("index.html")]
    return quote(url, safe="/")


def as_notice(message: Message) -> notice_post.Notice:
    """A Notice from a Notice, plain text, or None (the kind default)."""
    if isinstance(message, notice_post.Notice):
        return message
    if message is None or not str(message).strip():
        return notice_post.default()
    return notice_post.from_text(str(message))


# The start of the withdraw notice and of the lock's unlock shell: no
# referrer, no indexing, and the state `invoke status` reads back.
_HEAD = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<meta name="hearth-state" content="{state}">
<title>{name}</title>
"""


def notice_html(sitename: str, message: Message, lang: str = "en") -> str:
    """The withdraw notice page: the site's name and the notice post, no script."""
    notice = as_notice(message)
    name = html.escape(sitename)
    heading = f"<h2>{html.escape(notice.title)}</h2>\n" if notice.title else ""
    head = _HEAD.format(
        lang=html.escape(lang), csp=_NOTICE_CSP, state="withdrawn", name=name
    )
    return f"""{head}<link rel="stylesheet" href="/{NOTICE_CSS}">
</head>
<body>
<main>
<h1>{name}</h1>
{heading}<article class="hearth-notice">
{notice.body_html}
</article>
</main>
</body>
</html>
"""


def notice_entry(message: Message, site_url: str) -> dict[str, str] | None:
    """The feed entry of a notice post (title, link, id, html); None for the
    kind default or bare text given to ops (then feeds keep no entry). The
    tasks always pass a Notice, so the writer's message is in the feeds."""
    if not isinstance(message, notice_post.Notice):
        return None
    notice = message
    digest = hashlib.sha256(notice.text.encode()).hexdigest()[:16]
    home = site_url.rstrip("/") + "/"
    return {
        "title": notice.title or "A note from the writer",
        "link": home,
        "id": f"{home}#hearth-notice-{digest}",
        "html": notice.body_html,
    }


def empty_feed(
    path: str,
    *,
    sitename: str,
    site_url: str,
    updated: str,
    entry: Mapping[str, str] | None = None,
) -> str:
    """A valid feed, Atom or RSS after the file's name, with no entry or the
    notice's one (`entry`, from notice_entry)."""
    name = html.escape(sitename)
    home = html.escape(site_url.rstrip("/") + "/")
    if path.lower().endswith(".rss.xml"):
        item = ""
        if entry:
            item = (
                f"<item><title>{html.escape(entry['title'])}</title>"
                f"<link>{html.escape(entry['link'])}</link>"
                f"<description>{html.escape(entry['html'])}</description>"
                f'<guid isPermaLink="false">{html.escape(entry["id"])}</guid>'
                f"<pubDate>{_rfc822(updated)}</pubDate></item>"
            )
        return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{name}</title><link>{home}</link>\
<description>{name}</description><lastBuildDate>{_rfc822(updated)}</lastBuildDate>\
{item}</channel></rss>
"""
    self_url = html.escape(site_url.rstrip("/") + "/" + path)
    item = ""
    if entry:
        item = (
            f"<entry><title>{html.escape(entry['title'])}</title>"
            f'<link href="{html.escape(entry["link"])}" rel="alternate"/>'
            f"<id>{html.escape(entry['id'])}</id><updated>{updated}</updated>"
            f'<content type="html">{html.escape(entry["html"])}</content></entry>'
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>{name}</title>\
<link href="{home}" rel="alternate"/><link href="{self_url}" rel="self"/>\
<id>{home}</id><updated>{updated}</updated>{item}</feed>
"""


def _rfc822(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso).astimezone(UTC)
    except ValueError:
        moment = datetime.now(UTC)
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def _write(dest: Folder, rel: str, data: str | bytes) -> None:
    path = Path(dest) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # never write through a hard link
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def notice_tree(dest: Folder, former: Iterable[str], *, sitename: str, site_url: str,
                since: str, message: Message = None, lang: str = "en",
                feeds: Collection[str] = ()) -> Path:  # fmt: skip
    """Write the withdraw notice tree into dest (a new folder); return dest.

    `former` are the paths the target served before: the notice goes at
    every page among them, an empty feed at every feed among them (and at
    `feeds`, the site's configured feeds). `since` dates the feeds, so that
    withdrawing twice writes the same bytes.
    """
    tree = Path(dest)
    tree.mkdir(parents=True)
    former = set(former)
    pages = sorted({"index.html", "404.html"} | {p for p in former if is_page(p)})
    # One notice, written once and hard-linked at every page: a withdraw of a
    # big site is mostly this loop. Nothing writes into this tree in place.
    first = tree / pages[0]
    _write(tree, pages[0], notice_html(sitename, message, lang))
    made = {first.parent}
    for rel in pages[1:]:
        path = tree / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        try:
            os.link(first, path)
        except OSError:
            shutil.copyfile(first, path)
    entry = notice_entry(message, site_url)
    for rel in sorted({p for p in former if is_feed(p)} | set(feeds)):
        _write(tree, rel, empty_feed(rel, sitename=sitename, site_url=site_url,
                                     updated=since, entry=entry))  # fmt: skip
    _write(tree, "robots.txt", ROBOTS_DISALLOW)
    _write(tree, NOTICE_CSS, _NOTICE_STYLE)
    return tree


def write_marker(
    tree: Folder,
    state: str,
    previous: Mapping[str, Any] | None = None,
    *,
    when: str | None = None,
) -> dict[str, Any]:
    """Write .hearth/release.json into tree; return the marker dict."""
    return marked_manifest(tree, state, previous, when=when)[0]


def marked_manifest(
    tree: Folder,
    state: str,
    previous: Mapping[str, Any] | None = None,
    *,
    when: str | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Write .hearth/release.json into tree; return the marker dict and the
    tree's manifest with the marker in it (every file hashed once).

    `since` is when the target entered this state and `deployed` when its
    files last changed: both are kept from the previous marker when they
    still hold, so a re-run that changes nothing writes the same marker.
    """
    folder = Path(tree)
    (folder / MARKER).unlink(missing_ok=True)
    manifest = tree_manifest(folder)
    digest = manifest_digest(manifest)
    when = when or now()
    previous = previous or {}
    same_state = previous.get("state") == state
    marker = {
        "hearth": 1,
        "state": state,
        "since": previous.get("since", when) if same_state else when,
        "deployed": previous.get("deployed", when)
        if same_state and previous.get("digest") == digest
        else when,
        "files": len(manifest),
        "digest": digest,
    }
    _write(folder, MARKER, json.dumps(marker, indent=1, sort_keys=True) + "\n")
    manifest[MARKER] = md5_file(folder / MARKER)
    return marker, dict(sorted(manifest.items()))


def link_tree(src: Folder, dest: Folder) -> Path:
    """Copy a folder by hard links where possible (cheap, never edited in place)."""

    def link_or_copy(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dest, copy_function=link_or_copy)
    return Path(dest)


# --- Lock -------------------------------------------------------------------


def locked_name(key: bytes, path: str) -> str:
    """The public name of an encrypted asset: says nothing without the key."""
    tag = hmac.new(key, b"hearth-locked-asset\0" + path.encode(), hashlib.sha256)
    return f"{LOCKED_DIR}/{tag.hexdigest()[:32]}"


_SHELL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' blob: data:; font-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'"
)

_SHELL = (
    _HEAD.replace("{state}", "locked")
    + """<link rel="icon" href="data:,">
<link rel="stylesheet" href="{static_url}/css/hearth.css">
<link rel="stylesheet" href="{static_url}/css/lockshell.css">
<script type="module" src="{static_url}/js/lockshell.js"></script>
</head>
<body>
<main class="lockshell wrap" id="main">
<h1>{name}</h1>
{notice}<p>This blog is private for now. If the writer gave you the passphrase,
you can read it here.</p>
<form class="lockshell-form" hidden>
<label for="lockshell-passphrase">Passphrase</label>
<input id="lockshell-passphrase" name="passphrase" type="password"
 autocomplete="current-password" required>
<button type="submit">Unlock</button>
<p class="lockshell-status" role="status" aria-live="polite"></p>
</form>
<noscript><p>Reading this blog needs JavaScript, to unlock it in your
browser.</p></noscript>
</main>
<script type="application/vnd.hearth.envelope" id="hearth-locked-page"
 data-url="{url}"{fallback}>{envelope}</script>
</body>
</html>
"""
)


def lock_shell(sitename: str, envelope_text: str, url: str, *, static_url: str,
               lang: str = "en", fallback: bool = False,
               notice: Message = None) -> str:  # fmt: skip
    """The unlock page that carries one page's envelope (and, public beside
    it, the notice post when the lock was given one)."""
    notice_block = ""
    if notice is not None:
        post = as_notice(notice)
        heading = f"<h2>{html.escape(post.title)}</h2>\n" if post.title else ""
        notice_block = (
            f'<article class="hearth-notice">\n{heading}{post.body_html}\n</article>\n'
        )
    return _SHELL.format(
        notice=notice_block,
        lang=html.escape(lang),
        csp=_SHELL_CSP,
        name=html.escape(sitename),
        static_url=html.escape(static_url),
        url=html.escape(url),
        fallback=" data-fallback" if fallback else "",
        envelope=envelope_text,
    )


def _referenced(
    page_text: str, assets: Mapping[str, dict[str, str]]
) -> dict[str, dict[str, str]]:
    """The locked assets a page refers to (by their root-relative URL)."""
    return {rel: info for rel, info in assets.items() if "/" + rel in page_text}


_CARRIER = re.compile(
    r'<script type="application/vnd\.hearth\.envelope" id="hearth-locked-page"'
    r"[^>]*>([^<]*)</script>"
)
_ATOM_UPDATED = re.compile(rb"<updated>([^<]+)</updated>")


def _previous_lock(
    previous_tree: Folder | None, key: bytes, audience: str
) -> tuple[dict[str, str], dict[str, envelope.Attachment]]:
    """Envelopes and attachments of the last locked tree, to reuse their bytes."""
    envelopes: dict[str, str] = {}
    attachments: dict[str, envelope.Attachment] = {}
    if not previous_tree or not Path(previous_tree).is_dir():
        return envelopes, attachments
    old = Path(previous_tree)
    for path in old.rglob("*.html"):
        rel = path.relative_to(old).as_posix()
        match = _CARRIER.search(path.read_text(encoding="utf-8", errors="replace"))
        if not match:
            continue
        envelopes[rel] = match.group(1)
        try:
            payload = json.loads(envelope.decrypt(match.group(1), rel, key, audience))
        except (envelope.EnvelopeError, ValueError):
            continue  # another passphrase, or damaged: encrypt afresh
        for asset, info in payload.get("assets", {}).items():
            blob = old / info["src"]
            try:
                asset_key = envelope.unb64url(info["key"])
            except ValueError:
                continue  # damaged: encrypt afresh
            if blob.is_file():
                attachments[asset] = envelope.Attachment(asset_key, blob.read_bytes())
    return envelopes, attachments


def _feed_updated(data: bytes) -> str:
    """A feed's own <updated> date, so a re-lock writes the same feed bytes."""
    match = _ATOM_UPDATED.search(data)
    return match.group(1).decode() if match else now()


def lock_tree(src: Folder, dest: Folder, *, recipients: Sequence[envelope.Recipient],
              sitename: str, site_url: str, lang: str = "en",
              static_dir: str = "theme", previous_tree: Folder | None = None,
              notice: Message = None) -> Path:  # fmt: skip
    """Write the locked tree of the built site `src` into dest; return dest.

    Every page becomes an unlock shell carrying the page, encrypted for the
    recipients (the `site` audience), and bound to its output path
    ("2026/a-post/index.html"). Every other content file is encrypted as an
    attachment under a name that says nothing, its key inside the payload of
    the pages that use it. Feeds become feeds without entries; robots.txt
    refuses every crawler; the theme's static files stay public (the unlock
    page needs them). Files that are already ciphertext (private posts'
    images, audiences' lists and keyrings) stay as they are.
    `previous_tree`, the last locked tree, lets unchanged pages and files
    keep their bytes. `notice` (a Notice or
    text) is shown in the clear beside every unlock form and is the feeds'
    one entry.
    """
    built, locked = Path(src), Path(dest)
    locked.mkdir(parents=True)
    audience = recipients[0].audience
    key = recipients[0].key
    old_envelopes, old_attachments = _previous_lock(previous_tree, key, audience)
    static_prefix = static_dir.strip("/") + "/"
    static_url = "/" + static_dir.strip("/")
    files = sorted(
        p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()
    )
    assets: dict[str, dict[str, str]] = {}
    entry = notice_entry(notice, site_url)
    for rel in files:
        public = rel.startswith(static_prefix)
        if not public and (rel in ("robots.txt", MARKER) or is_page(rel)):
            continue  # pages are locked below, robots.txt and the marker anew
        data = (built / rel).read_bytes()
        if public:
            _write(locked, rel, data)  # the theme: public, the shell needs it
        elif is_feed(rel):
            _write(locked, rel, empty_feed(rel, sitename=sitename, site_url=site_url,
                                         updated=_feed_updated(data),
                                         entry=entry))  # fmt: skip
        elif envelope.is_ciphertext(data):
            # Already ciphertext: a private post's file, or an audience's
            # list or keyring, which the browser finds at its own address.
            _write(locked, rel, data)
        else:
            sealed = envelope.encrypt_attachment(
                data, rel, previous=old_attachments.get(rel)
            )
            name = locked_name(key, rel)
            _write(locked, name, sealed.blob)
            assets[rel] = {
                "src": name,
                "key": envelope.b64url(sealed.key),
                "type": content_type(rel),
            }
    for rel in files:
        if not is_page(rel) or rel.startswith(static_prefix):
            continue
        text = (built / rel).read_text(encoding="utf-8")
        payload = json.dumps(
            {"html": text, "assets": _referenced(text, assets)}, sort_keys=True
        ).encode()
        carried = envelope.encrypt(
            payload, rel, recipients, previous=old_envelopes.get(rel)
        )
        shell = lock_shell(
            sitename, carried, rel, static_url=static_url, lang=lang,
            fallback=rel == "404.html", notice=notice,
        )  # fmt: skip
        _write(locked, rel, shell)
    _write(locked, "robots.txt", ROBOTS_DISALLOW)
    return locked
