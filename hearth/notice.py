"""The one post readers see while the site is withdrawn or locked.

`withdraw` and `lock` take the notice as a file (a Markdown post with
front-matter, e.g. content/notices/resting.md), as text on the command line,
or not at all (the kind default). Nothing in content/ is edited: the file is
only read.

The Markdown is rendered safely, because the notice goes out on pages whose
policy allows no script: raw HTML in the source is shown as text, links keep
only http(s) and mailto addresses, images are dropped (the notice tree holds
none of the site's files).
"""

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import markdown
import yaml
from markdown.treeprocessors import Treeprocessor

from hearth import frontmatter

DEFAULT_NOTICE = (
    "This blog is resting for now. The writing that was here has been taken "
    "down, and that is all right.\n\nThank you for reading. Take good care of "
    "yourself."
)
_SAFE_LINK = re.compile(r"^(https?://|mailto:|/|#)", re.IGNORECASE)
_FRONT = re.compile(r"\A---\s*\n(.*?)\n(?:---|\.\.\.)\s*(?:\n|\Z)", re.DOTALL)


class NoticeError(ValueError):
    """The notice cannot be used as it is (the message says why and how to fix)."""


@dataclass(frozen=True)
class Notice:
    title: str | None  # the post's title, if it had one
    body_html: str  # safe HTML: paragraphs, lists, emphasis, links
    text: str  # the Markdown source of the body (for the feed's entry)
    source: str | None = None  # the file it came from


class _Scrub(Treeprocessor):
    def run(self, root: ET.Element) -> None:
        for parent in root.iter():
            for child in list(parent):
                if child.tag == "img":
                    alt = child.get("alt") or ""
                    parent.remove(child)
                    if alt:
                        parent.text = (parent.text or "") + alt
                elif child.tag == "a":
                    href = child.get("href") or ""
                    for name in list(child.attrib):
                        if name != "href":
                            del child.attrib[name]
                    if not _SAFE_LINK.match(href):
                        del child.attrib["href"]
                    else:
                        child.set("rel", "noopener noreferrer")


def render(text: str) -> str:
    """Markdown to HTML with raw HTML shown as text, no scripts, no images."""
    # Escape before Markdown sees it: `<` and `&` can then never start a tag
    # or an entity of the writer's; `>` stays, for quotations.
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    md = markdown.Markdown(extensions=[])
    md.treeprocessors.register(_Scrub(md), "hearth-scrub", 0)
    html: str = md.convert(escaped)
    return html


def from_text(text: str | None) -> Notice:
    """A notice of the writer's words (Markdown); NoticeError when empty."""
    text = (text or "").strip()
    if not text:
        raise NoticeError(
            "The notice message is empty: give the words readers should see, "
            'e.g. invoke withdraw "Taking a break for a few days."'
        )
    return Notice(None, render(text), text)


def default() -> Notice:
    """The notice when the writer gives none."""
    return Notice(None, render(DEFAULT_NOTICE), DEFAULT_NOTICE)


def from_file(
    path: str | os.PathLike[str], known_audiences: Collection[str] | None = None
) -> Notice:
    """A notice post: a Markdown file, with or without front-matter."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NoticeError(
            f"The notice file {path} does not exist: check the path "
            "(e.g. content/notices/resting.md)."
        ) from None
    except UnicodeDecodeError:
        raise NoticeError(f"The notice file {path} is not UTF-8 text.") from None
    except OSError as e:
        raise NoticeError(f"The notice file {path} cannot be read: {e}.") from None
    meta: Any = {}
    body = raw
    match = _FRONT.match(raw)
    if match:
        try:
            meta = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" at line {mark.line + 2}" if mark else ""
            raise NoticeError(
                f"The notice file {path}: its front-matter is not valid YAML"
                f"{where}. Fix it, or give the message with --message."
            ) from None
        if not isinstance(meta, dict):
            raise NoticeError(
                f"The notice file {path}: its front-matter must be 'key: value' "
                "lines between two '---' lines."
            )
        body = raw[match.end() :]
    audience = meta.get("audience")
    if audience is not None:
        try:
            names = frontmatter.audience_names(
                audience, known_audiences or {}, source=str(path)
            )
        except frontmatter.FrontMatterError as e:
            raise NoticeError(str(e)) from None
        if names:  # [] is public
            raise NoticeError(
                f"The notice file {path} is for {', '.join(names)}, but a notice "
                "is public: everyone who visits sees it. Use a post meant for "
                "everyone (audience: public, or no audience)."
            )
    body = body.strip()
    if not body:
        raise NoticeError(
            f"The notice file {path} has no text after its front-matter: write "
            "the words readers should see."
        )
    title = meta.get("title")
    return Notice(str(title) if title else None, render(body), body, str(path))


def choose(
    *,
    message: str | None = None,
    message_file: str | os.PathLike[str] | None = None,
    root: str | os.PathLike[str] = ".",
    known_audiences: Collection[str] | None = None,
) -> Notice:
    """The notice from the command's words: a file in content/, a file, or text.

    A positional message or --message that names an existing file (relative
    to the repository or to content/) is read as a post; anything else is the
    text itself.
    """
    if message and message_file:
        raise NoticeError(
            "Give the notice once: either a message or --message-file, not both."
        )
    if message_file:
        return from_file(Path(root) / message_file, known_audiences)
    if message is None:
        return default()
    candidate = message.strip()
    if candidate.endswith((".md", ".markdown", ".txt")) and "\n" not in candidate:
        for base in (Path(root), Path(root) / "content"):
            if (base / candidate).is_file():
                return from_file(base / candidate, known_audiences)
        raise NoticeError(
            f"{candidate!r} looks like a file name, but there is no such file in "
            "the repository or in content/. Check the path, or quote the words "
            "you meant with --message."
        )
    return from_text(message)
