"""What stays elsewhere after a withdraw: the places Hearth cannot reach.

Printed after `invoke withdraw` and written in docs/bad-week.md (a test
keeps the two in step). Short and calm: these are things to do later, if
at all, not emergencies.
"""

from collections.abc import Iterable
from urllib.parse import quote, urlsplit

GOOGLE_OUTDATED = "https://search.google.com/search-console/remove-outdated-content"
GOOGLE_REMOVALS = "https://search.google.com/search-console/removals"
BING_REMOVAL = "https://www.bing.com/webmasters/tools/contentremoval"
WAYBACK_HELP = (
    "https://help.archive.org/help/how-do-i-request-to-remove-something-from-"
    "archive-org/"
)
WAYBACK_EMAIL = "info@archive.org"
# Every fixed address the checklist gives (docs/bad-week.md must hold each).
ADDRESSES = (GOOGLE_OUTDATED, GOOGLE_REMOVALS, BING_REMOVAL, WAYBACK_HELP)


def checklist(site_url: str | None, targets: Iterable[object] = ()) -> list[str]:
    """The lines to print after a withdraw (site_url may be empty)."""
    host = urlsplit(site_url).netloc if site_url else ""
    site = site_url.rstrip("/") if site_url else "your blog's address"
    lines = [
        (
            "The site now shows only your notice. A few copies live outside "
            "it, where Hearth cannot reach; none of this is urgent, and all of "
            "it fades with time:"
        ),
        (
            f"  - Search engines may show old titles and snippets for a few days. "
            f"See what they hold: https://www.google.com/search?q="
            f"{quote('site:' + (host or 'your-blog.example'))}. Ask for a refresh: "
            f"{GOOGLE_OUTDATED} (any page), or as the site's owner {GOOGLE_REMOVALS}; "
            f"Bing: {BING_REMOVAL}."
        ),
        (
            f"  - The Wayback Machine may have saved pages: "
            f"https://web.archive.org/web/*/{host or 'your-blog.example'}/* . To ask "
            f"for removal, write to {WAYBACK_EMAIL} with those addresses "
            f"({WAYBACK_HELP})."
        ),
    ]
    kinds = {type(t).__name__ for t in targets}
    host_line = (
        "  - Your host and any CDN may serve cached pages for a little while "
        "(GitHub Pages: up to about 10 minutes). `invoke status` shows when "
        f"{site} serves only the notice."
    )
    if "S3Target" in kinds:
        host_line += " A CDN in front of a bucket: invalidate it (docs/hosting.md)."
    lines.append(host_line)
    lines.append(
        "  - Feed readers keep the posts they already fetched; from now on they "
        "fetch only your notice. Nothing can recall what a reader already has."
    )
    return lines
