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

A publish build refuses a missing, empty or demo passphrase.
"""

import logging
import os
import stat
import tomllib
from pathlib import Path

from hearth.frontmatter import passphrase_variable

logger = logging.getLogger(__name__)

SECRETS_FILE_VARIABLE = "HEARTH_SECRETS_FILE"
SECRETS_FILE_NAME = "secrets.toml"
DEMO_PREFIX = "hearth-demo-"
# Every demo passphrase warning starts so; the plugin uses it to repeat them.
DEMO_WARNING = "PREVIEW ONLY:"
MIN_LENGTH = 12
# Passphrases that a guesser tries first. Not a strength meter: a short list
# of the obvious, so that the writer hears about it once per build.
_COMMON = {
    "password",
    "passphrase",
    "123456789012",
    "qwertyuiop",
    "letmein",
    "iloveyou",
    "correct horse battery staple",
    "correcthorsebatterystaple",
    "changeme",
    "secret",
}


class SecretsError(ValueError):
    """A passphrase is missing, empty or unusable for this build."""


def demo_passphrase(audience):
    """The documented demo passphrase of an audience (preview builds only)."""
    return DEMO_PREFIX + audience


def secrets_file_path(default=None):
    """The secrets file to read: HEARTH_SECRETS_FILE, else `default`."""
    configured = os.environ.get(SECRETS_FILE_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    return Path(default) if default else Path.cwd() / SECRETS_FILE_NAME


def read_secrets_file(path):
    """Return the `[passphrases]` table of a secrets file ({} if there is none).

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
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as err:
        # tomllib's message gives line and column, never the value itself.
        raise SecretsError(
            f"The secrets file {path} is not valid TOML ({err}). Fix it: it "
            'holds a [passphrases] table of lines like friends = "...".'
        ) from None
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


def passphrase_for(audience, *, publish, secrets_file=None, _table=None):
    """Return the passphrase of `audience`, or raise SecretsError.

    `publish` is True for a build that goes public: it never falls back to the
    demo passphrase and refuses it if configured. `_table` lets `passphrases()`
    read the secrets file once for several audiences.
    """
    variable = passphrase_variable(audience)
    path = secrets_file_path(secrets_file)
    where = f'{variable} or add {audience} = "..." under [passphrases] in {path}'
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
    elif weakness(value, audience):
        logger.warning(
            "The passphrase for audience %r (%s) %s. Choose a longer one: "
            "four or five unrelated words are easy to type and hard to guess.",
            audience,
            source,
            weakness(value, audience),
        )
    return value


def configured_passphrase(audience, *, secrets_file=None):
    """The passphrase the writer set for an audience, or None; never warns.

    For audiences no post uses yet: no demo fallback, and an empty or demo
    value counts as not set.
    """
    variable = passphrase_variable(audience)
    if variable in os.environ:
        value = os.environ[variable]
    else:
        value = read_secrets_file(secrets_file_path(secrets_file)).get(audience)
    if not value or not value.strip() or value.startswith(DEMO_PREFIX):
        return None
    return value


def passphrases(audiences, *, publish, secrets_file=None):
    """Return {audience: passphrase} for several audiences, reading the file once.

    Raises SecretsError listing every audience that has a problem, so that the
    writer can fix them all in one go.
    """
    path = secrets_file_path(secrets_file)
    needs_file = any(passphrase_variable(a) not in os.environ for a in audiences)
    table = read_secrets_file(path) if needs_file else {}
    found, problems = {}, []
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


def weakness(passphrase, audience=""):
    """Say why a passphrase is obviously weak, or return '' if it is not."""
    lowered = passphrase.strip().lower()
    if len(passphrase) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    if lowered in _COMMON or "password" in lowered:
        return "is one that guessers try first"
    if len(set(lowered)) <= 3:
        return "repeats the same few characters"
    if audience and lowered.replace(" ", "") in {audience, audience * 2}:
        return "is the audience's own name"
    return ""
