#!/usr/bin/env python3
"""Take README's screenshots of the sample site in real headless Chromium.

    .venv/bin/python -m scripts.screenshots [--out docs/screenshots]

Builds the sample site with the preview settings (private posts use the
documented demo passphrases), serves it on 127.0.0.1 and saves PNGs: the home
page, a post with an image, a post behind a content warning, a locked private
post, dark mode and a phone-width page. Pages are found by their source file,
so the script keeps working whatever URL a plugin gives a post.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

from pelican import Pelican, signals
from pelican.settings import read_settings

from tests.support.localweb import CHROMIUM, CHROMIUM_ARGS, serve

ROOT = Path(__file__).resolve().parent.parent
# Source file -> the page it becomes; filled in while the site is written.
WRITTEN = {}

# (file name, source file or None for the home page, colour scheme, viewport)
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = [
    ("home.png", None, "light", DESKTOP),
    ("post.png", "2026-10-05-sunday-walk.md", "light", DESKTOP),
    ("warning.png", "2026-11-02-bad-week.md", "light", DESKTOP),
    ("private-locked.png", "2026-09-21-after-the-phone-call.md", "light", DESKTOP),
    ("dark.png", "2026-08-19-the-kettle-list.md", "dark", DESKTOP),
    ("phone.png", None, "light", PHONE),
]


def record_page(path, context):
    content = context.get("article") or context.get("page")
    if content is not None:
        WRITTEN[Path(content.source_path).name] = Path(path)


def build(output):
    settings = read_settings(
        str(ROOT / "pelicanconf.py"),
        override={"OUTPUT_PATH": str(output), "CACHE_CONTENT": False},
    )
    # content_written: the one place that knows both the source and the
    # output file, after every plugin has settled the post's URL.
    signals.content_written.connect(record_page)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        Pelican(settings).run()
    finally:
        os.chdir(cwd)
        signals.content_written.disconnect(record_page)


def url_of(base, output, source):
    if source is None:
        return base + "/"
    if source not in WRITTEN:
        sys.exit(f"No page was written for content/posts/{source}; update SHOTS.")
    relative = WRITTEN[source].relative_to(output).as_posix()
    return f"{base}/{relative.removesuffix('index.html')}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "site"
        build(output)
        with serve(output) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=list(CHROMIUM_ARGS),
            )
            for name, source, scheme, viewport in SHOTS:
                context = browser.new_context(
                    viewport=viewport, color_scheme=scheme, device_scale_factor=1
                )
                page = context.new_page()
                page.goto(url_of(base, output, source), wait_until="networkidle")
                page.screenshot(path=str(out / name), full_page=False)
                context.close()
                print(f"wrote {out / name}")
            browser.close()


if __name__ == "__main__":
    main()
