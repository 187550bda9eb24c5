"""What tests/sites/mixed adds to pelicanconf.py (appended by the test)."""

# The folder a post is in names its category (posts/Diary/... -> Diary).
PATH_METADATA = r"posts/(?P<category>[A-Z][a-z]+)/.*"
# Every post under these folders has this audience unless its header says.
EXTRA_PATH_METADATA = {
    "posts/private": {"audience": "friends"},
    "posts/linked": {"audience": "family"},
}
