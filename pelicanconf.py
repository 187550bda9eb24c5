"""Settings for writing and previewing the site (plain values only)."""

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
    "hearth_drafts",
    # Last: it reads what the others attach, then leaves only neutral values.
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

# Content warnings: label -> the short description a reader sees before
# choosing to read on. Use the labels in a post's `warnings:`; a label not
# listed here is still shown, and the build suggests the nearest one.
HEARTH_WARNINGS = {
    "self-harm": "Hurting oneself, or thoughts of it.",
    "suicidal thoughts": "Thoughts of suicide or of not wanting to be alive.",
    "therapy rupture": "A painful break or conflict with a therapist.",
    "abandonment": "Being left, or fearing being left, by someone close.",
    "medical settings": "Clinics, hospitals, appointments and procedures.",
    "anxiety": "Panic, dread and the body's alarm.",
    "depression": "Low mood, numbness and exhaustion.",
    "dissociation": "Feeling unreal, far away, or losing time.",
    "trauma": "Memories and after-effects of traumatic events.",
    "eating disorders": "Food, eating, weight and body image.",
    "abuse": "Emotional, physical or sexual abuse, past or present.",
    "grief": "Death, loss and mourning.",
    "substance use": "Alcohol, drugs, craving or relapse.",
    "medication": "Psychiatric medication, side effects and changes.",
    "hospitalisation": "Psychiatric wards and inpatient care.",
    "family conflict": "Arguments and estrangement within a family.",
}
# A private post's warnings travel inside its envelope and show after
# unlocking; True shows them on the locked panel, in the clear, instead.
HEARTH_WARNINGS_ON_LOCKED_PANEL = False

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
