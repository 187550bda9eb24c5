"""A Markdown block for one passage with its own warning, and its feed form.

    ::: warning: self-harm, grief
    The passage, any Markdown.
    :::

becomes a gate over the passage (a closed <details>, so it works without
JavaScript) with a "Skip past this part" link to just after it.
"""

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from markdown import Markdown
from markdown.blockparser import BlockParser
from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension

from hearth import warnings

# What without_passages calls for each passage: (its number, its labels) -> text.
Replacement = Callable[[int, list[str]], str]

START_RE = re.compile(r"^:::[ \t]*warnings?[ \t]*:?[ \t]*(?P<labels>.*?)[ \t]*$", re.I)
END_RE = re.compile(r"^[ \t]*:::[ \t]*$", re.M)
# The markup below, found again in a post's HTML (feeds, summaries). Passages
# do not nest: the first ":::" line closes one.
PASSAGE_RE = re.compile(
    r'<div(?=[^>]*\bclass="cw-passage")[^>]*\bid="cw-passage-(?P<n>\d+)"[^>]*>'
    r'.*?<div[^>]*\bid="cw-after-(?P=n)"[^>]*></div>',
    re.S,
)
LABELS_RE = re.compile(r'data-cw-labels="(?P<labels>[^"]*)"')
PASSAGE_LINE = "Content warning for this part: "


def passage_labels(markup: str) -> list[str]:
    """The labels of one passage's markup (as PASSAGE_RE matched it)."""
    match = LABELS_RE.search(markup)
    if not match:
        return []
    try:
        labels = json.loads(html.unescape(match.group("labels")))
    except ValueError:
        return []
    return [str(label) for label in labels if isinstance(label, str)]


def find_passages(text: str) -> list[tuple[int, list[str]]]:
    """[(number, labels)] for every passage gate in a post's HTML."""
    return [
        (int(m.group("n")), passage_labels(m.group(0)))
        for m in PASSAGE_RE.finditer(text)
    ]


def without_passages(text: str, replacement: Replacement) -> str:
    """The HTML with each passage (gate and text) replaced by replacement(n, labels)."""
    return PASSAGE_RE.sub(
        lambda m: replacement(int(m.group("n")), passage_labels(m.group(0))), text
    )


class PassageProcessor(BlockProcessor):
    """`::: warning: labels` ... `:::` around any blocks."""

    # It keeps nothing between documents but its extension's count, which
    # reset() clears: one Markdown may convert many files (hearth.reading).
    hearth_resets_fully = True

    def __init__(self, parser: BlockParser, extension: "PassageExtension") -> None:
        super().__init__(parser)
        self.extension = extension

    def test(self, parent: ET.Element, block: str) -> bool:
        # Asked of every block of every post: most do not start with ":::".
        return block.startswith(":::") and bool(START_RE.match(block.split("\n", 1)[0]))

    def run(self, parent: ET.Element, blocks: list[str]) -> None:
        head, _, current = blocks.pop(0).partition("\n")
        start = START_RE.match(head)
        raw = start.group("labels") if start else ""  # test() saw it match
        inner: list[str] = []
        unclosed = False
        while True:
            end = END_RE.search(current)
            if end:
                inner.append(current[: end.start()].rstrip("\n"))
                after = current[end.end() :].lstrip("\n")
                if after:
                    blocks.insert(0, after)
                break
            inner.append(current)
            if not blocks:
                # Unclosed: the passage runs to the end of the post, gated;
                # the plugin warns (data-cw-unclosed).
                unclosed = True
                break
            current = blocks.pop(0)
        self.extension.count += 1
        number = self.extension.count
        vocabulary, aliases = (
            self.extension.getConfig("vocabulary"),
            self.extension.getConfig("aliases"),
        )
        details, _ = warnings.resolve(
            [part.strip() for part in raw.split(",")], vocabulary, aliases
        )
        labels = [d["label"] for d in details]
        gate = self._gate(parent, number, labels, "\n\n".join(p for p in inner if p))
        if unclosed:
            gate.set("data-cw-unclosed", "")
        if not labels:
            gate.set("data-cw-unlabelled", "")

    def _gate(
        self, parent: ET.Element, number: int, labels: list[str], text: str
    ) -> ET.Element:
        line_id = f"cw-passage-{number}-line"
        gate = ET.SubElement(
            parent,
            "div",
            {
                "class": "cw-passage",
                "id": f"cw-passage-{number}",
                "role": "group",
                "aria-labelledby": line_id,
                "data-cw-gate": "passage",
                "data-cw-labels": json.dumps(labels),
            },
        )
        line = ET.SubElement(gate, "p", {"class": "cw-line", "id": line_id})
        strong = ET.SubElement(line, "strong")
        strong.text = PASSAGE_LINE.rstrip() if labels else PASSAGE_LINE.rstrip(": ")
        if labels:
            shown = ET.SubElement(
                line, "span", {"class": "cw-labels", "data-cw-text": ""}
            )
            shown.text = " " + ", ".join(labels)
        details = ET.SubElement(gate, "details", {"class": "cw-details"})
        summary = ET.SubElement(details, "summary", {"class": "cw-show"})
        summary.text = "Show this part"
        content = ET.SubElement(
            details, "div", {"class": "cw-content", "tabindex": "-1"}
        )
        self.parser.parseChunk(content, text)
        skip = ET.SubElement(gate, "p", {"class": "cw-skip"})
        link = ET.SubElement(skip, "a", {"href": f"#cw-after-{number}"})
        link.text = "Skip past this part"
        ET.SubElement(
            parent,
            "div",
            {"class": "cw-after", "id": f"cw-after-{number}", "tabindex": "-1"},
        )
        return gate


class PassageExtension(Extension):
    """Registered in Pelican's MARKDOWN setting by the hearth_warnings plugin."""

    hearth_resets_fully = True  # reset() clears its count

    def __init__(self, **kwargs: Any) -> None:
        self.config = {
            "vocabulary": [{}, "label -> description (HEARTH_WARNINGS)"],
            "aliases": [{}, "alias -> label (HEARTH_WARNING_ALIASES)"],
        }
        super().__init__(**kwargs)
        self.count = 0

    def reset(self) -> None:
        self.count = 0

    def extendMarkdown(self, md: Markdown) -> None:
        md.registerExtension(self)
        self.reset()
        # Above fenced code and lists: the fence line is ours.
        md.parser.blockprocessors.register(
            PassageProcessor(md.parser, self), "cw_passage", 105
        )
