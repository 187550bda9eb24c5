"""A built tree as a release: its manifest and digest, the marker, what each path is.

The withdraw and lock trees (hearth.deploy) and every publish target
(hearth.targets) agree on these, so both import them from here and neither
imports the other's side: hearth.targets uses hearth.deploy, never the reverse.
"""

import hashlib
import json
import mimetypes
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# The marker each deploy writes: what is live, since when, how many files.
MARKER = ".hearth/release.json"

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".ico": "image/vnd.microsoft.icon",
}


def read_record(data: bytes | None) -> dict[str, Any] | None:
    """A JSON object from bytes (the marker, a lease record); None when absent,
    unreadable or not an object."""
    if not data:
        return None
    try:
        record = json.loads(data)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def content_type(path: str) -> str:
    """The Content-Type a web server should send for this output path."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(".atom.xml"):
        return "application/atom+xml; charset=utf-8"
    if name.endswith(".rss.xml"):
        return "application/rss+xml; charset=utf-8"
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def md5_file(path: str | os.PathLike[str]) -> str:
    """The MD5 hex of a file's bytes (what targets compare; not for security)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_manifest(tree: str | os.PathLike[str]) -> dict[str, str]:
    """{relative posix path: md5 hex} of every file under tree."""
    root = Path(tree)
    return {
        p.relative_to(root).as_posix(): md5_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def manifest_digest(manifest: Mapping[str, str]) -> str:
    """One hash over paths and contents, the marker excluded (it names it)."""
    digest = hashlib.sha256()
    for path in sorted(manifest):
        if path != MARKER:
            digest.update(f"{path}\0{manifest[path]}\n".encode())
    return digest.hexdigest()


def is_page(path: str) -> bool:
    """A page: what a withdraw replaces with the notice and a lock with a shell."""
    return path.lower().endswith((".html", ".htm"))


def is_feed(path: str) -> bool:
    """An Atom or RSS feed (Pelican's names, or anything under feeds/)."""
    name = path.lower()
    return name.endswith((".atom.xml", ".rss.xml")) or (
        name.startswith("feeds/") and name.endswith(".xml")
    )
