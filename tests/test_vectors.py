"""The known-answer vectors in tests/vectors/ hold in Python.

generate: fixed inputs give exactly the committed envelope; verify: the
envelopes open to their payload; invalid: each is refused with its error.
tests/browser/test_envelope_browser.py runs the same files in Chromium.
"""

import json
from pathlib import Path

import pytest

from hearth import envelope

VECTORS = Path(__file__).resolve().parent / "vectors"


def load(name):
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


GENERATE = load("generate.json")
VERIFY = load("verify.json")
INVALID = load("invalid.json")


def unb64(text):
    return envelope._unb64(text, None, "vector")


def by_desc(vectors):
    return pytest.mark.parametrize("vector", vectors, ids=[v["desc"] for v in vectors])


def test_vector_files_cover_every_kind():
    # An empty list would make every parametrized test below vanish silently.
    for vectors in (GENERATE, VERIFY, INVALID):
        assert vectors["envelopes"] and vectors["attachments"]
    errors = {v["error"] for v in INVALID["envelopes"]}
    assert errors == {"WrongKey", "Damaged", "NewerVersion"}


@by_desc(GENERATE["envelopes"])
def test_generate_vector_encrypts_to_exact_envelope(vector):
    recipients = [
        envelope.Recipient(
            r["audience"], unb64(r["salt"]), r["iterations"], unb64(r["key"])
        )
        for r in vector["recipients"]
    ]
    text = envelope._encrypt_from_parts(
        vector["payload"].encode(),
        vector["url"],
        recipients,
        content_key=unb64(vector["content_key"]),
        nonce=unb64(vector["nonce"]),
        key_nonces=[unb64(r["nonce"]) for r in vector["recipients"]],
    )
    assert text == vector["envelope"]


# Each distinct (passphrase, salt, iterations) once: PBKDF2 at the floor costs
# ~0.2 s, and the vectors reuse two passphrases.
DERIVATIONS = {
    (r["passphrase"], r["salt"], r["iterations"]): r
    for v in GENERATE["envelopes"]
    for r in v["recipients"]
    if r["passphrase"]
}


@pytest.mark.parametrize(
    "recipient", list(DERIVATIONS.values()), ids=lambda r: r["audience"]
)
def test_generate_vector_keys_are_derived_from_their_passphrase(recipient):
    key = envelope.derive_key(
        recipient["passphrase"], unb64(recipient["salt"]), recipient["iterations"]
    )
    assert envelope.b64url(key) == recipient["key"]


@by_desc(VERIFY["envelopes"])
def test_verify_vector_decrypts_to_its_payload(vector):
    payload = envelope.decrypt(
        vector["envelope"], vector["url"], unb64(vector["key"]), vector["audience"]
    )
    assert payload == vector["payload"].encode()


@by_desc(INVALID["envelopes"])
def test_invalid_vector_is_refused_with_its_error(vector):
    error = getattr(envelope, vector["error"])
    with pytest.raises(error):
        envelope.decrypt(
            vector["envelope"], vector["url"], unb64(vector["key"]), vector["audience"]
        )


@by_desc(GENERATE["attachments"])
def test_generate_vector_encrypts_attachment_to_exact_blob(vector):
    attachment = envelope._encrypt_attachment_from_parts(
        unb64(vector["data"]),
        vector["url"],
        unb64(vector["key"]),
        unb64(vector["nonce"]),
    )
    assert envelope.b64url(attachment.blob) == vector["blob"]


@by_desc(VERIFY["attachments"])
def test_verify_vector_decrypts_attachment_to_its_data(vector):
    data = envelope.decrypt_attachment(
        unb64(vector["blob"]), vector["url"], unb64(vector["key"])
    )
    assert data == unb64(vector["data"])


@by_desc(INVALID["attachments"])
def test_invalid_attachment_vector_is_refused_with_its_error(vector):
    error = getattr(envelope, vector["error"])
    with pytest.raises(error):
        envelope.decrypt_attachment(
            unb64(vector["blob"]), vector["url"], unb64(vector["key"])
        )


KEYRINGS = load("keyring.json")["keyrings"]


@by_desc(KEYRINGS)
def test_the_hand_written_keyring_and_post_are_what_hearth_writes(vector):
    """keyring.json comes from tests/vectors/by_hand.py, which follows the
    spec without hearth: the module must write exactly the same texts."""
    salt, iterations = unb64(vector["salt"]), vector["iterations"]
    ring = vector["keyring"]
    members = [
        envelope.Recipient(vector["audience"], salt, iterations, unb64(m["key"]))
        for m in ring["members"]
    ]
    assert (
        envelope._encrypt_from_parts(
            unb64(vector["audience_key"]),
            ring["url"],
            members,
            content_key=unb64(ring["content_key"]),
            nonce=unb64(ring["nonce"]),
            key_nonces=[unb64(n) for n in ring["nonces"]],
        )
        == ring["envelope"]
    )
    post = vector["post"]
    audience_key = envelope.Recipient(
        vector["audience"], salt, iterations, unb64(vector["audience_key"])
    )
    assert (
        envelope._encrypt_from_parts(
            post["payload"].encode(),
            post["url"],
            [audience_key],
            content_key=unb64(post["content_key"]),
            nonce=unb64(post["nonce"]),
            key_nonces=[unb64(post["key_nonce"])],
        )
        == post["envelope"]
    )


@by_desc(KEYRINGS)
def test_every_member_of_the_hand_written_keyring_opens_the_post(vector):
    ring, post = vector["keyring"], vector["post"]
    (with_passphrase,) = [m for m in ring["members"] if m["passphrase"]]
    derived = envelope.derive_key(
        with_passphrase["passphrase"], unb64(vector["salt"]), vector["iterations"]
    )
    assert envelope.b64url(derived) == with_passphrase["key"]
    for member in ring["members"]:
        audience_key = envelope.decrypt(
            ring["envelope"], ring["url"], unb64(member["key"]), vector["audience"]
        )
        assert envelope.b64url(audience_key) == vector["audience_key"]
        payload = envelope.decrypt(
            post["envelope"], post["url"], audience_key, vector["audience"]
        )
        assert payload == post["payload"].encode()
        # A member's own key does not open the post: only the audience key.
        with pytest.raises(envelope.WrongKey):
            envelope.decrypt(
                post["envelope"], post["url"], unb64(member["key"]), vector["audience"]
            )
    with pytest.raises(envelope.Damaged):  # bound to its own address
        envelope.decrypt(
            ring["envelope"],
            "/p/k/elsewhere",
            unb64(ring["members"][1]["key"]),
            vector["audience"],
        )
