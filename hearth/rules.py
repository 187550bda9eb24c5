"""Part of the blog: rules that move posts out of public view, files untouched.

A rule picks posts by file, by date (`before`), by tag or by category, and
does one thing to them:

- `audience`: the public ones among them become private for that audience
  (encrypted like any private post); posts already private keep their own
  audience (a rule never widens who may read);
- `unpublish`: they leave the site, its lists and feeds, and their
  address gives the site's "not found" page. A draft stays a draft. (No
  page of its own is written there: the build cannot know whether that
  address was ever online, and a page at the address of a post that never
  was would publish its slug, often its title.)

The rules live in `hearth-rules.json` beside `content/` (tracked: commit
it). They are applied to the metadata Pelican merged for each article,
before Hearth's checks, in the one reading every part uses
(hearth.reading.use_strict_readers installs them): the build, the leak
audit and `invoke posts` see the same posts. No file in content/ and no
`status:` is ever edited; removing the rule (`--undo`) is the way back.
"""

import datetime as dt
import inspect
import json
import os
from collections.abc import Collection, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearth.ownerfiles import replace_readable

RULES_FILE_NAME = "hearth-rules.json"
RULES_SETTING = "HEARTH_RULES_FILE"
FORMAT = 1
_SELECTORS = ("file", "before", "tag", "category")


class RulesError(ValueError):
    """A rule or a rules file that cannot be used (the message says how to fix)."""


@dataclass(frozen=True)
class Rule:
    file: str | None = None  # relative to content/, '/' separators
    before: str | None = None  # YYYY-MM-DD: posts dated before that day
    tag: str | None = None
    category: str | None = None
    audience: str | None = None  # set: make the public ones private for it
    unpublish: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, False)}

    def selection(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.before:
            parts.append(f"dated before {self.before}")
        if self.tag:
            parts.append(f"tagged {self.tag!r}")
        if self.category:
            parts.append(f"in category {self.category!r}")
        return ", ".join(parts)

    def describe(self) -> str:
        what = "unpublished" if self.unpublish else f"private for {self.audience}"
        return f"{what} (rule: {self.selection()})"

    def matches(self, relative: str, meta: Mapping[str, Any]) -> bool:
        if self.file and relative != self.file:
            return False
        if self.before:
            date = meta.get("date")
            if not isinstance(date, dt.datetime | dt.date):
                return False
            day = date.date() if isinstance(date, dt.datetime) else date
            if day >= dt.date.fromisoformat(self.before):
                return False
        if self.tag:
            tags = {str(t).lower() for t in meta.get("tags") or ()}
            if self.tag.lower() not in tags:
                return False
        category = str(meta.get("category") or "").lower()
        return not (self.category and category != self.category.lower())


def make_rule(*, file: str | None = None, before: str | None = None,
              tag: str | None = None, category: str | None = None,
              audience: str | None = None, unpublish: bool = False,
              content_path: str | os.PathLike[str] = "content",
              known: Collection[str] | None = None) -> Rule:  # fmt: skip
    """A checked Rule from a command's options."""
    if not any((file, before, tag, category)):
        raise RulesError(
            "Say which posts: --file content/posts/….md, --before 2026-06-01, "
            "--tag therapy or --category Notes (several narrow it down)."
        )
    if bool(audience) == bool(unpublish):
        raise RulesError(
            "Say what happens to them: --audience friends (private for an "
            "audience) or --unpublish (off the site), one of the two."
        )
    if audience:
        audience = audience.strip().lower()
        if audience == "public":
            raise RulesError(
                "A rule only narrows who may read: to make posts public again, "
                "undo the rule that made them private (--undo)."
            )
        if known is not None and audience not in known:
            raise RulesError(
                f"Unknown audience {audience!r}. Known audiences: "
                f"{', '.join(sorted(known)) or '(none declared)'}; declare new "
                "ones in HEARTH_AUDIENCES in pelicanconf.py."
            )
    if before:
        try:
            before = dt.date.fromisoformat(str(before).strip()).isoformat()
        except ValueError:
            raise RulesError(
                f"--before {before!r} is not a date: write it as 2026-06-01."
            ) from None
    if file:
        file = relative_to_content(file, content_path)
    return Rule(
        file=file, before=before, tag=tag.strip() if tag else None,
        category=category.strip() if category else None,
        audience=audience or None, unpublish=bool(unpublish),
    )  # fmt: skip


def relative_to_content(file: str, content_path: str | os.PathLike[str]) -> str:
    """'content/posts/a.md' or 'posts/a.md' -> 'posts/a.md' (must exist)."""
    content = Path(content_path).resolve()
    for candidate in (Path(file), content / file):
        path = candidate.resolve()
        if path.is_file():
            try:
                return path.relative_to(content).as_posix()
            except ValueError:
                break
    raise RulesError(
        f"{file}: no such post in {content_path}/. Give its file, e.g. "
        "content/posts/2026-08-27-foggy-days.md (see `invoke posts`)."
    )


def rules_file(settings: Mapping[str, Any]) -> Path:
    """Where the rules are: HEARTH_RULES_FILE (env, then setting), else beside
    the content folder."""
    given = os.environ.get(RULES_SETTING) or settings.get(RULES_SETTING)
    base = Path(settings.get("PATH") or "content").resolve().parent
    return base / (given or RULES_FILE_NAME)


def load(path: str | os.PathLike[str]) -> list[Rule]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as e:
        raise RulesError(f"The rules file {path} cannot be read: {e}.") from None
    try:
        data = json.loads(text)
        if data.get("format", FORMAT) != FORMAT:
            raise ValueError
        found = []
        for entry in data["rules"]:
            unknown = set(entry) - {*_SELECTORS, "audience", "unpublish"}
            if unknown or not any(entry.get(k) for k in _SELECTORS):
                raise ValueError
            if bool(entry.get("audience")) == bool(entry.get("unpublish")):
                raise ValueError
            if entry.get("before"):
                dt.date.fromisoformat(entry["before"])
            found.append(Rule(**entry))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise RulesError(
            f"The rules file {path} cannot be read safely, so nothing is built: "
            f"restore it from git (git checkout -- {path.name}) or fix the entry "
            "by hand (each rule: one of file, before, tag, category, and either "
            "audience or unpublish: true)."
        ) from None
    return found


def save(path: str | os.PathLike[str], rules: Iterable[Rule]) -> None:
    path = Path(path)
    rules = list(rules)
    if not rules:
        path.unlink(missing_ok=True)
        return
    data = {
        "format": FORMAT,
        "about": "Hearth's rules: posts moved out of public view without "
        "editing them. Commit this file; `invoke rule --undo` removes one.",
        "rules": [r.as_dict() for r in rules],
    }
    replace_readable(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def apply(
    rules: Iterable[Rule], relative: str, meta: MutableMapping[str, Any]
) -> list[Rule]:
    """Apply the rules to one article's merged metadata, in place.

    Returns the rules that changed it. `unpublish` wins over `audience`.
    """
    applied: list[Rule] = []
    for rule in rules:
        if not rule.matches(relative, meta):
            continue
        status = str(meta.get("status") or "published")
        if rule.unpublish:
            if status in ("published", "hidden"):
                meta["status"] = "draft"
                applied.append(rule)
        elif _public(meta.get("audience")):
            meta["audience"] = rule.audience
            applied.append(rule)
    return applied


def _public(value: object) -> bool:
    if value is None:
        return True
    names = [str(v).strip().lower() for v in (value if isinstance(value, list | tuple)
             else str(value).split(","))]  # fmt: skip
    return names == ["public"]


def install(readers: Any) -> None:
    """Wrap a Readers' read_file so that articles get the rules applied."""
    from pelican.contents import Article

    if getattr(readers, "_hearth_rules", False):
        return
    settings = readers.settings
    rules = load(rules_file(settings))
    readers._hearth_rules = True
    if not rules:
        return
    original = readers.read_file
    content_path = Path(settings["PATH"]).resolve()

    signature = inspect.signature(original)

    def read_file(*args: Any, **kwargs: Any) -> Any:
        call = signature.bind(*args, **kwargs)
        call.apply_defaults()
        given = call.arguments
        content_class = given.get("content_class")
        if content_class is not None and issubclass(content_class, Article):
            full = (Path(given["base_path"]) / given["path"]).resolve()
            try:
                relative = full.relative_to(content_path).as_posix()
            except ValueError:
                relative = Path(given["path"]).as_posix()
            given["context_signal"] = _Bound(rules, relative, given["context_signal"])
        return original(*call.args, **call.kwargs)

    readers.read_file = read_file


class _Bound:
    """Stands in for Pelican's context signal (article_generator_context),
    which Pelican sends with the merged metadata before making the article."""

    name = "hearth_rules"

    def __init__(self, rules: list[Rule], relative: str, forward: Any) -> None:
        self.rules, self.relative, self.forward = rules, relative, forward

    def __bool__(self) -> bool:
        return True

    def send(self, sender: object, metadata: MutableMapping[str, Any]) -> None:
        apply(self.rules, self.relative, metadata)
        if self.forward:
            self.forward.send(sender, metadata=metadata)


def explain(
    rules: Iterable[Rule], relative: str, meta: Mapping[str, Any]
) -> list[Rule]:
    """The rules that apply to a post (for `invoke posts`), by its metadata."""
    return [r for r in rules if r.matches(relative, meta)]
