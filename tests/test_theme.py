"""The theme's colours meet WCAG AA in light and dark, by computation.

axe-core checks the colours on the pages it is shown (tests/browser); this
checks every pair the stylesheet defines, including ones other parts of
Hearth use (panels, badges, buttons, warnings) on pages axe may not see.
"""

import re

import pytest

from tests.conftest import ROOT

CSS = (ROOT / "theme" / "static" / "css" / "hearth.css").read_text()
TEXT = 4.5  # WCAG 1.4.3, normal text
NON_TEXT = 3.0  # WCAG 1.4.11, focus rings and control borders
# (foreground, background, minimum ratio)
PAIRS = [
    ("fg", "bg", TEXT),
    ("muted", "bg", TEXT),
    ("accent", "bg", TEXT),
    ("fg", "panel", TEXT),
    ("muted", "panel", TEXT),
    ("accent", "panel", TEXT),
    ("accent-fg", "accent", TEXT),
    ("fg", "warn-bg", TEXT),
    ("bg", "fg", TEXT),  # the skip link
    ("focus", "bg", NON_TEXT),
    ("focus", "panel", NON_TEXT),
    ("warn-border", "warn-bg", NON_TEXT),
]


def palette(block):
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;", block))


def schemes():
    light = palette(CSS.split("@media (prefers-color-scheme: dark)")[0])
    dark_block = re.search(
        r"@media \(prefers-color-scheme: dark\)\s*{\s*:root\s*{([^}]*)}", CSS
    )
    return {"light": light, "dark": {**light, **palette(dark_block.group(1))}}


def luminance(colour):
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    )
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_wcag_reference_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_dark_scheme_overrides_every_colour():
    both = schemes()
    assert set(both["dark"]) == set(both["light"])
    changed = {k for k in both["light"] if both["light"][k] != both["dark"][k]}
    assert {"bg", "fg", "muted", "accent", "panel", "focus"} <= changed


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("fg", "bg", "minimum"), PAIRS)
def test_colour_pair_meets_wcag_aa(scheme, fg, bg, minimum):
    colours = schemes()[scheme]
    ratio = contrast(colours[fg], colours[bg])
    assert ratio >= minimum, (
        f"{scheme}: --{fg} {colours[fg]} on --{bg} {colours[bg]} is "
        f"{ratio:.2f}:1, below {minimum}:1"
    )
