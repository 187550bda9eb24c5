"""Links that unlock: the key travels in the fragment, never the passphrase."""

import base64

import pytest

from hearth import envelope, links
from hearth.state import State

PASSPHRASE = "hearth-test-friends-passphrase"


def test_the_link_carries_the_derived_key_in_the_fragment(tmp_path):
    state = State(tmp_path / "hearth-state.json")
    salt, iterations = state.audience("friends", envelope.ITERATION_FLOOR)
    state.save()
    key = links.audience_key("friends", PASSPHRASE, state.path)
    assert key == envelope.derive_key(PASSPHRASE, salt, iterations)
    link = links.unlock_link("/p/0123456789abcdef/", key, "https://blog.example/")
    address, fragment = link.split("#")
    assert address == "https://blog.example/p/0123456789abcdef/"
    assert base64.urlsafe_b64decode(fragment.removeprefix("k=") + "=") == key
    assert PASSPHRASE not in link


def test_an_audience_without_a_salt_asks_for_a_build_first(tmp_path):
    with pytest.raises(links.LinkError, match=r"no salt .*Build the site once"):
        links.audience_key("friends", PASSPHRASE, tmp_path / "hearth-state.json")


def test_a_relative_address_is_refused(tmp_path):
    with pytest.raises(links.LinkError, match=r"give it as /p/<id>/"):
        links.unlock_link("p/0123/", b"\0" * 32)
