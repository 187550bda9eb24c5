"""theme/static/js/envelope.js opens what Python seals, in real Chromium.

The page under test is tests/browser/fixtures/envelope.html with its module
envelope-test.js, served over http on 127.0.0.1 beside a copy of the theme's
js/ folder. It runs the same vectors as tests/test_vectors.py.
"""

import json
import re
import shutil
import unicodedata
from pathlib import Path

import pytest

from hearth import envelope
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent
ENVELOPE_JS = ROOT / "theme" / "static" / "js" / "envelope.js"
VECTORS = ROOT / "tests" / "vectors"
VERIFY = json.loads((VECTORS / "verify.json").read_text(encoding="utf-8"))
INVALID = json.loads((VECTORS / "invalid.json").read_text(encoding="utf-8"))
GENERATE = json.loads((VECTORS / "generate.json").read_text(encoding="utf-8"))
KEYRINGS = json.loads((VECTORS / "keyring.json").read_text(encoding="utf-8"))


@pytest.fixture
def harness(page, tmp_path, http_serve):
    """The test page, loaded and ready; checks it stayed on 127.0.0.1."""
    shutil.copytree(ROOT / "theme" / "static" / "js", tmp_path / "js")
    for name in ("envelope.html", "envelope-test.js"):
        shutil.copy(HERE / "fixtures" / name, tmp_path / name)
    # Chromium asks for /favicon.ico on its own; an empty one keeps its 404
    # out of the console errors this fixture asserts on.
    (tmp_path / "favicon.ico").write_bytes(b"")
    page.goto(http_serve(tmp_path) + "/envelope.html")
    page.wait_for_function("window.hearthTest !== undefined")
    yield page
    assert page.watch.foreign_requests() == []
    assert page.watch.errors == []


def mismatches(vectors, results, expected):
    """Descriptions of the vectors whose result is not the expected one."""
    return [
        f"{v['desc']}: expected {want!r}, got {got!r}"
        for v, got, want in zip(vectors, results, expected, strict=True)
        if got != want
    ]


def test_browser_opens_every_verify_vector_to_its_payload(harness):
    vectors = VERIFY["envelopes"]
    results = harness.evaluate("v => window.hearthTest.openAll(v)", vectors)
    assert (
        mismatches(vectors, results, [{"value": v["payload"]} for v in vectors]) == []
    )


def test_browser_opens_every_verify_vector_step_by_step(harness):
    vectors = VERIFY["envelopes"]
    results = harness.evaluate("v => window.hearthTest.openAllInSteps(v)", vectors)
    assert (
        mismatches(vectors, results, [{"value": v["payload"]} for v in vectors]) == []
    )


def test_browser_refuses_every_invalid_vector_with_its_error_class(harness):
    vectors = INVALID["envelopes"]
    results = harness.evaluate("v => window.hearthTest.openAll(v)", vectors)
    got = [(r.get("error"), r.get("isEnvelopeError")) for r in results]
    want = [(v["error"] + "Error", True) for v in vectors]
    assert mismatches(vectors, got, want) == []


def test_browser_opens_the_hand_written_keyring_with_each_member(harness):
    (vector,) = KEYRINGS["keyrings"]
    result = harness.evaluate("v => window.hearthTest.openThroughKeyring(v)", vector)
    want = [vector["audience_key"], vector["post"]["payload"]]
    assert result == {"value": [want] * len(vector["keyring"]["members"])}


def test_browser_decrypts_every_attachment_vector(harness):
    vectors = VERIFY["attachments"]
    results = harness.evaluate("v => window.hearthTest.openAttachments(v)", vectors)
    assert mismatches(vectors, results, [{"value": v["data"]} for v in vectors]) == []


def test_browser_refuses_every_invalid_attachment_with_its_error_class(harness):
    vectors = INVALID["attachments"]
    results = harness.evaluate("v => window.hearthTest.openAttachments(v)", vectors)
    got = [r.get("error") for r in results]
    assert mismatches(vectors, got, [v["error"] + "Error" for v in vectors]) == []


def test_browser_derives_the_same_key_as_python(harness):
    recipient = GENERATE["envelopes"][0]["recipients"][0]
    salt = envelope._unb64(recipient["salt"], 16, "salt")
    python_key = envelope.derive_key(
        recipient["passphrase"], salt, recipient["iterations"]
    )
    browser_key = harness.evaluate(
        "([p, s, i]) => window.hearthTest.derive(p, s, i)",
        [recipient["passphrase"], recipient["salt"], recipient["iterations"]],
    )
    assert browser_key == envelope.b64url(python_key) == recipient["key"]


def test_browser_normalises_the_passphrase_to_nfc_as_python_does(harness):
    # The documented normalisation passphrase (docs/format.md, "Audience key"), typed
    # decomposed in the browser and composed in Python.
    salt = bytes(range(16))
    composed = unicodedata.normalize("NFC", "hearth-test-café")
    decomposed = unicodedata.normalize("NFD", "hearth-test-café")
    browser_key = harness.evaluate(
        "([p, s, i]) => window.hearthTest.derive(p, s, i)",
        [decomposed, envelope.b64url(salt), envelope.ITERATION_FLOOR],
    )
    python_key = envelope.derive_key(composed, salt, envelope.ITERATION_FLOOR)
    assert browser_key == envelope.b64url(python_key)


def test_browser_trims_a_pasted_passphrase_as_python_does(harness):
    # docs/format.md, "Keys": space, tab, CR and LF at either end, nothing else.
    salt = bytes(range(16))
    python_key = envelope.derive_key(
        "hearth-test-friends-passphrase", salt, envelope.ITERATION_FLOOR
    )
    for typed, same in (
        (" hearth-test-friends-passphrase\r\n", True),
        ("\thearth-test-friends-passphrase ", True),
        ("hearth-test-friends-passphrase\u00a0", False),
    ):
        browser_key = harness.evaluate(
            "([p, s, i]) => window.hearthTest.derive(p, s, i)",
            [typed, envelope.b64url(salt), envelope.ITERATION_FLOOR],
        )
        assert (browser_key == envelope.b64url(python_key)) is same, repr(typed)


def test_browser_parse_lists_the_recipients_python_wrote(harness):
    vector = next(v for v in GENERATE["envelopes"] if len(v["recipients"]) == 2)
    listed = harness.evaluate("t => window.hearthTest.parse(t)", vector["envelope"])
    assert listed == [
        {
            "audience": r["audience"],
            "kdf": "pbkdf2-sha256",
            "saltId": envelope.salt_id(envelope._unb64(r["salt"], 16, "salt")),
            "salt": r["salt"],
            "iterations": r["iterations"],
        }
        for r in vector["recipients"]
    ]


def test_browser_refuses_caller_mistakes_with_argument_errors(harness):
    assert harness.evaluate("() => window.hearthTest.callerMistakes()") == {
        "deriveKey empty passphrase": "TypeError",
        "deriveKey blank passphrase": "TypeError",
        "deriveKey short salt": "TypeError",
        "deriveKey below floor": "RangeError",
        "deriveKey above cap": "RangeError",
        "importAudienceKey 31 bytes": "TypeError",
        "exportAudienceKey not extractable": "TypeError",
        "parseEnvelope not a string": "TypeError",
        "fromBase64url padded": "TypeError",
        "openEnvelope empty url": "TypeError",
    }


def test_envelope_js_has_no_imports_and_no_dom_access():
    # STYLE.md: the decryptor is one module with no imports and no DOM, so
    # that it can be read and audited on its own.
    source = ENVELOPE_JS.read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)
    assert not re.search(r"^\s*import\b|\bimport\(", code, flags=re.M)
    for name in ("document", "window", "localStorage", "sessionStorage", "fetch("):
        assert name not in code, name
