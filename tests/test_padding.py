"""An audience's list of posts is padded: its length does not count the
posts in it, hidden ones included (issue 13)."""

import json

import pytest

from hearth import envelope, padding
from hearth.state import State
from tests.conftest import TEST_PASSPHRASES, environ, passphrase_env
from tests.test_private import build_site, make_site

LOCKED = """Title: A locked post
Date: 2026-03-03 10:00
Audience: friends
Listing: locked

The paragraph of a locked post.
"""
HIDDEN = """Title: Hidden post number {n}, about the {word} week
Date: 2026-03-0{n} 10:00
Audience: friends
Listing: hidden
Summary: What happened in the {word} week, told in a long summary that names
  the ward, the nurse, the {word} night and the walk home in the rain.

The body of hidden post {n}.
"""
WORDS = ["first", "second", "third"]


def _list(root, output):
    """(ciphertext length, entries) of the friends' encrypted list."""
    state = State.load(root / "hearth-state.json")
    address = f"/p/i/{state.index_id('friends')}"
    text = (output / address.lstrip("/")).read_text()
    salt, iterations = state.known_audience("friends")
    key = envelope.derive_key(TEST_PASSPHRASES["friends"], salt, iterations)
    entries = json.loads(envelope.decrypt(text, address, key, "friends"))["entries"]
    return len(json.loads(text)["ciphertext"]), entries


@pytest.fixture
def two_sites(tmp_path, monkeypatch):
    monkeypatch.delenv("HEARTH_SECRETS_FILE", raising=False)
    built = {}
    for hidden in (0, 3):
        root = tmp_path / f"hidden-{hidden}"
        posts = {"locked.md": LOCKED}
        for n in range(1, hidden + 1):
            text = HIDDEN.format(n=n, word=WORDS[n - 1])
            posts[f"hidden-{n}.md"] = text
        make_site(root, posts=posts, pages={})
        with environ(**passphrase_env()):
            output = build_site(root, "public", settings="publishconf.py")
        built[hidden] = _list(root, output)
    return built


def test_lists_with_0_and_3_hidden_posts_have_the_same_length(two_sites):
    (none_length, none), (three_length, three) = two_sites[0], two_sites[3]
    assert len(none) == 1 and len(three) == 4  # the hidden posts are listed
    assert none_length == three_length


def test_without_the_padding_the_lengths_would_count_them(two_sites):
    """Guards the test above: the three entries are long enough that the
    envelope's own padding (Padmé) alone would tell the two lists apart."""
    sizes = []
    for _, entries in (two_sites[0], two_sites[3]):
        raw = json.dumps({"entries": entries}, ensure_ascii=False).encode()
        sizes.append(len(envelope.encrypt(raw, "/x", [_recipient()])))
    assert sizes[0] != sizes[1]


def _recipient():
    return envelope.Recipient("friends", bytes(16), 600_000, bytes(32))


@pytest.mark.parametrize("entries", [0, 1, 24, 60, 400])
def test_a_padded_list_compresses_to_just_under_a_bucket(entries):
    items = [
        {"url": f"/p/{n:016x}/", "title": f"Post {n}", "summary": f"<p>{n}</p>"}
        for n in range(entries)
    ]
    payload = json.dumps({"entries": items}).encode()
    padded = padding.pad_list(payload)
    assert json.loads(padded)["entries"] == items
    size = padding._compressed_length(padded)
    bucket = padding.LIST_BUCKET
    assert size % bucket >= bucket - padding.MARGIN
    assert padding.pad_list(payload) == padded  # the same bytes every build
