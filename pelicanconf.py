"""Settings for writing and previewing the site (plain values only)."""

from hearth import warnings as hearth_warnings

AUTHOR = "Robin"
SITENAME = "Hearth"
SITESUBTITLE = "Notes from a slow recovery"
SITEURL = ""

PATH = "content"
ARTICLE_PATHS = ["posts"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]

TIMEZONE = "Europe/London"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%-d %B %Y"

THEME = "theme"
PLUGIN_PATHS = ["plugins"]
# hearth_frontmatter brings in pelican-yaml-metadata's reader, made strict.
PLUGINS = [
    "hearth_frontmatter",
    "hearth_warnings",
    "hearth_images",
    # Last: it reads what the others attach; it takes private posts (and, in
    # a publish build, drafts and hidden posts) out of sight as soon as read.
    "hearth_private",
]

# Feeds: Atom for the whole site only; none while previewing is Pelican's
# usual advice, but Hearth's theme links the feed, so keep it on.
# Feeds need absolute links; the preview is served here (invoke serve).
FEED_DOMAIN = "http://127.0.0.1:8000"
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

DEFAULT_PAGINATION = 5
ARCHIVES_SAVE_AS = "archives.html"
TAGS_SAVE_AS = "tags.html"
CATEGORIES_SAVE_AS = "categories.html"
AUTHORS_SAVE_AS = "authors.html"

ARTICLE_URL = "{date:%Y}/{slug}/"
ARTICLE_SAVE_AS = "{date:%Y}/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"

# No comment system, by design: readers reach the writer by email. The
# address is split so that the page never holds it whole for scrapers; the
# theme joins it only when a reader asks for it.
CONTACT_EMAIL_USER = "robin.writes"
CONTACT_EMAIL_DOMAIN = "example.org"

# Audiences who may read private posts: name -> label the reader sees.
HEARTH_AUDIENCES = {
    "friends": "Close friends",
    "family": "Family",
}
# Who may read a post whose header has no `audience:` line: everyone, unless
# this names an audience. Uncommented, every post is private (for friends)
# unless its header says `audience: public` (README, "Who may read a post").
# HEARTH_DEFAULT_AUDIENCE = "friends"
# Header keys of your own, beside Pelican's and Hearth's (title, date, tags,
# category, summary, status, slug, ..., warnings, audience, listing), for
# example ["mood"] for a theme that shows a post's mood. Any other key is
# taken for a typo: a publish build stops on it, a preview warns.
HEARTH_EXTRA_KEYS = []
# Private posts (plugins/hearth_private): PBKDF2 work per audience key (never
# below 600000), whether locked pages show the real title, and the tracked
# state file (salts, private post ids) beside the content folder.
HEARTH_PBKDF2_ITERATIONS = 600_000
HEARTH_SHOW_PRIVATE_TITLES = False
HEARTH_STATE_FILE = "hearth-state.json"

# Content warnings (README, "Content warnings"). The vocabulary is label ->
# the short description a reader sees before choosing to read on; its
# defaults and the aliases are in hearth/warnings.py, the one list the build,
# readers' preferences and `invoke posts` share. Add your own labels here:
#   HEARTH_WARNINGS = {**hearth_warnings.DEFAULT_VOCABULARY, "crowds": "..."}
# A label in a post that is neither a label nor an alias is shown as written
# and warned about while previewing; a publish build stops on it.
HEARTH_WARNINGS = dict(hearth_warnings.DEFAULT_VOCABULARY)
# Other spellings -> a label: `sh`, `self harm`, `self-injury` -> `self-harm`.
HEARTH_WARNING_ALIASES = dict(hearth_warnings.DEFAULT_ALIASES)
# A warned post's feed entry carries its warnings and a link, not its text
# (feed readers show the text at once); True puts the text after them.
HEARTH_WARNINGS_FEED_FULL_TEXT = False
# A private post's warnings travel inside its envelope and show after
# unlocking; True shows them on the locked panel, in the clear, instead.
HEARTH_WARNINGS_ON_LOCKED_PANEL = False
# "Exit this page" on every page leaves for this neutral site at once (with
# JavaScript, Escape pressed twice too, and Back does not return); "" for none.
HEARTH_QUICK_EXIT_URL = "https://www.bbc.co.uk/weather"

# Only this machine previews, so relative URLs keep the site portable.
RELATIVE_URLS = True
# Drafts are shown while previewing, marked clearly by the theme.

DIRECT_TEMPLATES = [
    "index",
    "tags",
    "categories",
    "authors",
    "archives",
    "404",
    "robots",
]
ROBOTS_SAVE_AS = "robots.txt"

# True asks search engines to leave the whole blog alone: robots.txt
# disallows everything and every page carries a noindex, nofollow meta tag.
# False still keeps private posts (under /p/) out of search engines.
DISCOURAGE_SEARCH_ENGINES = False

YEAR_ARCHIVE_SAVE_AS = "{date:%Y}/index.html"
YEAR_ARCHIVE_URL = "{date:%Y}/"
MONTH_ARCHIVE_SAVE_AS = "{date:%Y}/{date:%m}/index.html"
MONTH_ARCHIVE_URL = "{date:%Y}/{date:%m}/"
