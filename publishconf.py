"""Settings for what goes public: imports pelicanconf, overrides what differs."""

import os
import sys

sys.path.append(os.curdir)
from pelicanconf import *  # noqa: F403

# Pages link root-relative ("/2026/post/"), so the site works on any host;
# feeds need the public address: set HEARTH_SITEURL (or edit this line).
SITEURL = ""
RELATIVE_URLS = False
FEED_DOMAIN = os.environ.get("HEARTH_SITEURL", "http://127.0.0.1:8000").rstrip("/")

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
# status: hidden posts and pages are left out too (plugins/hearth_drafts).
