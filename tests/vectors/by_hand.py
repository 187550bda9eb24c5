"""Write keyring.json: a keyring and a post, built by hand from docs/format.md.

    .venv/bin/python tests/vectors/by_hand.py

Nothing here imports hearth: each step is the spec's own (Conventions, Keys,
Associated data, Padding, Encrypting, "Readers and the keyring"), spelled
with the standard library and pyca's AES-GCM primitive. tests/test_vectors.py
checks that hearth.envelope writes exactly these texts from the same inputs
and opens them, and tests/browser/test_envelope_browser.py that envelope.js
opens them. CI does not run this script; the committed file is the answer.
"""

import base64
import hashlib
import json
import unicodedata
import zlib
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = Path(__file__).resolve().parent
ITERATIONS = 600_000
AUDIENCE = "friends"
# The documented test passphrase of "friends" (tests/conftest.py) as the
# reader's passphrase; the link key and every random value are fixed here.
PASSPHRASE = "hearth-test-friends-passphrase"


def fixed(label, length):
    return hashlib.sha256(("by hand: " + label).encode()).digest()[:length]


def b64(data):
    """base64url without '=' padding (Conventions)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def u32(n):
    return n.to_bytes(4, "big")


def ad(label, *fields):
    """AD(label, f1, ..., fn) (Conventions)."""
    out = ("hearth/1/" + label).encode("utf-8") + b"\x00"
    for field in fields:
        out += u32(len(field)) + field
    return out


def padded_length(n):
    """Padding: Padme with a 256-byte floor."""
    if n <= 256:
        return 256
    e = n.bit_length() - 1  # floor(log2(n))
    s = e.bit_length()  # floor(log2(E)) + 1
    step = 2 ** (e - s)
    return -(-n // step) * step


def pad(compressed):
    n = len(compressed) + 1
    return compressed + b"\x80" + b"\x00" * (padded_length(n) - n)


def deflate_raw(data):
    # Raw DEFLATE (RFC 1951), as zlib writes it at level 9.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def salt_id(salt):
    return b64(hashlib.sha256(salt).digest()[:9])


def envelope(payload, url, entries, content_key, nonce):
    """Encrypting, steps 2-6. entries: [(audience, salt, iterations, key, nonce)]."""
    ciphertext = AESGCM(content_key).encrypt(
        nonce, pad(deflate_raw(payload)), ad("payload", url.encode("utf-8"))
    )
    recipients = []
    for audience, salt, iterations, key, key_nonce in entries:
        wrapped = AESGCM(key).encrypt(
            key_nonce,
            content_key,
            ad("key", audience.encode("ascii"), salt, u32(iterations)),
        )
        recipients.append(
            {
                "audience": audience,
                "kdf": "pbkdf2-sha256",
                "salt_id": salt_id(salt),
                "salt": b64(salt),
                "iterations": iterations,
                "nonce": b64(key_nonce),
                "wrapped_key": b64(wrapped),
            }
        )
    text = {
        "hearth": 1,
        "recipients": recipients,
        "nonce": b64(nonce),
        "ciphertext": b64(ciphertext),
    }
    return json.dumps(text, separators=(",", ":"))


def main():
    salt = fixed("salt", 16)
    reader_key = hashlib.pbkdf2_hmac(
        "sha256",
        unicodedata.normalize("NFC", PASSPHRASE).encode("utf-8"),
        salt,
        ITERATIONS,
        32,
    )
    link_key = fixed("link key", 32)
    audience_key = fixed("audience key", 32)
    ring_url = f"/p/k/{salt_id(salt)}"
    ring_nonces = [fixed("keyring key nonce 0", 12), fixed("keyring key nonce 1", 12)]
    ring_content_key = fixed("keyring content key", 32)
    ring_nonce = fixed("keyring nonce", 12)
    ring = envelope(
        audience_key,
        ring_url,
        [
            (AUDIENCE, salt, ITERATIONS, reader_key, ring_nonces[0]),
            (AUDIENCE, salt, ITERATIONS, link_key, ring_nonces[1]),
        ],
        ring_content_key,
        ring_nonce,
    )
    post_url = "/p/0123456789abcdef/"
    payload = json.dumps(
        {"title": "Written by hand", "content": "<p>From the spec alone.</p>"},
        separators=(",", ":"),
    )
    post_key_nonce = fixed("post key nonce", 12)
    post_content_key = fixed("post content key", 32)
    post_nonce = fixed("post nonce", 12)
    post = envelope(
        payload.encode("utf-8"),
        post_url,
        [(AUDIENCE, salt, ITERATIONS, audience_key, post_key_nonce)],
        post_content_key,
        post_nonce,
    )
    vector = {
        "desc": "a keyring for a reader's passphrase and a link, and a post "
        "for its audience key, written by hand from docs/format.md",
        "audience": AUDIENCE,
        "salt": b64(salt),
        "iterations": ITERATIONS,
        "audience_key": b64(audience_key),
        "keyring": {
            "url": ring_url,
            "members": [
                {"passphrase": PASSPHRASE, "key": b64(reader_key)},
                {"passphrase": None, "key": b64(link_key)},
            ],
            "nonces": [b64(n) for n in ring_nonces],
            "content_key": b64(ring_content_key),
            "nonce": b64(ring_nonce),
            "envelope": ring,
        },
        "post": {
            "url": post_url,
            "payload": payload,
            "key_nonce": b64(post_key_nonce),
            "content_key": b64(post_content_key),
            "nonce": b64(post_nonce),
            "envelope": post,
        },
    }
    (HERE / "keyring.json").write_text(
        json.dumps({"keyrings": [vector]}, indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
