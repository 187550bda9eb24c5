"""Strip EXIF, GPS, XMP, IPTC and text metadata from every published image."""

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pelican import Pelican, signals

from hearth import contents
from hearth.images import CleanCache, ImageError, image_format
from hearth.ownerfiles import replace_in_place

logger = logging.getLogger(__name__)

PLUGIN_NAME = "hearth_images"
# Enough bytes to tell JPEG, PNG and WebP apart by their signatures.
_HEADER_BYTES = 12


class ImageMetadataError(Exception):
    """An output image could not be cleaned; the build stops."""


def _is_image(path: str) -> bool:
    fd = os.open(path, os.O_RDONLY)
    try:
        return image_format(os.read(fd, _HEADER_BYTES)) is not None
    finally:
        os.close(fd)


def _output_files(folder: str) -> list[str]:
    """Every file under folder (a link to a file counts; a linked folder is
    not entered), in the order sorted(Path(folder).rglob("*")) gives."""
    found: list[str] = []
    pending = [folder]
    while pending:
        here = pending.pop()
        try:
            with os.scandir(here) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    elif entry.is_file():
                        found.append(entry.path)
        except OSError as err:
            # Fail closed: images in a folder that cannot be read are not
            # known to be clean.
            raise ImageMetadataError(
                f"Hearth cannot look for images in {here} ({err.strerror}): "
                "make the output folder readable, or delete it and build again."
            ) from None
    return sorted(found, key=lambda path: path.split(os.sep))


def _loaded(settings: Mapping[str, Any]) -> bool:
    return PLUGIN_NAME in contents.plugin_names(settings)


def strip_output_images(pelican: Pelican) -> None:
    """Clean every image in the output (the originals are never touched)."""
    # Receivers stay connected for the rest of the process; a later build in
    # the same process without this plugin must not be touched by it.
    if not _loaded(pelican.settings):
        return
    output = Path(pelican.output_path)
    cache = CleanCache(Path(pelican.settings["CACHE_PATH"]) / "hearth" / "images")
    seen = cleaned = 0
    failed: list[str] = []
    # By signature, not by name: an image called page.html is cleaned too.
    for name in _output_files(str(output)):
        if not _is_image(name):
            continue
        path = Path(name)
        seen += 1
        try:
            clean = cache.clean(path.read_bytes())
        except ImageError as err:
            # Fail closed: an image that cannot be cleaned is not published.
            path.unlink()
            failed.append(f"{path.relative_to(output)}: {err}")
            continue
        if clean is not None:
            # Never through a link: content/ must not be touched.
            replace_in_place(path, clean)
            cleaned += 1
            logger.debug("Removed metadata from %s", path.relative_to(output))
    cache.save()
    if failed:
        raise ImageMetadataError(
            "Hearth could not remove the metadata from these images, so it "
            "left them out of the output:\n  "
            + "\n  ".join(failed)
            + "\nRe-save them from an image editor (or replace them), then build "
            "again."
        )
    logger.info(
        "Removed metadata from %d of %d images (%d unchanged since the last build)",
        cleaned,
        seen,
        cache.hits,
    )


def register() -> None:
    """Connect the handler (Pelican calls this once per plugin load)."""
    # finalized: every generator has written its files, static copies
    # included, so the output copies (never the originals) can be cleaned.
    signals.finalized.connect(strip_output_images)
