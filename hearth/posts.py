"""The writer's view of the site: list every post, start a new one.

`invoke posts`, `invoke new-post` and `invoke unlock-link` are thin wrappers
over this module. Posts are read with hearth.reading.read_site, the one
reading the build and the leak audit use, so the table can never call a post
public that the build would encrypt (or the other way round). A new post is
never written over an existing file.
"""

import dataclasses
import datetime as dt
import json
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pelican.settings import DEFAULT_CONFIG
from pelican.utils import slugify
from rich.table import Table
from rich.text import Text

from hearth import frontmatter, reading, warnings
from hearth.reading import Reading

POST_SUFFIXES = (".md", ".markdown", ".mkd", ".mdown")
DEFAULT_SLUG_SUBSTITUTIONS = DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"]
PUBLISHED, DRAFT = "published", "draft"
# What a private post's `listing` means in the table.
LISTING_NOTES = {"hidden": "not listed", "locked": "listed locked"}
_PRIVATE_URL = re.compile(r"^/?p/(?P<id>[0-9a-f]+)/?$")


class NewPostError(ValueError):
    """A new post that cannot be written as asked (nothing was written)."""


class LinkTargetError(ValueError):
    """An unlock link that would not open what the writer meant."""


def list_posts(settings: Mapping[str, Any]) -> list[Reading]:
    """Every article (newest first, undated last) then every page, as Readings.

    `settings`: Pelican settings (pelican.settings.read_settings). Broken
    files are in the list with `error` set, so the table shows every file.
    Warnings are shown as the build shows them: `sh` is `self-harm`.
    """
    vocabulary, aliases = warnings.vocabulary_in(settings)
    return sort_posts(
        [
            dataclasses.replace(
                found,
                warnings=tuple(
                    warnings.canonical_labels(found.warnings, vocabulary, aliases)
                ),
            )
            for found in reading.read_site(settings)
        ]
    )


def sort_posts(found: Iterable[Reading]) -> list[Reading]:
    """Readings as the table shows them: articles newest first, then pages."""
    oldest = dt.datetime.min
    found = list(found)

    def newest_first(post: Reading) -> dt.datetime:
        date = post.date or oldest
        return date.replace(tzinfo=None)

    articles = [r for r in found if r.kind == "article"]
    pages = [r for r in found if r.kind != "article"]
    return sorted(articles, key=newest_first, reverse=True) + sorted(
        pages, key=lambda r: r.relative_path
    )


def slug_for(title: str, regex_subs: Any = DEFAULT_SLUG_SUBSTITUTIONS) -> str:
    """The slug Pelican derives from a title (SLUG_REGEX_SUBSTITUTIONS)."""
    return str(slugify(title, regex_subs=regex_subs))


def _yaml(value: object) -> str:
    # JSON strings and lists are valid YAML flow scalars and sequences, and
    # quoting every value means a title like "Yes: no" stays a title.
    return json.dumps(value, ensure_ascii=False)


def post_text(
    title: str,
    *,
    date: dt.datetime,
    audience: Sequence[str],
    warnings: Sequence[str],
    listing: str,
) -> str:
    """The Markdown text of a new post: front-matter that explains itself."""
    audience_value = "public" if not audience else _yaml(audience)
    lines = [
        "---",
        "# Front-matter: how Hearth treats this post (README, 'Writing a post').",
        "# title: shown on the page, in lists and in the feed.",
        f"title: {_yaml(title)}",
        "# date: the post's date; lists show the newest first.",
        f"date: {date:%Y-%m-%d %H:%M}",
        "# category: one name that groups posts; tags: a list, [] for none.",
        "# category: Notes",
        "tags: []",
        "# summary: a sentence for lists and the feed (else the post's start).",
        "# summary: ",
        "# warnings: content warnings a reader sees before the post, e.g.",
        "# [self-harm, grief]; [] for none.",
        f"warnings: {_yaml(warnings)}",
        "# audience: public for everyone, or who may read it, e.g. [friends];",
        "# a private post is encrypted and needs a passphrase to read.",
        f"audience: {audience_value}",
        "# listing: how a private post shows in public lists:",
        "# hidden (not at all) or locked (a locked entry).",
        f"listing: {listing}",
        "# status: draft keeps it in the preview only; set published when ready.",
        "status: draft",
        "---",
        "",
        "Write here.",
        "",
    ]
    return "\n".join(lines)


def new_post(
    posts_dir: str | os.PathLike[str],
    title: str | None,
    *,
    known_audiences: Collection[str],
    audience: object = None,
    warnings: object = None,
    listing: str | None = None,
    now: dt.datetime | None = None,
    regex_subs: Any = DEFAULT_SLUG_SUBSTITUTIONS,
    default_audience: object = None,
    readings: Iterable[Reading] = (),
) -> Path:
    """Write posts_dir/YYYY-MM-DD-<slug>.md as a draft and return its Path.

    `audience` None means the site's default (`default_audience`, the
    HEARTH_DEFAULT_AUDIENCE setting; public without one), written out in the
    header so the post says who may read it. `readings` (read_site) are the
    site's posts: a new post may not take a slug one of them has. Raise
    NewPostError (or FrontMatterError for a bad audience or listing) and
    write nothing if the post would overwrite or shadow another.
    """
    title = (title or "").strip()
    if not title:
        raise NewPostError('The title is empty: invoke new-post "A title".')
    slug = slug_for(title, regex_subs)
    if not slug:
        raise NewPostError(
            f"The title {title!r} has no letters or digits to make a file name "
            "from; add a word or two."
        )
    if audience is None:
        audience, source = default_audience or frontmatter.PUBLIC, "the default"
    else:
        source = "--audience"
    names = frontmatter.audience_names(audience, known_audiences, source)
    if listing and not names:
        raise NewPostError(
            "--listing only applies to a private post; add --audience with one "
            f"of: {', '.join(sorted(known_audiences))}."
        )
    mode = frontmatter.listing_mode(listing, "--listing")
    now = now or dt.datetime.now()
    posts_dir = Path(posts_dir)
    path = posts_dir / f"{now:%Y-%m-%d}-{slug}.md"
    for other in sorted(posts_dir.glob(f"*{slug}.*")):
        if other.suffix in POST_SUFFIXES and _slug_of(other) == slug:
            raise NewPostError(
                f"{other} already has the slug {slug!r}; nothing was written. "
                "Open that file, or choose a different title."
            )
    for known in readings:
        if known.kind == "article" and known.slug == slug:
            raise NewPostError(
                f"{reading.shown_path(known.source_path)} already has the slug "
                f"{slug!r}; nothing was written. Open that file, or choose a "
                "different title."
            )
    text = post_text(
        title,
        date=now,
        audience=names,
        warnings=frontmatter.as_list(warnings),
        listing=mode,
    )
    posts_dir.mkdir(parents=True, exist_ok=True)
    try:
        # "x": never replace a file, even one that appeared a moment ago.
        with path.open("x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        raise NewPostError(f"{path} already exists; nothing was written.") from None
    return path


def _slug_of(path: Path) -> str:
    """The slug part of a post file name (after a YYYY-MM-DD- prefix)."""
    return re.sub(r"^\d{4}-\d{2}-\d{2}-", "", path.stem)


def unlock_target(
    readings: Iterable[Reading],
    post_ids: Mapping[str, str],
    audience: str,
    target: str,
) -> str:
    """The address an unlock link for `audience` should open, checked.

    `target` is a private post's address (/p/<id>/) or its source file
    (content/posts/....md); `post_ids` maps source paths (relative to the
    content folder) to the opaque ids in the state file. Raise
    LinkTargetError when the post is not for that audience, is public, or
    cannot be read: a link that opens nothing is a mistake to catch now.
    """
    readings = list(readings)
    by_path = {r.relative_path: r for r in readings}
    by_file = {str(r.source_path): r for r in readings}
    ids = {post_id: source for source, post_id in post_ids.items()}
    found = _PRIVATE_URL.match(
        target.split("#", maxsplit=1)[0]
        .split("?", maxsplit=1)[0]
        .rsplit("//", maxsplit=1)[-1]
    )
    if found:
        source = ids.get(found["id"])
        post = by_path.get(source) if source else None
        if post is None:
            return target  # an audience's list of posts, or a post not built yet
    else:
        post = by_file.get(str(Path(target).absolute())) or by_path.get(target)
        if post is None:
            raise LinkTargetError(
                f"{target!r} is neither a private post's address (/p/<id>/) nor "
                "a post's file; give one of those."
            )
    shown = reading.shown_path(post.source_path)
    if post.error:
        raise LinkTargetError(post.error)
    if not post.is_private:
        raise LinkTargetError(
            f"{shown} is public: it needs no link. Give a private post's address."
        )
    if audience not in post.audience:
        raise LinkTargetError(
            f"{shown} is for {', '.join(post.audience)}, not {audience!r}: a link "
            f"for {audience!r} would not open it. Use --audience "
            f"{post.audience[0]}."
        )
    if found:
        return target
    if post.relative_path not in post_ids:
        raise LinkTargetError(
            f"{shown} has no address yet: build the site once (invoke build), "
            "then make the link."
        )
    return f"/p/{post_ids[post.relative_path]}/"


def link_grants(
    posts: Iterable[Reading], audience: str, settings: Mapping[str, Any]
) -> str:
    """What an unlock link for `audience` lets its holder read, in one line."""
    label = (settings.get("HEARTH_AUDIENCES") or {}).get(audience)
    named = f"{audience!r} ({label})" if label else repr(audience)
    mine = [
        p
        for p in posts
        if not p.error and p.kind == "article" and audience in p.audience
    ]
    shown = sum(p.status == PUBLISHED for p in mine)
    return (
        f"Anyone with this link can read every post for {named}: "
        f"{_count(shown, 'post')} now, and any you add for {audience!r} later, "
        "until you change its passphrase. It opens no other audience's posts. "
        "Send it privately."
    )


def _title(post: Reading) -> str:
    return post.title or post.relative_path


def address(
    post: Reading, settings: Mapping[str, Any], post_ids: Mapping[str, str]
) -> str:
    """Where a post is read: its public URL, its opaque private address, or
    the preview address of a draft or hidden post ("-" when it has none).

    `settings`: Pelican settings (ARTICLE_URL, DRAFT_URL, ...); `post_ids`:
    the state file's {source path: id} (hearth.state.State.post_ids).
    """
    if post.error:
        return "-"
    if post.is_private:
        post_id = post_ids.get(post.relative_path)
        if post_id is None:
            return "/p/…/ (after the next build)"
        return f"/p/{post_id}/"
    page = post.kind != "article"
    if post.status == DRAFT:
        pattern = settings.get("DRAFT_PAGE_URL" if page else "DRAFT_URL")
    else:
        pattern = settings.get("PAGE_URL" if page else "ARTICLE_URL")
    if not pattern:
        return "-"
    values = {
        **post.metadata,
        "slug": post.slug,
        "date": post.date,
        "lang": settings.get("DEFAULT_LANG", "en"),
        "category": slugify(post.category or settings.get("DEFAULT_CATEGORY", "")),
        "author": slugify(post.authors[0]) if post.authors else "",
    }
    try:
        url = "/" + str(pattern.format(**values)).lstrip("/")
    except (KeyError, ValueError, TypeError, AttributeError, IndexError):
        return "-"
    return url


def unknown_labels(
    posts: Iterable[Reading],
    vocabulary: warnings.Vocabulary,
    aliases: warnings.Aliases | None = None,
) -> list[str]:
    """One line per post that uses warning labels the vocabulary lacks."""
    lines: list[str] = []
    for post in posts:
        if post.error:
            continue
        _details, unknown = warnings.resolve(post.warnings, vocabulary, aliases)
        for label in unknown:
            near = warnings.nearest_label(label, vocabulary, aliases)
            hint = f" Did you mean '{near}'?" if near else ""
            lines.append(
                f"{reading.shown_path(post.source_path)}: the warning label "
                f"{label!r} is not in the vocabulary, so readers see it without "
                f"a description and a publish build stops on it.{hint} Fix the "
                "spelling, or add it to HEARTH_WARNINGS in pelicanconf.py."
            )
    return lines


def posts_table(
    posts: Sequence[Reading],
    settings: Mapping[str, Any] | None = None,
    post_ids: Mapping[str, str] | None = None,
) -> Table:
    """A rich Table of posts: private rows marked, drafts dimmed.

    With `settings` (and the state file's `post_ids`) it has an Address
    column: where each post is read, or previewed.
    """
    table = Table(title="Posts", title_justify="left", expand=False)
    table.add_column("Date", no_wrap=True)
    table.add_column("Title")
    table.add_column("Status", no_wrap=True)
    table.add_column("Audience")
    table.add_column("Warnings")
    if settings is not None:
        table.add_column("Address", no_wrap=True, overflow="fold")
    extra: list[str | None] = [] if settings is None else [None]
    for post in posts:
        if settings is not None:
            extra = [address(post, settings, post_ids or {})]
        date = f"{post.date:%Y-%m-%d}" if post.date and post.date.year < 9999 else "-"
        if post.kind != "article":
            date = "page"
        if post.error:
            # The message itself is printed under the table (it names the file).
            error = Text("ERROR", style="bold red")
            table.add_row(
                date,
                post.relative_path,
                error,
                Text("see below", style="red"),
                "",
                *extra,
            )
            continue
        if post.is_private:
            audience = Text(
                f"PRIVATE: {', '.join(post.audience)}", style="bold magenta"
            )
            audience.append(f" ({LISTING_NOTES[post.listing]})", style="magenta")
        else:
            audience = Text("public", style="green")
        status = Text(
            post.status, style="dim" if post.status != PUBLISHED else "default"
        )
        table.add_row(
            date,
            Text(_title(post), style="dim" if post.status == DRAFT else ""),
            status,
            audience,
            ", ".join(post.warnings) or "-",
            *extra,
        )
    table.caption = summary_line(posts)
    table.caption_justify = "left"
    return table


def summary_line(posts: Sequence[Reading]) -> str:
    """One line: how many posts are public, private, drafts, broken."""
    articles = [p for p in posts if p.kind == "article"]
    ok = [p for p in articles if not p.error]
    published = [p for p in ok if p.status == PUBLISHED]
    parts = [
        f"{sum(not p.is_private for p in published)} public",
        f"{sum(p.is_private for p in published)} private (encrypted when published)",
        _count(sum(p.status == DRAFT for p in ok), "draft") + " (preview only)",
    ]
    hidden = sum(p.status == "hidden" for p in ok)
    parts.append(f"{hidden} hidden (preview only)")
    pages = [p for p in posts if p.kind != "article" and not p.error]
    if pages:
        held = sum(p.status != PUBLISHED for p in pages)
        parts.append(
            _count(len(pages), "page")
            + (f" ({held} draft or hidden, preview only)" if held else "")
        )
    broken = sum(1 for p in posts if p.error)
    if broken:
        parts.append(f"{broken} with errors (the build stops on them)")
    return f"{_count(len(articles), 'post')}: " + ", ".join(parts) + "."


def left_out(posts: Iterable[Reading]) -> str | None:
    """What a publish build leaves out, by name: one line, or None if nothing.

    Drafts and hidden posts never go public; naming them tells the writer
    that "0 drafts" in Pelican's summary means "held back", not "none".
    """
    held = [p for p in posts if not p.error and p.status != PUBLISHED]
    if not held:
        return None
    names = ", ".join(f"{reading.shown_path(p.source_path)} ({p.status})" for p in held)
    return f"Left out of what goes public (preview only): {names}."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
