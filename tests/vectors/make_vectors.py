"""Make the envelope's known-answer vectors beside this file.

    .venv/bin/python tests/vectors/make_vectors.py

Writes generate.json (inputs, fixed content keys and nonces, and the exact
envelope they must give), verify.json (envelopes that must open to their
payload) and invalid.json (envelopes that must be refused, with the error a
reader must raise), each with an "envelopes" and an "attachments" list, as
pyca's Fernet vectors are split. CI does not run this script: the tests read
the committed files, so a change to the format shows as a failing vector.

Every fixed value is spelled here. Passphrases are the documented test ones
(tests/conftest.py TEST_PASSPHRASES); iterations sit at the floor to keep the
tests fast. All binary values are base64url without padding, as in the format.
"""

import hashlib
import json
import string
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hearth import envelope as env

HERE = Path(__file__).resolve().parent
B64_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
FLOOR = env.ITERATION_FLOOR
PASSPHRASES = {
    "friends": "hearth-test-friends-passphrase",
    "family": "hearth-test-family-passphrase",
}
SALTS = {"friends": bytes(range(16)), "family": bytes(range(16, 32))}


def fixed(label, length):
    """A fixed, reproducible byte string named by `label`."""
    return hashlib.sha256(label.encode()).digest()[:length]


def b64(data):
    return env.b64url(data)


KEYS = {a: env.derive_key(PASSPHRASES[a], SALTS[a], FLOOR) for a in PASSPHRASES}
# A second reader of "friends" with a passphrase of their own: a key without
# a passphrase here, since only the key matters to the format.
SECOND_READER_KEY = fixed("second friends reader key", 32)
MILLION_KEY = fixed("a key for a million iterations", 32)

POST = json.dumps(
    {
        "title": "A quiet week",
        "date": "2026-11-02",
        "content": "<p>I slept, mostly. The kettle list helped.</p>",
        "summary": "<p>I slept, mostly.</p>",
        "tags": ["sleep"],
        "category": "notes",
        "warnings": [],
        "attachments": {},
    },
    separators=(",", ":"),
)


def recipient(audience, *, key=None, salt=None, iterations=FLOOR, passphrase=True):
    salt = SALTS[audience] if salt is None else salt
    return {
        "audience": audience,
        "passphrase": PASSPHRASES[audience] if passphrase else None,
        "salt": salt,
        "iterations": iterations,
        "key": KEYS[audience] if key is None else key,
    }


GENERATE = [
    ("one audience, a short post", POST, "2026/a-quiet-week/", ["friends"]),
    ("two audiences", POST, "2026/letter-home/", ["friends", "family"]),
    ("an empty payload", "", "2026/empty/", ["family"]),
    (
        "non-ASCII payload and URL (both UTF-8)",
        "Ça va ? Un peu mieux. Ünïcödé and 🌱 too.",
        "2026/café-au-lait/",
        ["friends"],
    ),
    (
        "a payload that compresses to more than the 256-byte floor",
        "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(50)),
        "2026/long/",
        ["friends"],
    ),
    (
        "two entries for one audience (a passphrase per reader)",
        POST,
        "2026/per-reader/",
        [
            "friends",
            recipient("friends", key=SECOND_READER_KEY, passphrase=False),
        ],
    ),
    (
        "iterations above the floor are bound into the wrapped key",
        POST,
        "2026/a-million/",
        [
            recipient(
                "family",
                key=MILLION_KEY,
                salt=fixed("million salt", 16),
                iterations=1_000_000,
                passphrase=False,
            )
        ],
    ),
]


def make_generate():
    vectors = []
    for index, (desc, payload, url, who) in enumerate(GENERATE):
        recipients = [recipient(w) if isinstance(w, str) else w for w in who]
        content_key = fixed(f"content key {index}", 32)
        nonce = fixed(f"payload nonce {index}", 12)
        key_nonces = [fixed(f"key nonce {index}.{i}", 12) for i in range(len(who))]
        envelope = env._encrypt_from_parts(
            payload.encode(),
            url,
            [
                env.Recipient(r["audience"], r["salt"], r["iterations"], r["key"])
                for r in recipients
            ],
            content_key=content_key,
            nonce=nonce,
            key_nonces=key_nonces,
        )
        vectors.append(
            {
                "desc": desc,
                "payload": payload,
                "url": url,
                "recipients": [
                    {
                        "audience": r["audience"],
                        "passphrase": r["passphrase"],
                        "salt": b64(r["salt"]),
                        "iterations": r["iterations"],
                        "key": b64(r["key"]),
                        "nonce": b64(n),
                    }
                    for r, n in zip(recipients, key_nonces, strict=True)
                ],
                "content_key": b64(content_key),
                "nonce": b64(nonce),
                "envelope": envelope,
            }
        )
    return vectors


def make_verify(generate):
    return [
        {
            "desc": f"{v['desc']}: opened as {r['audience']} (entry {i})",
            "envelope": v["envelope"],
            "url": v["url"],
            "audience": r["audience"],
            "key": r["key"],
            "payload": v["payload"],
        }
        for v in generate
        for i, r in enumerate(v["recipients"])
    ]


def with_padded(padded, url="2026/a-quiet-week/"):
    """An authentic envelope around `padded`: its content is the writer's own
    mistake, not an attacker's, so only the inner checks can catch it."""
    content_key = fixed("inner mistake content key", 32)
    nonce = fixed("inner mistake nonce", 12)
    key_nonce = fixed("inner mistake key nonce", 12)
    ciphertext = AESGCM(content_key).encrypt(nonce, padded, env._payload_ad(url))
    wrapped = AESGCM(KEYS["friends"]).encrypt(
        key_nonce, content_key, env._key_ad("friends", SALTS["friends"], FLOOR)
    )
    return env._dump(
        {
            "hearth": 1,
            "recipients": [
                {
                    "audience": "friends",
                    "kdf": env.KDF,
                    "salt_id": env.salt_id(SALTS["friends"]),
                    "salt": b64(SALTS["friends"]),
                    "iterations": FLOOR,
                    "nonce": b64(key_nonce),
                    "wrapped_key": b64(wrapped),
                }
            ],
            "nonce": b64(nonce),
            "ciphertext": b64(ciphertext),
        }
    )


def pad_to(data, length):
    return data + b"\x80" + bytes(length - len(data) - 1)


def edit(envelope, change):
    """Decode the envelope, let `change` edit it, re-encode canonically."""
    data = json.loads(envelope)
    change(data)
    return env._dump(data)


def flip(text, position=0):
    data = bytearray(env._unb64(text, None, "field"))
    data[position] ^= 0x01
    return b64(bytes(data))


def make_invalid(generate):
    good = generate[0]["envelope"]
    top = json.loads(good)
    entry = top["recipients"][0]

    def set_entry(member, value):
        data = json.loads(good)
        data["recipients"][0][member] = value
        return env._dump(data)

    def set_top(member, value):
        data = json.loads(good)
        data[member] = value
        return env._dump(data)

    def without_kdf():
        data = json.loads(good)
        del data["recipients"][0]["kdf"]
        return env._dump(data)

    def reordered():
        data = json.loads(good)
        return env._dump(
            {k: data[k] for k in ["hearth", "recipients", "ciphertext", "nonce"]}
        )

    ciphertext = env._unb64(top["ciphertext"], None, "ciphertext")
    # Plain prose, long enough that half of its DEFLATE stream is not a whole one.
    prose = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20).encode()
    compressed = env._compress(prose)
    bucket = env._padded_length(len(compressed) + 1)
    # The last of a 16-byte salt's 22 characters carries 4 unused bits.
    last = B64_ALPHABET.index(entry["salt"][-1])
    unused_bits_salt = entry["salt"][:-1] + B64_ALPHABET[last | 1]
    standard_alphabet = "+" + entry["salt"][1:]
    version = '{"hearth":1,'

    cases = [
        # (description, envelope, error, overrides)
        (
            "a key that is not this audience's",
            good,
            "WrongKey",
            {"key": KEYS["family"]},
        ),
        (
            "an audience the envelope is not for",
            good,
            "WrongKey",
            {"audience": "family", "key": KEYS["family"]},
        ),
        ("moved to another page", good, "Damaged", {"url": "2026/elsewhere/"}),
        (
            "a newer version",
            good.replace(version, '{"hearth":2,', 1),
            "NewerVersion",
            {},
        ),
        (
            "a newer version whose members this reader does not know",
            '{"hearth":17,"future":"format"}',
            "NewerVersion",
            {},
        ),
        ("version 0", good.replace(version, '{"hearth":0,', 1), "Damaged", {}),
        (
            "the version as a string",
            good.replace(version, '{"hearth":"1",', 1),
            "Damaged",
            {},
        ),
        ("not an envelope at all", "hello", "Damaged", {}),
        ("an empty text", "", "Damaged", {}),
        ("a JSON array around an envelope", "[" + good + "]", "Damaged", {}),
        ("a space between members", good.replace(",", ", ", 1), "Damaged", {}),
        ("a trailing newline", good + "\n", "Damaged", {}),
        (
            "an escape in a string",
            good.replace('"friends"', '"\\u0066riends"', 1),
            "Damaged",
            {},
        ),
        ("members out of order", reordered(), "Damaged", {}),
        (
            "a member repeated",
            good[:-1] + ',"nonce":"' + top["nonce"] + '"}',
            "Damaged",
            {},
        ),
        ("an extra member", good[:-1] + ',"extra":"x"}', "Damaged", {}),
        ("a recipient without kdf", without_kdf(), "Damaged", {}),
        ("no recipients", set_top("recipients", []), "Damaged", {}),
        ("65 recipients", set_top("recipients", [entry] * 65), "Damaged", {}),
        ("recipients not an array", set_top("recipients", entry), "Damaged", {}),
        ("an unknown kdf", set_entry("kdf", "pbkdf2-sha512"), "Damaged", {}),
        (
            "iterations below the floor",
            set_entry("iterations", FLOOR - 1),
            "Damaged",
            {},
        ),
        (
            "iterations above the cap",
            set_entry("iterations", env.ITERATION_CAP + 1),
            "Damaged",
            {},
        ),
        (
            "iterations written as 6e5",
            good.replace(f'"iterations":{FLOOR}', '"iterations":6e5', 1),
            "Damaged",
            {},
        ),
        ("iterations as a string", set_entry("iterations", str(FLOOR)), "Damaged", {}),
        (
            "an audience that is not a valid name",
            set_entry("audience", "Friends"),
            "Damaged",
            {},
        ),
        ("a 15-byte salt", set_entry("salt", b64(bytes(15))), "Damaged", {}),
        (
            "a salt_id that does not match the salt",
            set_entry("salt_id", b64(bytes(9))),
            "Damaged",
            {},
        ),
        (
            "a salt changed, so salt_id no longer matches",
            set_entry("salt", flip(entry["salt"])),
            "Damaged",
            {},
        ),
        ("an 11-byte nonce", set_entry("nonce", b64(bytes(11))), "Damaged", {}),
        (
            "a 47-byte wrapped key",
            set_entry("wrapped_key", b64(bytes(47))),
            "Damaged",
            {},
        ),
        (
            "base64 with = padding",
            set_entry("salt", entry["salt"] + "=="),
            "Damaged",
            {},
        ),
        (
            "base64 in the standard alphabet",
            set_entry("salt", standard_alphabet),
            "Damaged",
            {},
        ),
        (
            "base64 with unused bits set",
            set_entry("salt", unused_bits_salt),
            "Damaged",
            {},
        ),
        (
            "a ciphertext one byte short (not a padded length)",
            set_top("ciphertext", b64(ciphertext[:-1])),
            "Damaged",
            {},
        ),
        (
            "a wrapped key changed",
            set_entry("wrapped_key", flip(entry["wrapped_key"], 5)),
            "WrongKey",
            {},
        ),
        (
            "a wrapping nonce changed",
            set_entry("nonce", flip(entry["nonce"])),
            "WrongKey",
            {},
        ),
        (
            "iterations changed within range (they are bound to the wrapped key)",
            set_entry("iterations", FLOOR + 1),
            "WrongKey",
            {},
        ),
        (
            "the ciphertext changed",
            set_top("ciphertext", flip(top["ciphertext"], 3)),
            "Damaged",
            {},
        ),
        (
            "the payload nonce changed",
            set_top("nonce", flip(top["nonce"])),
            "Damaged",
            {},
        ),
        (
            "an authentic payload without the padding marker",
            with_padded(compressed + bytes(bucket - len(compressed))),
            "Damaged",
            {},
        ),
        (
            "an authentic payload padded to a larger bucket than it needs",
            with_padded(pad_to(compressed, bucket * 2)),
            "Damaged",
            {},
        ),
        (
            "an authentic payload that is not a DEFLATE stream",
            with_padded(env._pad(b"\xff\xff\xff\xff")),
            "Damaged",
            {},
        ),
        (
            "an authentic payload whose DEFLATE stream is truncated",
            with_padded(env._pad(compressed[: len(compressed) // 2])),
            "Damaged",
            {},
        ),
        (
            "an authentic payload that inflates past the 8 MiB limit (a bomb)",
            with_padded(env._pad(env._compress(bytes(env.MAX_PAYLOAD + 1)))),
            "Damaged",
            {},
        ),
        (
            "an authentic payload with data after the DEFLATE stream",
            with_padded(env._pad(compressed + b"trailing")),
            "Damaged",
            {},
        ),
    ]
    vectors = []
    for desc, envelope, error, overrides in cases:
        vector = {
            "desc": desc,
            "envelope": envelope,
            "url": generate[0]["url"],
            "audience": "friends",
            "key": KEYS["friends"],
            "error": error,
        }
        vector.update(overrides)
        vector["key"] = b64(vector["key"])
        vectors.append(vector)
    return vectors


# -- attachments -----------------------------------------------------------

ATTACHMENT_URL = "images/bramble-private.jpg.hearth"


def make_attachments():
    """(generate, verify, invalid) lists for attachment blobs."""
    cases = [
        ("a small attachment (padded to the floor)", fixed("tiny", 32)),
        (
            "an attachment larger than the floor",
            b"".join(fixed(f"image bytes {i}", 32) for i in range(100)),
        ),
        ("an empty attachment", b""),
    ]
    generate, verify = [], []
    for index, (desc, data) in enumerate(cases):
        key = fixed(f"attachment key {index}", 32)
        nonce = fixed(f"attachment nonce {index}", 12)
        blob = env._encrypt_attachment_from_parts(data, ATTACHMENT_URL, key, nonce).blob
        generate.append(
            {
                "desc": desc,
                "data": b64(data),
                "url": ATTACHMENT_URL,
                "key": b64(key),
                "nonce": b64(nonce),
                "blob": b64(blob),
            }
        )
        verify.append(
            {
                "desc": desc,
                "blob": b64(blob),
                "url": ATTACHMENT_URL,
                "key": b64(key),
                "data": b64(data),
            }
        )

    good = env._unb64(generate[1]["blob"], None, "blob")
    key = fixed("attachment key 1", 32)

    def flipped(position):
        blob = bytearray(good)
        blob[position] ^= 0x01
        return bytes(blob)

    def authentic(padded):
        nonce = fixed("attachment mistake nonce", 12)
        ciphertext = AESGCM(key).encrypt(
            nonce, padded, env._ad("attachment", ATTACHMENT_URL.encode())
        )
        return b"hearth\x01" + nonce + ciphertext

    cases = [
        ("moved to another URL", good, "Damaged", {"url": "images/other.jpg.hearth"}),
        (
            "a key that is not its key",
            good,
            "Damaged",
            {"key": fixed("another key", 32)},
        ),
        ("a newer version", good[:6] + b"\x02" + good[7:], "NewerVersion", {}),
        ("version 0", good[:6] + b"\x00" + good[7:], "Damaged", {}),
        ("not a Hearth attachment", b"\x89PNG\r\n\x1a\n" + good[8:], "Damaged", {}),
        ("five bytes", good[:5], "Damaged", {}),
        ("one byte short (not a padded length)", good[:-1], "Damaged", {}),
        ("the nonce changed", flipped(7), "Damaged", {}),
        ("the ciphertext changed", flipped(40), "Damaged", {}),
        ("the tag changed", flipped(len(good) - 1), "Damaged", {}),
        (
            "an authentic blob without the padding marker",
            authentic(bytes(256)),
            "Damaged",
            {},
        ),
    ]
    invalid = []
    for desc, blob, error, overrides in cases:
        vector = {
            "desc": desc,
            "blob": blob,
            "url": ATTACHMENT_URL,
            "key": key,
            "error": error,
        }
        vector.update(overrides)
        vector["blob"] = b64(vector["blob"])
        vector["key"] = b64(vector["key"])
        invalid.append(vector)
    return generate, verify, invalid


def main():
    generate = make_generate()
    a_generate, a_verify, a_invalid = make_attachments()
    files = {
        "generate.json": {"envelopes": generate, "attachments": a_generate},
        "verify.json": {"envelopes": make_verify(generate), "attachments": a_verify},
        "invalid.json": {"envelopes": make_invalid(generate), "attachments": a_invalid},
    }
    for name, content in files.items():
        text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
