"""The writer's view of content/posts: list every post, start a new one.

`invoke posts` and `invoke new-post` are thin wrappers over this module. It
reads front-matter the way the build does (YAML between `---` lines through
pelican-yaml-metadata's header pattern, else Pelican's `Key: value` header
through Markdown's meta extension) and never writes over an existing file.
"""

import dataclasses
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import markdown
import yaml
from pelican.plugins.yaml_metadata.yaml_metadata import HEADER_RE
from pelican.settings import DEFAULT_CONFIG
from pelican.utils import get_date, slugify
from rich.table import Table
from rich.text import Text

from hearth import frontmatter

POST_SUFFIXES = (".md", ".markdown", ".mkd", ".mdown")
# Pelican's default FILENAME_METADATA: a post without `date` takes the one in
# its file name, so the table does the same.
FILENAME_DATE = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})")
DEFAULT_SLUG_SUBSTITUTIONS = DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"]
PUBLISHED, DRAFT = "published", "draft"
# What a private post's `listing` means in the table.
LISTING_NOTES = {"hidden": "not listed", "locked": "listed locked"}


class NewPostError(ValueError):
    """A new post that cannot be written as asked (nothing was written)."""


@dataclass(frozen=True)
class Post:
    """What the writer needs to know about one post at a glance."""

    path: Path
    title: str
    date: dt.datetime | None = None
    status: str = PUBLISHED
    audience: list[str] = field(default_factory=list)  # [] = public
    listing: str = frontmatter.DEFAULT_LISTING
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # why the build would stop on (or skip) this file

    @property
    def is_private(self):
        return bool(self.audience)


def _read_header(path):
    """Return the raw front-matter of a post as a dict of lowercase keys."""
    text = path.read_text(encoding="utf-8")
    match = HEADER_RE.fullmatch(text)
    if match:
        data = yaml.safe_load(match.group("metadata"))
        if not isinstance(data, dict):
            raise frontmatter.FrontMatterError(
                f"{path}: the YAML front-matter is not a list of 'key: value' lines."
            )
        return {str(k).lower(): v for k, v in data.items()}
    # Pelican's own Markdown reader reads `Key: value` headers with this
    # extension; a value spread over several lines is one value.
    md = markdown.Markdown(extensions=["meta"])
    md.convert(text)
    return {k.lower(): " ".join(v).strip() for k, v in md.Meta.items()}


def _date(value, path):
    if value is None:
        found = FILENAME_DATE.match(path.name)
        value = found and found["date"]
    if not value:
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return get_date(str(value).replace("_", " "))


def read_post(path, known_audiences):
    """Read one post's front-matter into a Post; problems go in Post.error.

    The table must show every file, broken ones included, so a problem is
    recorded on the row instead of raised.
    """
    path = Path(path)
    try:
        meta = _read_header(path)
    except yaml.YAMLError as err:
        problem = getattr(err, "problem", None) or err
        return Post(
            path, path.stem, error=f"{path}: malformed YAML front-matter ({problem})"
        )
    except frontmatter.FrontMatterError as err:
        return Post(path, path.stem, error=str(err))
    title = str(meta.get("title") or "").strip()
    try:
        audience = frontmatter.audience_names(
            meta.get("audience"), known_audiences, path
        )
        listing = frontmatter.listing_mode(meta.get("listing"), path)
    except frontmatter.FrontMatterError as err:
        return Post(path, title or path.stem, error=str(err))
    try:
        date = _date(meta.get("date"), path)
    except (ValueError, OverflowError):
        error = f"{path}: 'date' {meta.get('date')!r} is not a date (2026-01-31 18:00)"
        return Post(path, title or path.stem, error=error)
    post = Post(
        path,
        title or path.stem,
        date=date,
        status=str(meta.get("status") or PUBLISHED).strip().lower(),
        audience=audience,
        listing=listing,
        warnings=frontmatter.as_list(meta.get("warnings")),
    )
    if not title:
        return _with_error(post, "no 'title': Pelican skips a post without one")
    if date is None:
        return _with_error(post, "no 'date', and none in the file name")
    return post


def _with_error(post, error):
    return dataclasses.replace(post, error=f"{post.path}: {error}")


def list_posts(folders, known_audiences):
    """Every post under the folders, newest first (posts without a date last)."""
    posts = [
        read_post(path, known_audiences)
        for folder in folders
        for path in sorted(Path(folder).rglob("*"))
        if path.suffix in POST_SUFFIXES and path.is_file()
    ]
    oldest = dt.datetime.min

    def newest_first(post):
        date = post.date or oldest
        return date.replace(tzinfo=None)

    return sorted(posts, key=newest_first, reverse=True)


def slug_for(title, regex_subs=DEFAULT_SLUG_SUBSTITUTIONS):
    """The slug Pelican derives from a title (SLUG_REGEX_SUBSTITUTIONS)."""
    return slugify(title, regex_subs=regex_subs)


def _yaml(value):
    # JSON strings and lists are valid YAML flow scalars and sequences, and
    # quoting every value means a title like "Yes: no" stays a title.
    return json.dumps(value, ensure_ascii=False)


def post_text(title, *, date, audience, warnings, listing):
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
    posts_dir,
    title,
    *,
    known_audiences,
    audience=None,
    warnings=None,
    listing=None,
    now=None,
    regex_subs=DEFAULT_SLUG_SUBSTITUTIONS,
):
    """Write posts_dir/YYYY-MM-DD-<slug>.md as a draft and return its Path.

    Raise NewPostError (or FrontMatterError for a bad audience or listing)
    and write nothing if the post would overwrite or shadow another.
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
    names = frontmatter.audience_names(
        audience or frontmatter.PUBLIC, known_audiences, "--audience"
    )
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


def _slug_of(path):
    """The slug part of a post file name (after a YYYY-MM-DD- prefix)."""
    return re.sub(r"^\d{4}-\d{2}-\d{2}-", "", path.stem)


def posts_table(posts):
    """A rich Table of posts: private rows marked, drafts dimmed."""
    table = Table(title="Posts", title_justify="left", expand=False)
    table.add_column("Date", no_wrap=True)
    table.add_column("Title")
    table.add_column("Status", no_wrap=True)
    table.add_column("Audience")
    table.add_column("Warnings")
    for post in posts:
        date = f"{post.date:%Y-%m-%d}" if post.date else "-"
        if post.error:
            # The message itself is printed under the table (it names the file).
            error = Text("ERROR", style="bold red")
            table.add_row(date, post.title, error, Text("see below", style="red"), "")
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
            Text(post.title, style="dim" if post.status == DRAFT else ""),
            status,
            audience,
            ", ".join(post.warnings) or "-",
        )
    table.caption = summary_line(posts)
    table.caption_justify = "left"
    return table


def summary_line(posts):
    """One line: how many posts are public, private, drafts, broken."""
    ok = [p for p in posts if not p.error]
    published = [p for p in ok if p.status == PUBLISHED]
    parts = [
        f"{sum(not p.is_private for p in published)} public",
        f"{sum(p.is_private for p in published)} private (encrypted when published)",
        _count(sum(p.status == DRAFT for p in ok), "draft") + " (preview only)",
    ]
    broken = len(posts) - len(ok)
    if broken:
        parts.append(f"{broken} with errors (the build stops on them)")
    return f"{_count(len(posts), 'post')}: " + ", ".join(parts) + "."


def _count(n, noun):
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
