"""Where audience passphrases come from: environment, secrets file, demo.

A passphrase is read here, where it is used, and handed to the caller as a
return value; it never enters Pelican settings (which templates can print)
and is never logged, not even in part.

Lookup order for audience NAME:

1. the environment variable ``HEARTH_PASSPHRASE_<NAME>`` (upper case, ``-``
   as ``_``);
2. the untracked secrets file: ``HEARTH_SECRETS_FILE`` if set, else the path
   the caller gives (``secrets.toml`` at the repository root), a TOML file
   with a ``[passphrases]`` table of ``name = "passphrase"``;
3. in a preview build only, the documented demo passphrase
   ``hearth-demo-<audience>``, with a loud warning at every build.

That passphrase is the audience's one shared reader. Named readers, each
with their own generated secrets, live in the same file under
``[readers.<audience>.<name>]`` (``invoke readers-add``; see hearth/readers.py).

A publish build refuses a missing, empty, demo or weak passphrase (zxcvbn,
hearth.readers.GUESSES_LOG10_FLOOR).
"""

import datetime as dt
import logging
import os
import stat
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

from hearth import envelope
from hearth import readers as hearth_readers
from hearth.frontmatter import SITE_AUDIENCE, passphrase_variable
from hearth.ownerfiles import replace_owner_only
from hearth.readers import Reader, weakness

T = TypeVar("T")
Path_ = str | os.PathLike[str]

logger = logging.getLogger(__name__)

SECRETS_FILE_VARIABLE = "HEARTH_SECRETS_FILE"
# The key that names private files in the state file (hearth.state): from
# this variable, else `key = "..."` under [state] in the secrets file.
STATE_KEY_VARIABLE = "HEARTH_STATE_KEY"
STATE_KEY_BYTES = 32
SECRETS_FILE_NAME = "secrets.toml"
DEMO_PREFIX = "hearth-demo-"
# Every demo passphrase warning starts so; the plugin uses it to repeat them.
DEMO_WARNING = "PREVIEW ONLY:"


class SecretsError(ValueError):
    """A passphrase is missing, empty or unusable for this build."""


def demo_passphrase(audience: str) -> str:
    """The documented demo passphrase of an audience (preview builds only)."""
    return DEMO_PREFIX + audience


def secrets_file_path(default: Path_ | None = None) -> Path:
    """The secrets file to read: HEARTH_SECRETS_FILE, else `default`."""
    configured = os.environ.get(SECRETS_FILE_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    return Path(default) if default else Path.cwd() / SECRETS_FILE_NAME


def _load(path: Path_) -> dict[str, Any]:
    """The whole secrets file as a dict ({} if there is none).

    Warns when the file can be read by other users of the machine.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        logger.warning(
            "The secrets file %s can be read by other users of this machine "
            "(mode %s). Run: chmod 600 %s",
            path,
            oct(stat.S_IMODE(mode)),
            path,
        )
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as err:
        # tomllib's message gives line and column, never the value itself.
        raise SecretsError(
            f"The secrets file {path} is not valid TOML ({err}). Fix it: it "
            'holds a [passphrases] table of lines like friends = "...".'
        ) from None


def read_secrets_file(
    path: Path_, _data: dict[str, Any] | None = None
) -> dict[str, str]:
    """Return the `[passphrases]` table of a secrets file ({} if there is none).

    Warns when the file can be read by other users of the machine.
    """
    data = _load(path) if _data is None else _data
    table = data.get("passphrases", {})
    if not isinstance(table, dict):
        raise SecretsError(
            f"The secrets file {path}: 'passphrases' must be a table. Write "
            '[passphrases] on its own line, then lines like friends = "...".'
        )
    for name, value in table.items():
        if not isinstance(value, str):
            raise SecretsError(
                f"The secrets file {path}: the passphrase of {name!r} must be "
                f'a quoted string, like {name} = "...".'
            )
    return table


def read_readers(
    path: Path_, _data: dict[str, Any] | None = None
) -> dict[str, list[Reader]]:
    """{audience: [Reader]} from the `[readers.<audience>.<name>]` tables."""
    data = _load(path) if _data is None else _data
    table = data.get("readers", {})
    fix = (
        "Each reader is a table like [readers.friends.sam] with a passphrase "
        '= "..." line; invoke readers-add friends sam writes one.'
    )
    if not isinstance(table, dict):
        raise SecretsError(f"The secrets file {path}: 'readers' must be a table. {fix}")
    found: dict[str, list[Reader]] = {}
    for audience, names in table.items():
        where = f"The secrets file {path}: [readers.{audience}]"
        if not isinstance(names, dict):
            raise SecretsError(f"{where} must be a table of readers. {fix}")
        for name, entry in names.items():
            here = f"The secrets file {path}: [readers.{audience}.{name}]"
            try:
                hearth_readers.check_name(name)
            except hearth_readers.ReaderError as err:
                raise SecretsError(f"{here}: {err}") from None
            if not isinstance(entry, dict):
                raise SecretsError(f"{here} must be a table. {fix}")
            unknown = set(entry) - {"passphrase", "link", "link_expires"}
            if unknown:
                raise SecretsError(
                    f"{here} has unknown keys {sorted(unknown)}: a reader has "
                    "passphrase, link and link_expires only."
                )
            phrase = entry.get("passphrase")
            if not isinstance(phrase, str) or not phrase.strip():
                raise SecretsError(
                    f'{here} needs a passphrase = "..." line, not empty. {fix}'
                )
            link = entry.get("link")
            if link is not None:
                try:
                    link = envelope.unb64url(link)
                except (ValueError, TypeError, AttributeError):
                    link = b""
                if len(link) != hearth_readers.LINK_KEY_BYTES:
                    raise SecretsError(
                        f"{here}: link is not a link key (43 base64url "
                        "characters). Remove the reader and add them again."
                    )
            expires = entry.get("link_expires")
            if expires is not None and (type(expires) is not dt.date or link is None):
                raise SecretsError(
                    f"{here}: link_expires must be a day like 2027-01-31 "
                    "(no quotes), beside a link."
                )
            found.setdefault(audience, []).append(
                Reader(audience, name, phrase, link, expires)
            )
    return found


class StrengthMemo(Protocol):
    """Passphrases the strength estimate passed before (a build's cache).

    `known` is True only for one that passed with the same rule; `passed`
    records one that passes now. The estimate runs for every other one.
    """

    def known(self, passphrase: str, audience: str) -> bool: ...

    def passed(self, passphrase: str, audience: str) -> None: ...


def passphrase_for(
    audience: str,
    *,
    publish: bool,
    secrets_file: Path_ | None = None,
    _table: Mapping[str, str] | None = None,
    memo: StrengthMemo | None = None,
) -> str:
    """Return the passphrase of `audience`, or raise SecretsError.

    `publish` is True for a build that goes public: it never falls back to the
    demo passphrase and refuses it if configured. `_table` lets `passphrases()`
    read the secrets file once for several audiences.
    """
    variable = passphrase_variable(audience)
    path = secrets_file_path(secrets_file)
    where = f'{variable} or add {audience} = "..." under [passphrases] in {path}'
    value: str | None
    if variable in os.environ:
        value, source = os.environ[variable], variable
    else:
        table = read_secrets_file(path) if _table is None else _table
        value, source = table.get(audience), str(path)
    if value is not None and not value.strip():
        raise SecretsError(
            f"The passphrase for audience {audience!r} in {source} is empty. "
            f"Set {where}, with a passphrase that is not empty."
        )
    if value is None:
        if publish:
            raise SecretsError(
                f"No passphrase for audience {audience!r}: set {where}. "
                "A publish build never uses the demo passphrase."
            )
        logger.warning(
            "%s audience %r has no passphrase, so this build encrypts its posts "
            "with the public demo passphrase from README. Set %s before you "
            "publish.",
            DEMO_WARNING,
            audience,
            variable,
        )
        return demo_passphrase(audience)
    if value.startswith(DEMO_PREFIX):
        if publish:
            raise SecretsError(
                f"The passphrase for audience {audience!r} in {source} is a "
                "public demo passphrase, which anyone can read in README. "
                f"Set {where}, with a passphrase of your own."
            )
        logger.warning(
            "%s audience %r uses a public demo passphrase. Set %s to a "
            "passphrase of your own before you publish.",
            DEMO_WARNING,
            audience,
            variable,
        )
    else:
        _gate(value, audience, source, publish, memo=memo)
    return value


def _gate(
    value: str,
    audience: str,
    source: str,
    publish: bool,
    reader: str | None = None,
    *,
    memo: StrengthMemo | None = None,
) -> None:
    """The strength gate: a publish build refuses a weak passphrase; a
    preview says so at every build. The estimate (zxcvbn) is skipped for a
    passphrase `memo` knows passed it."""
    problem = weakness(value, audience)
    if not problem and memo is not None and memo.known(value, audience):
        return
    problem = problem or hearth_readers.strength_problem(value)
    if not problem:
        if memo is not None:
            memo.passed(value, audience)
        return
    whose = (
        f"reader {reader!r} of audience {audience!r}"
        if reader
        else (f"audience {audience!r}")
    )
    fix = "Print a generated one with: invoke passphrase"
    if audience != SITE_AUDIENCE:  # the locked site has one passphrase only
        fix += f" (or give each reader their own: invoke readers-add {audience} <name>)"
    if publish:
        raise SecretsError(
            f"The passphrase for {whose} ({source}) {problem}. A publish build "
            f"refuses it. {fix}."
        )
    logger.warning(
        "The passphrase for %s (%s) %s, so a publish build will refuse it. %s.",
        whose,
        source,
        problem,
        fix,
    )


def configured_passphrase(
    audience: str,
    *,
    secrets_file: Path_ | None = None,
    _table: Mapping[str, str] | None = None,
) -> str | None:
    """The passphrase the writer set for an audience, or None; never warns.

    For audiences no post uses yet: no demo fallback, and an empty or demo
    value counts as not set. `_table`: the secrets file already read.
    """
    variable = passphrase_variable(audience)
    value: str | None
    if variable in os.environ:
        value = os.environ[variable]
    else:
        table = (
            read_secrets_file(secrets_file_path(secrets_file))
            if _table is None
            else _table
        )
        value = table.get(audience)
    if not value or not value.strip() or value.startswith(DEMO_PREFIX):
        return None
    return value


def passphrases(
    audiences: Iterable[str], *, publish: bool, secrets_file: Path_ | None = None
) -> dict[str, str]:
    """Return {audience: passphrase} for several audiences, reading the file once.

    Raises SecretsError listing every audience that has a problem, so that the
    writer can fix them all in one go.
    """
    path = secrets_file_path(secrets_file)
    needs_file = any(passphrase_variable(a) not in os.environ for a in audiences)
    table = read_secrets_file(path) if needs_file else {}
    found: dict[str, str] = {}
    problems: list[str] = []
    for audience in audiences:
        try:
            found[audience] = passphrase_for(
                audience, publish=publish, secrets_file=path, _table=table
            )
        except SecretsError as err:
            problems.append(str(err))
    if problems:
        raise SecretsError("\n  ".join(problems))
    return found


def audience_readers(
    used: Collection[str],
    audiences: Iterable[str],
    *,
    publish: bool,
    secrets_file: Path_ | None = None,
    memo: StrengthMemo | None = None,
) -> dict[str, list[Reader]]:
    """{audience: [Reader]} for a build, reading the secrets file once.

    An audience's readers are its named readers (``[readers.<audience>]``)
    and, if one is set, its shared passphrase as the reader "shared". An
    audience that `used` names (private posts use it) needs at least one:
    a publish build refuses none, and a preview falls back to the demo
    passphrase. Other audiences get the readers that are set (in a preview
    the demo one, silently: there is nothing to protect). Raises
    SecretsError listing every problem at once.
    """
    path = secrets_file_path(secrets_file)
    data = _load(path)
    table = read_secrets_file(path, data)
    named = read_readers(path, data)
    found: dict[str, list[Reader]] = {}
    problems: list[str] = []
    for audience in audiences:
        readers = list(named.get(audience, []))
        try:
            if publish:
                for reader in readers:
                    where = f"[readers.{audience}.{reader.name}] in {path}"
                    phrase = reader.passphrase or ""  # read_readers: never empty
                    if phrase.startswith(DEMO_PREFIX):
                        raise SecretsError(
                            f"The passphrase of {where} is a public demo "
                            "passphrase. Remove the reader and add them again "
                            f"(invoke readers-add {audience} {reader.name})."
                        )
                    _gate(phrase, audience, where, True, reader.name, memo=memo)
            shared = None
            variable = passphrase_variable(audience)
            is_set = variable in os.environ or audience in table
            if audience in used and (is_set or not readers):
                shared = passphrase_for(
                    audience,
                    publish=publish,
                    secrets_file=path,
                    _table=table,
                    memo=memo,
                )
            elif audience not in used:
                shared = configured_passphrase(
                    audience, secrets_file=path, _table=table
                )
                if shared is None and not publish and not readers:
                    shared = demo_passphrase(audience)
            if shared is not None:
                readers.insert(0, Reader(audience, hearth_readers.SHARED, shared))
        except SecretsError as err:
            problems.append(str(err))
            continue
        if readers:
            found[audience] = readers
    if problems:
        raise SecretsError("\n  ".join(problems))
    return found


def state_key(*, secrets_file: Path_ | None = None) -> bytes | None:
    """The state key (bytes) from HEARTH_STATE_KEY or [state] in the secrets
    file, or None when neither is set. Raises SecretsError for a malformed one.
    """
    path = secrets_file_path(secrets_file)
    value: Any
    if STATE_KEY_VARIABLE in os.environ:
        value, where = os.environ[STATE_KEY_VARIABLE], STATE_KEY_VARIABLE
    else:
        table = _load(path).get("state", {})
        where = f"[state] in {path}"
        if not isinstance(table, dict):
            raise SecretsError(
                f"The secrets file {path}: 'state' must be a table with a "
                'key = "..." line.'
            )
        value = table.get("key")
        if value is None:
            return None
    try:
        key = envelope.unb64url(value)
    except (ValueError, TypeError, AttributeError):
        key = b""
    if len(key) != STATE_KEY_BYTES:
        raise SecretsError(
            f"The state key in {where} is not a state key (43 base64url "
            "characters). Restore it from your backup of the secrets file: it "
            "names your private posts' addresses in hearth-state.json."
        )
    return key


def store_state_key(key: bytes, *, secrets_file: Path_ | None = None) -> Path:
    """Write a new state key under [state] in the secrets file (owner-only).

    Refuses to replace a different key already there: addresses made with
    it would be lost.
    """
    path = secrets_file_path(secrets_file)

    def change(document: Any) -> None:
        import tomlkit

        table = document.get("state")
        if table is None:
            table = document["state"] = tomlkit.table()
            table.comment(
                "names private posts in hearth-state.json: keep it with your "
                "passphrases; without it private posts cannot keep their addresses"
            )
        old = table.get("key")
        if old is not None and envelope.unb64url(str(old)) != key:
            raise SecretsError(
                f"{path} already holds another state key (another build made "
                "one at the same time?). Build again."
            )
        table["key"] = envelope.b64url(key)

    _edit(path, change)
    return path


# --- the writer's edits: readers add / remove --------------------------------


def _edit(path: Path_, change: Callable[[Any], T]) -> T:
    """Apply `change(document)` to the secrets file, atomically, owner-only."""
    import tomlkit

    path = Path(path)
    _load(path)  # a file that is not valid TOML stops here, unchanged
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = "# Hearth's secrets: passphrases and readers. Never commit this file.\n"
    document = tomlkit.parse(text)
    result = change(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_owner_only(path, tomlkit.dumps(document).encode("utf-8"))
    return result


def add_reader(
    audience: str,
    name: str,
    *,
    link_expires: dt.date | None = None,
    secrets_file: Path_ | None = None,
) -> Reader:
    """Add reader `name` to `audience` with a generated passphrase and link
    key; return their Reader (the only time its secrets leave the file)."""
    import tomlkit

    hearth_readers.check_name(name)
    if name == hearth_readers.SHARED:
        raise SecretsError(
            f"{name!r} is the name of an audience's shared passphrase; give the "
            "reader another name."
        )
    if link_expires is not None and type(link_expires) is not dt.date:
        raise TypeError("link_expires must be a datetime.date or None.")
    path = secrets_file_path(secrets_file)

    def change(document: Any) -> Reader:
        readers = document.get("readers")
        if readers is None:
            readers = document["readers"] = tomlkit.table(is_super_table=True)
        names = readers.get(audience)
        if names is None:
            names = readers[audience] = tomlkit.table(is_super_table=True)
        if name in names:
            raise SecretsError(
                f"{name!r} is already a reader of {audience!r} (in {path}). To "
                f"give them new secrets: invoke readers-remove {audience} "
                f"{name}, then add them again."
            )
        reader = Reader(
            audience,
            name,
            hearth_readers.generate_passphrase(),
            hearth_readers.new_link_key(),
            link_expires,
        )
        entry = tomlkit.table()
        entry["passphrase"] = reader.passphrase
        entry["link"] = envelope.b64url(reader.link or b"")
        if link_expires is not None:
            entry["link_expires"] = link_expires
        names[name] = entry
        return reader

    return _edit(path, change)


def remove_reader(
    audience: str, name: str, *, secrets_file: Path_ | None = None
) -> None:
    """Remove a reader (or with name "shared" the audience's shared
    passphrase from the file). The next build rotates the audience key."""
    path = secrets_file_path(secrets_file)

    def change(document: Any) -> None:
        if name == hearth_readers.SHARED:
            table = document.get("passphrases")
            if passphrase_variable(audience) in os.environ:
                raise SecretsError(
                    f"The shared passphrase of {audience!r} comes from "
                    f"{passphrase_variable(audience)}: unset that variable."
                )
            if table is None or audience not in table:
                raise SecretsError(
                    f"Audience {audience!r} has no shared passphrase in {path}."
                )
            del table[audience]
            return
        names = (document.get("readers") or {}).get(audience)
        if names is None or name not in names:
            known = ", ".join(names or []) or "none"
            raise SecretsError(
                f"{name!r} is not a reader of {audience!r} in {path} (its "
                f"readers: {known}). invoke readers lists them."
            )
        del names[name]

    _edit(path, change)


def list_readers(
    audiences: Collection[str], *, secrets_file: Path_ | None = None
) -> list[tuple[str, str, str]]:
    """[(audience, name, what)] for `invoke readers`: never a secret."""
    path = secrets_file_path(secrets_file)
    data = _load(path)
    table = read_secrets_file(path, data)
    named = read_readers(path, data)
    rows: list[tuple[str, str, str]] = []
    for audience in sorted(set(audiences) | set(named)):
        variable = passphrase_variable(audience)
        if variable in os.environ:
            rows.append((audience, hearth_readers.SHARED, f"shared, from {variable}"))
        elif audience in table:
            rows.append((audience, hearth_readers.SHARED, f"shared, in {path}"))
        for reader in named.get(audience, []):
            if reader.link is None:
                what = "passphrase"
            elif reader.link_expires is None:
                what = "passphrase and link"
            else:
                what = f"passphrase and link until {reader.link_expires.isoformat()}"
            if audience not in audiences:
                what += " (not an audience in HEARTH_AUDIENCES)"
            rows.append((audience, reader.name, what))
        if not any(r[0] == audience for r in rows):
            rows.append((audience, "", "no readers yet"))
    return rows


def without_secrets(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of `environ` (default os.environ) for a subprocess: without
    any HEARTH_PASSPHRASE_* variable, HEARTH_STATE_KEY or HEARTH_SECRETS_FILE,
    so that a git hook, ssh or rsync never sees a passphrase, the state key or
    where the readers' are."""
    environ = os.environ if environ is None else environ
    return {
        name: value
        for name, value in environ.items()
        if not name.startswith("HEARTH_PASSPHRASE")
        and name not in (SECRETS_FILE_VARIABLE, STATE_KEY_VARIABLE)
    }
