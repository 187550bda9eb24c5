"""Settings for what goes public: imports pelicanconf, overrides what differs."""

import os
import sys
from pathlib import Path

sys.path.append(os.curdir)
from pelicanconf import *  # noqa: F403

# The site's public address, set here once, e.g. "https://blog.example.org":
# feeds, unlock links and the withdraw and lock notices need it whole. A
# publish build stops while it is empty or a loopback address (127.0.0.1,
# localhost), which no reader can reach. HEARTH_SITEURL in the environment
# overrides it for one run. A target's ?url= (HEARTH_TARGETS below) may give
# it instead; both may be set only to the same address (tasks.py checks).
HEARTH_SITEURL = os.environ.get("HEARTH_SITEURL") or ""
# Pages link root-relative ("/2026/post/"), so the site works on any host.
SITEURL = ""
RELATIVE_URLS = False
FEED_DOMAIN = HEARTH_SITEURL.rstrip("/")
# True lets a publish build point its feed at a loopback address: only for a
# rehearsal on this machine, never for what readers get.
HEARTH_ALLOW_LOOPBACK_SITEURL = False

# This is a publish build: plugins refuse demo passphrases and drafts.
HEARTH_PUBLISH = True
DELETE_OUTPUT_DIRECTORY = True
# Drafts never go public (Pelican writes drafts/ by default).
DRAFT_SAVE_AS = ""
DRAFT_URL = ""
DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_URL = ""
DRAFT_LANG_SAVE_AS = ""
DRAFT_LANG_URL = ""
DRAFT_PAGE_LANG_SAVE_AS = ""
DRAFT_PAGE_LANG_URL = ""
# status: hidden posts and pages are left out too (plugins/hearth_private).

# Where `invoke publish`, `withdraw`, `lock` and `status` act (README,
# "Publishing, withdrawing, locking"): one target URL or several, all acted
# on together; the HEARTH_TARGET variable or --target override this list.
# The default is the folder public-site/ beside this file, for any web server
# to serve (docs/hosting.md). Never write a password or token into a URL:
# credentials come from ssh keys, AWS_* variables or git's credential helper.
#   "file:///srv/blog?url=https://blog.example.org"
#   "ssh://robin@example.org/var/www/blog?url=https://blog.example.org"
#   "s3://bucket/blog?endpoint=https://s3.example.net&cdn=E2ABC&url=https://..."
#   "git+git@github.com:robin/robin.github.io.git#gh-pages"
HEARTH_TARGETS = [(Path(__file__).resolve().parent / "public-site").as_uri()]
# Set to True once the source repository's remote is private: `invoke status`
# warns while a remote looks like a public forge (README explains why).
HEARTH_SOURCE_REPO_PRIVATE = False

# The last guard, outside the plugins: even when PLUGINS is emptied or
# overridden on the command line, a post with an audience stops the build
# instead of being written in the clear (see hearth/guard.py).
from hearth import guard  # noqa: E402

guard.install()
