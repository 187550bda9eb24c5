"""Read front-matter strictly and stop the build on any content error."""

import logging

import yaml
from pelican import signals
from pelican.plugins.yaml_metadata.yaml_metadata import HEADER_RE, YAMLMetadataReader
from pelican.utils import pelican_open

from hearth import frontmatter

logger = logging.getLogger(__name__)

# Pelican logs a file it cannot read and goes on without it. For Hearth a post
# that silently vanished, or was read without its `audience`, is a fault: the
# guard counts errors logged while reading and stops before anything is written.
_GUARD = None


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


def stop_on_errors(generators):
    # all_generators_finalized is the last signal before any file is written.
    if _GUARD is not None and _GUARD.messages:
        messages = "\n  ".join(_GUARD.messages)
        _GUARD.messages = []
        raise ContentError(
            "Hearth stopped the build before writing anything, because some "
            f"content could not be read safely:\n  {messages}"
        )


def register():
    # readers_init: replace the YAML reader so a broken header is an error.
    signals.readers_init.connect(add_strict_reader)
    # initialized: start counting errors before any content is read.
    signals.initialized.connect(start_guard)
    # content_object_init: every article, page and draft passes through here.
    signals.content_object_init.connect(check_metadata)
    # all_generators_finalized: the last moment before output is written.
    signals.all_generators_finalized.connect(stop_on_errors)
