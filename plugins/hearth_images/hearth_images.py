"""Strip EXIF, GPS, XMP, IPTC and text metadata from every published image."""

import logging
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


def _is_image(path: Path) -> bool:
    with open(path, "rb") as handle:
        return image_format(handle.read(_HEADER_BYTES)) is not None


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
    for path in sorted(output.rglob("*")):
        if not path.is_file() or not _is_image(path):
            continue
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
