"""The envelope keeps a private post sealed to its page and its readers.

Round trip, tamper evidence (every byte, every character), the URL binding,
version refusal, the strict parse, caller mistakes, reuse of an unchanged
envelope, padding and compression. docs/format.md is the specification.
"""

import json
import os
import unicodedata
import zlib
from pathlib import Path

import pytest

from hearth import envelope
from hearth.envelope import (
    ITERATION_CAP,
    ITERATION_FLOOR,
    Damaged,
    EnvelopeError,
    NewerVersion,
    Recipient,
    WrongKey,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
URL = "2026/a-quiet-week/"
# Random keys stand in for derived ones: encrypt and decrypt never derive, so
# these tests need no PBKDF2 (test_derive_key_* below cover derivation).
FRIENDS = Recipient("friends", envelope.new_salt(), ITERATION_FLOOR, os.urandom(32))
FAMILY = Recipient("family", envelope.new_salt(), ITERATION_FLOOR + 1, os.urandom(32))
PAYLOAD = json.dumps(
    {"title": "A quiet week", "content": "<p>I slept, mostly.</p>", "tags": ["sleep"]}
).encode()


def open_as(text, recipient, url=URL):
    return envelope.decrypt(text, url, recipient.key, recipient.audience)


def edit(text, change):
    """Decode the envelope's JSON, let `change` edit it, write it canonically."""
    data = json.loads(text)
    change(data)
    return envelope._dump(data)


def flip_field(text, path, position):
    """The envelope with one bit of one byte of a decoded base64url field changed."""

    def change(data):
        holder = data
        for step in path[:-1]:
            holder = holder[step]
        raw = bytearray(envelope._unb64(holder[path[-1]], None, "test"))
        raw[position] ^= 0x01
        holder[path[-1]] = envelope.b64url(bytes(raw))

    return edit(text, change)


def field_length(text, path):
    holder = json.loads(text)
    for step in path:
        holder = holder[step]
    return len(envelope._unb64(holder, None, "test"))


# -- round trip -------------------------------------------------------------


def test_round_trip_opens_for_every_audience():
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS, FAMILY])
    assert open_as(text, FRIENDS) == PAYLOAD
    assert open_as(text, FAMILY) == PAYLOAD


@pytest.mark.parametrize(
    "payload", [b"", bytes(range(256)) * 3, "Ça va ? 🌱".encode()], ids=len
)
def test_round_trip_keeps_any_bytes(payload):
    assert open_as(envelope.encrypt(payload, URL, [FRIENDS]), FRIENDS) == payload


def test_envelope_is_ascii_json_whose_first_member_is_the_version():
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS])
    assert text.isascii()
    assert text.startswith('{"hearth":1,')
    # Nothing HTML treats specially except the quote, which attribute
    # escaping handles; no "<" or "&" can end a script element or an entity.
    assert not set(text) & set("<>&'\\ \n")


def test_envelope_records_what_decryption_needs():
    data = json.loads(envelope.encrypt(PAYLOAD, URL, [FAMILY]))
    entry = data["recipients"][0]
    assert entry["audience"] == "family"
    assert entry["kdf"] == "pbkdf2-sha256"
    assert entry["salt"] == envelope.b64url(FAMILY.salt)
    assert entry["salt_id"] == envelope.salt_id(FAMILY.salt)
    assert entry["iterations"] == ITERATION_FLOOR + 1


# -- wrong keys and audiences -------------------------------------------------


def test_wrong_key_is_refused_as_wrong_key_without_secrets_in_the_message():
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS])
    wrong = os.urandom(32)
    with pytest.raises(WrongKey, match="wrong passphrase") as caught:
        envelope.decrypt(text, URL, wrong, "friends")
    message = str(caught.value)
    for secret in (wrong, FRIENDS.key):
        assert envelope.b64url(secret)[:8] not in message
        assert secret.hex()[:8] not in message
    assert "quiet" not in message


def test_audience_without_an_entry_is_refused_as_wrong_key():
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS])
    with pytest.raises(WrongKey, match="no key for audience 'family'"):
        open_as(text, FAMILY)


def test_a_reader_tries_every_entry_of_its_audience():
    # A passphrase per reader: two entries named "friends", one salt.
    second = FRIENDS._replace(key=os.urandom(32))
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS, second])
    assert open_as(text, FRIENDS) == PAYLOAD
    assert open_as(text, second) == PAYLOAD


# -- tamper evidence ----------------------------------------------------------

ENTRY_PARTS = [
    # (field, error): a changed salt no longer matches its salt_id (parse);
    # a changed nonce or wrapped key fails the unwrap.
    ("salt", Damaged),
    ("salt_id", Damaged),
    ("nonce", WrongKey),
    ("wrapped_key", WrongKey),
]


@pytest.mark.parametrize("index", [0, 1], ids=["friends entry", "family entry"])
@pytest.mark.parametrize("field,error", ENTRY_PARTS, ids=[p[0] for p in ENTRY_PARTS])
def test_every_flipped_byte_of_a_recipient_entry_is_refused(index, field, error):
    recipients = [FRIENDS, FAMILY]
    text = envelope.encrypt(PAYLOAD, URL, recipients)
    path = ["recipients", index, field]
    length = field_length(text, path)
    for position in range(length):
        with pytest.raises(error):
            open_as(flip_field(text, path, position), recipients[index])


@pytest.mark.parametrize("field", ["nonce", "ciphertext"])
def test_every_flipped_byte_of_the_payload_is_refused_as_damaged(field):
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS, FAMILY])
    length = field_length(text, [field])
    assert length >= 12
    for position in range(length):
        changed = flip_field(text, [field], position)
        for recipient in (FRIENDS, FAMILY):
            with pytest.raises(Damaged):
                open_as(changed, recipient)


def test_every_changed_character_of_the_text_is_refused():
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS])
    for position, char in enumerate(text):
        changed = text[:position] + ("A" if char != "A" else "B") + text[position + 1 :]
        with pytest.raises(EnvelopeError):
            open_as(changed, FRIENDS)


def test_envelope_moved_to_another_url_is_refused_as_damaged():
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS])
    with pytest.raises(Damaged, match="another page"):
        open_as(text, FRIENDS, url="2026/another-post/")
    with pytest.raises(Damaged):
        open_as(text, FRIENDS, url=URL.rstrip("/"))


# -- versions and the strict parse --------------------------------------------


@pytest.mark.parametrize("version", ["2", "17", "100000000000000000000"])
def test_newer_version_is_refused_as_newer_version(version):
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS])
    newer = text.replace('{"hearth":1,', '{"hearth":' + version + ",", 1)
    with pytest.raises(NewerVersion, match=f"version {version}.*Update Hearth"):
        open_as(newer, FRIENDS)
    # A newer version may change everything after its prefix.
    with pytest.raises(NewerVersion):
        open_as('{"hearth":' + version + ',"anything":["else"]}', FRIENDS)


@pytest.mark.parametrize(
    "text", ['{"hearth":0,"recipients":[]}', '{"version":1}', "hearth", ""]
)
def test_unknown_version_or_not_an_envelope_is_refused_as_damaged(text):
    with pytest.raises(Damaged):
        open_as(text, FRIENDS)


@pytest.mark.parametrize("iterations", [ITERATION_FLOOR - 1, ITERATION_CAP + 1, 1])
def test_iterations_outside_floor_and_cap_are_refused_at_parse(iterations):
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS])
    changed = edit(text, lambda d: d["recipients"][0].update(iterations=iterations))
    # Damaged, not WrongKey: the parse refuses before any unwrapping.
    with pytest.raises(Damaged, match="iterations"):
        open_as(changed, FRIENDS)


def test_non_canonical_spelling_is_refused_as_damaged():
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS])
    pretty = json.dumps(json.loads(text), indent=1)
    with pytest.raises(Damaged):
        open_as(pretty, FRIENDS)
    spaced = json.dumps(json.loads(text))  # ", " and ": " separators
    with pytest.raises(Damaged):
        open_as(spaced, FRIENDS)


# -- caller mistakes ----------------------------------------------------------


def _recipients(**change):
    return [FRIENDS._replace(**change)]


ENCRYPT_MISTAKES = [
    ("payload str", {"payload": "text"}, TypeError, "payload must be bytes"),
    ("url bytes", {"url": b"/x/"}, TypeError, "url must be a str"),
    ("url empty", {"url": ""}, ValueError, "url is empty"),
    ("url surrogate", {"url": "/\ud800/"}, ValueError, "lone surrogate"),
    ("no recipients", {"recipients": []}, ValueError, "No recipients"),
    (
        "one bare Recipient",
        {"recipients": FRIENDS},
        TypeError,
        "wrap the one Recipient in a list",
    ),
    (
        "plain tuple",
        {"recipients": [tuple(FRIENDS)]},
        TypeError,
        "must be a Recipient",
    ),
    (
        "bad audience",
        {"recipients": _recipients(audience="Friends")},
        ValueError,
        "not a valid audience name",
    ),
    ("short salt", {"recipients": _recipients(salt=bytes(8))}, ValueError, "16 bytes"),
    (
        "iterations below floor",
        {"recipients": _recipients(iterations=1000)},
        ValueError,
        "between 600000 and 10000000",
    ),
    (
        "iterations str",
        {"recipients": _recipients(iterations="600000")},
        TypeError,
        "must be an int",
    ),
    ("short key", {"recipients": _recipients(key=bytes(16))}, ValueError, "32 bytes"),
    ("repeated", {"recipients": [FRIENDS, FRIENDS]}, ValueError, "repeats"),
    (
        "too many",
        {"recipients": [FRIENDS._replace(key=os.urandom(32)) for _ in range(65)]},
        ValueError,
        "at most 64",
    ),
    ("previous bytes", {"previous": b"{}"}, TypeError, "previous must be"),
]


@pytest.mark.parametrize(
    "change,error,match",
    [m[1:] for m in ENCRYPT_MISTAKES],
    ids=[m[0] for m in ENCRYPT_MISTAKES],
)
def test_encrypt_refuses_caller_mistakes_precisely(change, error, match):
    arguments = {
        "payload": PAYLOAD,
        "url": URL,
        "recipients": [FRIENDS],
        "previous": None,
    }
    arguments.update(change)
    with pytest.raises(error, match=match):
        envelope.encrypt(**arguments)


DECRYPT_MISTAKES = [
    ("envelope bytes", {"envelope": b"{}"}, TypeError, "envelope must be a str"),
    ("short key", {"key": bytes(31)}, ValueError, "key must be 32 bytes"),
    ("bad audience", {"audience": "Friends"}, ValueError, "not a valid audience"),
    ("empty url", {"url": ""}, ValueError, "url is empty"),
]


@pytest.mark.parametrize(
    "change,error,match",
    [m[1:] for m in DECRYPT_MISTAKES],
    ids=[m[0] for m in DECRYPT_MISTAKES],
)
def test_decrypt_refuses_caller_mistakes_precisely(change, error, match):
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS])
    arguments = {
        "envelope": text,
        "url": URL,
        "key": FRIENDS.key,
        "audience": "friends",
    }
    arguments.update(change)
    with pytest.raises(error, match=match):
        envelope.decrypt(**arguments)


DERIVE_MISTAKES = [
    ("empty passphrase", ("", bytes(16), ITERATION_FLOOR), ValueError, "empty"),
    ("blank passphrase", (" \t", bytes(16), ITERATION_FLOOR), ValueError, "empty"),
    ("passphrase bytes", (b"pw", bytes(16), ITERATION_FLOOR), TypeError, "str"),
    ("short salt", ("pw", bytes(15), ITERATION_FLOOR), ValueError, "16 bytes"),
    ("below floor", ("pw", bytes(16), ITERATION_FLOOR - 1), ValueError, "between"),
    ("above cap", ("pw", bytes(16), ITERATION_CAP + 1), ValueError, "between"),
    ("iterations bool", ("pw", bytes(16), True), TypeError, "must be an int"),
]


@pytest.mark.parametrize(
    "arguments,error,match",
    [m[1:] for m in DERIVE_MISTAKES],
    ids=[m[0] for m in DERIVE_MISTAKES],
)
def test_derive_key_refuses_caller_mistakes_precisely(arguments, error, match):
    with pytest.raises(error, match=match):
        envelope.derive_key(*arguments)


def test_derive_key_normalises_the_passphrase_to_nfc():
    # "é" typed as one code point or as e + combining accent is one passphrase.
    salt = envelope.new_salt()
    composed = unicodedata.normalize("NFC", "hearth-test-café")
    decomposed = unicodedata.normalize("NFD", "hearth-test-café")
    assert composed != decomposed
    key = envelope.derive_key(composed, salt, ITERATION_FLOOR)
    assert len(key) == 32
    assert envelope.derive_key(decomposed, salt, ITERATION_FLOOR) == key


def test_derive_key_trims_a_pasted_space_or_newline_and_nothing_else():
    # A passphrase pasted from a message often brings a trailing space or
    # newline; it is the same passphrase. Spaces inside it, or other
    # characters at its ends, still count.
    salt = envelope.new_salt()
    key = envelope.derive_key("hearth-test-friends-passphrase", salt, ITERATION_FLOOR)
    for pasted in (
        " hearth-test-friends-passphrase",
        "hearth-test-friends-passphrase \n",
        "\thearth-test-friends-passphrase\r\n",
    ):
        assert envelope.derive_key(pasted, salt, ITERATION_FLOOR) == key
    for other in (
        "hearth-test-friends -passphrase",
        "hearth-test-friends-passphrase\u00a0",
    ):
        assert envelope.derive_key(other, salt, ITERATION_FLOOR) != key


def test_new_salt_is_16_fresh_bytes_with_a_short_id():
    salts = {envelope.new_salt() for _ in range(20)}
    assert len(salts) == 20
    assert all(len(s) == 16 for s in salts)
    ids = {envelope.salt_id(s) for s in salts}
    assert len(ids) == 20
    assert all(len(i) == 12 for i in ids)


def test_recipient_repr_hides_the_key():
    text = repr(FRIENDS)
    assert "hidden" in text
    assert repr(FRIENDS.key) not in text
    assert envelope.b64url(FRIENDS.key) not in text


# -- reuse of the previous envelope -----------------------------------------


def nonces(text):
    data = json.loads(text)
    return {data["nonce"]} | {e["nonce"] for e in data["recipients"]}


def test_unchanged_payload_and_recipients_reuse_the_previous_envelope():
    previous = envelope.encrypt(PAYLOAD, URL, [FRIENDS, FAMILY])
    again = envelope.encrypt(PAYLOAD, URL, [FRIENDS, FAMILY], previous=previous)
    assert again == previous


def test_without_previous_every_envelope_is_fresh():
    first = envelope.encrypt(PAYLOAD, URL, [FRIENDS])
    second = envelope.encrypt(PAYLOAD, URL, [FRIENDS])
    assert nonces(first).isdisjoint(nonces(second))


def test_changed_payload_gets_a_fresh_envelope():
    previous = envelope.encrypt(PAYLOAD, URL, [FRIENDS])
    changed = PAYLOAD + b" "
    text = envelope.encrypt(changed, URL, [FRIENDS], previous=previous)
    assert nonces(text).isdisjoint(nonces(previous))
    assert open_as(text, FRIENDS) == changed


CHANGED_RECIPIENTS = {
    "audience added": [
        FRIENDS,
        FAMILY,
        Recipient("colleagues", envelope.new_salt(), ITERATION_FLOOR, os.urandom(32)),
    ],
    "audience removed": [FAMILY],
    "passphrase changed, same salt": [
        FRIENDS._replace(key=os.urandom(32)),
        FAMILY,
    ],
    "salt changed": [FRIENDS._replace(salt=envelope.new_salt()), FAMILY],
    "iterations changed": [FRIENDS._replace(iterations=ITERATION_FLOOR + 7), FAMILY],
    "order changed": [FAMILY, FRIENDS],
}


@pytest.mark.parametrize(
    "recipients", CHANGED_RECIPIENTS.values(), ids=list(CHANGED_RECIPIENTS)
)
def test_changed_recipients_get_a_fresh_envelope(recipients):
    previous = envelope.encrypt(PAYLOAD, URL, [FRIENDS, FAMILY])
    text = envelope.encrypt(PAYLOAD, URL, recipients, previous=previous)
    assert nonces(text).isdisjoint(nonces(previous))
    for recipient in recipients:
        assert open_as(text, recipient) == PAYLOAD


def test_previous_for_another_url_is_not_reused():
    previous = envelope.encrypt(PAYLOAD, "2026/old-slug/", [FRIENDS])
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS], previous=previous)
    assert text != previous
    assert open_as(text, FRIENDS) == PAYLOAD


@pytest.mark.parametrize(
    "previous", ["", "not an envelope", '{"hearth":2,"new":"format"}'], ids=repr
)
def test_previous_that_does_not_open_is_ignored(previous):
    text = envelope.encrypt(PAYLOAD, URL, [FRIENDS], previous=previous)
    assert open_as(text, FRIENDS) == PAYLOAD


# -- padding and compression ------------------------------------------------


def ciphertext_length(text):
    return len(envelope._unb64(json.loads(text)["ciphertext"], None, "test"))


@pytest.mark.parametrize(
    "sizes",
    [(0, 100, 250), (1030, 1050, 1070), (2950, 3000, 3050)],
    ids=["256-byte floor", "1088-byte bucket", "3072-byte bucket"],
)
def test_padding_hides_length_differences_within_a_bucket(sizes):
    # Random bytes do not compress, so the compressed size follows the size.
    lengths = {
        ciphertext_length(envelope.encrypt(os.urandom(n), URL, [FRIENDS]))
        for n in sizes
    }
    assert len(lengths) == 1


def test_padding_still_separates_sizes_in_different_buckets():
    small = envelope.encrypt(os.urandom(1000), URL, [FRIENDS])
    large = envelope.encrypt(os.urandom(4000), URL, [FRIENDS])
    assert ciphertext_length(small) < ciphertext_length(large)


def test_padded_lengths_are_padme_above_a_256_byte_floor():
    assert envelope._padded_length(1) == 256
    assert envelope._padded_length(256) == 256
    previous = 256
    for n in range(257, 70_000, 7):
        padded = envelope._padded_length(n)
        assert padded >= n
        assert padded >= previous  # monotonic
        assert envelope._is_padded_length(padded)
        assert (padded - n) / n < 0.0625  # the documented cost
        previous = padded
    # The documented leak: 16 sizes per doubling between 2 and 4 KiB.
    assert len({envelope._padded_length(n) for n in range(2049, 4097)}) == 16


def test_compression_keeps_an_800_word_post_smaller_than_its_html():
    html = (FIXTURES / "eight-hundred-words.html").read_text(encoding="utf-8")
    assert len(html.split()) >= 800
    payload = json.dumps(
        {
            "title": "October, honestly",
            "date": "2026-11-06",
            "content": html,
            "summary": html[: html.index("</p>") + 4],
            "tags": ["depression", "walking"],
            "category": "notes",
            "warnings": [],
            "attachments": {},
        }
    ).encode()
    text = envelope.encrypt(payload, URL, [FRIENDS, FAMILY])
    assert len(text) < len(html.encode())


# -- attachments --------------------------------------------------------------

ATTACHMENT_URL = "images/private-bramble.jpg.hearth"


def test_attachment_round_trip():
    data = os.urandom(5000)
    attachment = envelope.encrypt_attachment(data, ATTACHMENT_URL)
    assert attachment.blob.startswith(b"hearth\x01")
    assert (
        envelope.decrypt_attachment(attachment.blob, ATTACHMENT_URL, attachment.key)
        == data
    )
    assert "hidden" in repr(attachment)


def test_attachment_moved_to_another_url_is_refused_as_damaged():
    attachment = envelope.encrypt_attachment(b"image", ATTACHMENT_URL)
    with pytest.raises(Damaged):
        envelope.decrypt_attachment(attachment.blob, "images/other.jpg", attachment.key)


def test_every_flipped_byte_of_an_attachment_is_refused():
    attachment = envelope.encrypt_attachment(b"image bytes", ATTACHMENT_URL)
    for position in range(len(attachment.blob)):
        blob = bytearray(attachment.blob)
        blob[position] ^= 0x01
        with pytest.raises(EnvelopeError):
            envelope.decrypt_attachment(bytes(blob), ATTACHMENT_URL, attachment.key)


def test_newer_attachment_version_is_refused_as_newer_version():
    attachment = envelope.encrypt_attachment(b"image", ATTACHMENT_URL)
    newer = attachment.blob[:6] + b"\x02" + attachment.blob[7:]
    with pytest.raises(NewerVersion):
        envelope.decrypt_attachment(newer, ATTACHMENT_URL, attachment.key)


def test_unchanged_attachment_reuses_the_previous_blob_and_key():
    data = os.urandom(700)
    previous = envelope.encrypt_attachment(data, ATTACHMENT_URL)
    assert (
        envelope.encrypt_attachment(data, ATTACHMENT_URL, previous=previous) == previous
    )
    changed = envelope.encrypt_attachment(
        data + b"x", ATTACHMENT_URL, previous=previous
    )
    assert changed.key != previous.key
    moved = envelope.encrypt_attachment(data, "images/moved.jpg", previous=previous)
    assert moved.key != previous.key


def test_attachment_padding_hides_length_within_a_bucket():
    sizes = {
        len(envelope.encrypt_attachment(os.urandom(n), ATTACHMENT_URL).blob)
        for n in (1001, 1010, 1020)
    }
    assert len(sizes) == 1


def test_a_payload_of_exactly_the_limit_opens_and_one_byte_more_is_refused():
    recipient = envelope.Recipient("friends", bytes(16), ITERATION_FLOOR, bytes(32))
    text = envelope.encrypt(bytes(envelope.MAX_PAYLOAD), URL, [recipient])
    assert len(envelope.decrypt(text, URL, bytes(32), "friends")) == (
        envelope.MAX_PAYLOAD
    )
    with pytest.raises(ValueError, match="at most 8388608"):
        envelope.encrypt(bytes(envelope.MAX_PAYLOAD + 1), URL, [recipient])


def test_a_deflate_bomb_stops_at_the_limit_without_inflating_it_all():
    # 1 GiB of zeros compresses to about 1 MB: inflating it would need 1 GiB.
    compressor = zlib.compressobj(level=9, wbits=-15)
    chunk = bytes(1 << 20)
    bomb = b"".join(compressor.compress(chunk) for _ in range(1024))
    bomb += compressor.flush()
    with pytest.raises(envelope.Damaged, match="more than 8388608 bytes"):
        envelope._inflate(bomb)
