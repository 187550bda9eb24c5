"""Read front-matter strictly and stop the build on any content error."""

import logging

import yaml
from pelican import signals
from pelican.plugins.yaml_metadata.yaml_metadata import HEADER_RE, YAMLMetadataReader
from pelican.utils import pelican_open

from hearth import contents, frontmatter

logger = logging.getLogger(__name__)

# Pelican logs a file it cannot read and goes on without it. For Hearth a post
# that silently vanished, or was read without its `audience`, is a fault: the
# guard counts errors logged while reading and stops before anything is written.
_GUARD = None
# Every content object read in this run. hearth_private marks each private one
# it has taken the text off (`hearth_sealed`); one left unmarked means it did
# not run (left out of PLUGINS, or Pelican could not load it and only logged
# that), and the post would be written in the clear.
_READ = []


class ContentError(Exception):
    """The build stopped because some content could not be read safely."""


class StrictYAMLReader(YAMLMetadataReader):
    """pelican-yaml-metadata, but a broken YAML header is an error, not {}.

    The upstream reader logs the problem and reads the post with no metadata
    at all, which would turn a private post into a public one.
    """

    def read(self, source_path):
        with pelican_open(source_path) as text:
            match = HEADER_RE.fullmatch(text)
        if match:
            try:
                data = yaml.safe_load(match.group("metadata"))
            except yaml.YAMLError as err:
                mark = getattr(err, "problem_mark", None)
                where = f" at line {mark.line + 2}" if mark else ""
                _refuse(
                    f"{source_path}: the YAML front-matter{where} is malformed "
                    f"({getattr(err, 'problem', None) or err}). Fix the header "
                    "between the '---' lines."
                )
            if not isinstance(data, dict):
                _refuse(
                    f"{source_path}: the YAML front-matter is not a list of "
                    "'key: value' lines. Fix the header between the '---' lines."
                )
        return super().read(source_path)


class _ErrorGuard(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.messages = []

    def emit(self, record):
        message = record.getMessage().splitlines()[0]
        # Pelican logs "Could not process <file>" after our own precise
        # message for the same file; keep the precise one.
        if not any(message.split()[-1] in m for m in self.messages):
            self.messages.append(message)


def _refuse(message):
    """Record why a file cannot be read (Pelican hides the exception) and raise."""
    if _GUARD is not None:
        _GUARD.messages.append(message)
    raise ContentError(message)


def add_strict_reader(readers):
    for ext in StrictYAMLReader.file_extensions:
        readers.reader_classes[ext] = StrictYAMLReader


def start_guard(pelican):
    global _GUARD
    if _GUARD is not None:
        logging.getLogger().removeHandler(_GUARD)
    _GUARD = _ErrorGuard()
    logging.getLogger().addHandler(_GUARD)


def check_metadata(content):
    """Normalise `warnings` and `audience`, failing on anything unclear."""
    source = content.source_path
    meta = content.metadata
    known = content.settings.get("HEARTH_AUDIENCES", {})
    try:
        warnings = frontmatter.as_list(meta.get("warnings"))
        audiences = frontmatter.audience_names(meta.get("audience"), known, source)
        listing = frontmatter.listing_mode(meta.get("listing"), source)
    except frontmatter.FrontMatterError as err:
        # Raised from a content_object_init receiver, this reaches Pelican's
        # per-file handler, which logs it; the guard then stops the build.
        _refuse(str(err))
    content.warnings = warnings
    content.audience = audiences
    content.listing = listing
    content.is_private = bool(audiences)
    _READ.append(content)


def forget_earlier_runs(pelican):
    """Autoreload runs one Pelican object many times: check this run's content.

    Connected to get_generators, it adds no generator (returns None).
    """
    _READ.clear()


def _unsealed(generators):
    """Source paths of private content that hearth_private has not sealed."""
    # The generators' lists too: content loaded from Pelican's cache is not
    # read again, so it never passes through content_object_init.
    found = {id(c): c for c in _READ} | contents.listed(generators)
    return sorted(
        {
            str(c.relative_source_path or c.source_path)
            for c in found.values()
            if getattr(c, "is_private", False)
            and not getattr(c, "hearth_sealed", False)
        }
    )


def _unpublished(generators):
    """Drafts and hidden posts a publish build would still write."""
    if not generators or not generators[0].settings.get("HEARTH_PUBLISH"):
        return []
    # hearth_private takes them off every list; plain Pelican writes a hidden
    # post at its URL (only unlisted).
    return sorted(
        {
            str(c.relative_source_path or c.source_path)
            for c in contents.listed(generators).values()
            if getattr(c, "status", None) in ("draft", "hidden") and c.save_as
        }
    )


def stop_on_errors(generators):
    # all_generators_finalized is the last signal before any file is written.
    if _GUARD is not None and _GUARD.messages:
        messages = "\n  ".join(_GUARD.messages)
        _GUARD.messages = []
        raise ContentError(
            "Hearth stopped the build before writing anything, because some "
            f"content could not be read safely:\n  {messages}"
        )
    unsealed = _unsealed(generators)
    _READ.clear()
    if unsealed:
        names = "\n  ".join(unsealed)
        raise ContentError(
            "Hearth stopped the build before writing anything: the hearth_private "
            "plugin did not run, so these posts with an audience would be "
            f'written in the clear:\n  {names}\nAdd "hearth_private" (last) '
            "to PLUGINS in pelicanconf.py, and check PLUGIN_PATHS if Pelican "
            "said it cannot load it."
        )
    unpublished = _unpublished(generators)
    if unpublished:
        names = "\n  ".join(unpublished)
        raise ContentError(
            "Hearth stopped the publish build before writing anything: the "
            "hearth_private plugin did not run, so these drafts and hidden posts "
            f'would go public:\n  {names}\nAdd "hearth_private" (last) to '
            "PLUGINS in pelicanconf.py, and check PLUGIN_PATHS if Pelican said "
            "it cannot load it."
        )


def register():
    # readers_init: replace the YAML reader so a broken header is an error.
    signals.readers_init.connect(add_strict_reader)
    # initialized: start counting errors before any content is read.
    signals.initialized.connect(start_guard)
    # get_generators: the first signal of every run, autoreload's too.
    signals.get_generators.connect(forget_earlier_runs)
    # content_object_init: every article, page and draft passes through here.
    signals.content_object_init.connect(check_metadata)
    # all_generators_finalized: the last moment before output is written;
    # hearth_private has sealed private content by then (pretaxonomy, pages).
    signals.all_generators_finalized.connect(stop_on_errors)
