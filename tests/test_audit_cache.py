"""The leak audit's cache (hearth/auditcache.py): it only ever saves work.

An audit with the cache finds what one without it finds, on every leak of
the corpus planted after the clean build was audited; a source that changed
is read again; an entry that was edited, damaged or left readable by others
is ignored; everything it writes is the owner's only.
"""

import contextlib
import json
import os
import shutil
import stat

import pytest

from hearth import audit, auditcache
from tests import test_audit_corpus as corpus
from tests.test_audit_corpus import CORPUS, MD, PHRASE, RST, _audit, _has, _write

# The corpus's site, built once, and a copy of its build to plant leaks in.
site, leaky = corpus.site, corpus.leaky


def _same(findings):
    # Digests are keyed anew for every run: compare all but them.
    return sorted(
        (f.path, f.surface, f.kind, f.source, f.count, f.note) for f in findings
    )


@pytest.fixture(scope="module")
def warm(site, tmp_path_factory):
    """A cache filled by auditing the clean build: every source read, every
    output file scanned clean."""
    root, output = site
    folder = tmp_path_factory.mktemp("cache") / "audit"
    stats = {}
    assert _audit(root, output, cache=folder, stats=stats) == []
    assert stats["readings_reused"] == 0 and stats["files_reused"] == 0
    return folder


@pytest.fixture
def folder(warm, tmp_path):
    """A copy of the warm cache, for one test to use (and spoil)."""
    return shutil.copytree(warm, tmp_path / "cache")


def test_a_second_audit_of_an_unchanged_site_reads_and_scans_nothing_again(
    site, folder
):
    root, output = site
    stats = {}
    assert _audit(root, output, cache=folder, stats=stats) == []
    assert stats["readings_read"] == 0 and stats["readings_reused"] > 5
    assert stats["files_scanned"] == 0 and stats["files_reused"] > 10


@pytest.mark.parametrize("case", list(CORPUS), ids=list(CORPUS))
def test_with_and_without_the_cache_every_planted_leak_gives_the_same_findings(
    site, leaky, folder, case
):
    root, _ = site
    shutil.copytree(root / "content" / "images", leaky.parent / "src")
    plant, wanted = CORPUS[case]
    plant(leaky)
    stats = {}
    cached = _audit(root, leaky, cache=folder, stats=stats)
    assert stats["files_reused"] > 0  # the cache was used, not bypassed
    assert _has(cached, *wanted), "\n".join(map(str, cached))
    assert _same(cached) == _same(_audit(root, leaky))


def test_a_changed_private_post_is_read_again_and_a_page_scanned_clean_scanned_again(
    site, folder, tmp_path
):
    # A page holds a sentence no post has: scanned clean. Then the private
    # post gains that sentence. Its cached reading is for other bytes, and
    # the page's clean verdict for other needles: both are redone.
    root, output = site
    output = shutil.copytree(output, tmp_path / "out")
    sentence = "a tangerine submarine hums under the chapel every thursday"
    page = output / "index.html"
    page.write_text(page.read_text().replace("</main>", f"<p>{sentence}</p></main>"))
    stats = {}
    assert _audit(root, output, cache=folder, stats=stats) == []
    assert stats["files_scanned"] == 1  # the page with the sentence
    post = root / "content" / MD
    text, times = post.read_text(), post.stat()
    try:
        post.write_text(text + f"\n{sentence.capitalize()}.\n")
        stats = {}
        findings = _audit(root, output, cache=folder, stats=stats)
    finally:  # the site is the module's: put it back as it was
        post.write_text(text)
        os.utime(post, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert stats["readings_read"] == 1
    assert _has(findings, "index.html", "page", "phrase", MD)


def _entry(folder, relative):
    path = folder / "readings" / (auditcache._digest("article", relative) + ".json")
    mac, _, body = path.read_bytes().partition(b"\n")
    return path, mac, json.loads(body)


def test_an_edited_reading_is_ignored_not_trusted_to_make_a_post_public(
    site, leaky, folder
):
    # Someone (or a broken disk) turns the cached reading of the private
    # post into a public one: trusted, the audit would pass its leak.
    root, _ = site
    path, mac, body = _entry(folder, MD)
    body["reading"]["audience"] = []
    body["reading"]["content"] = "<p>Nothing here.</p>"
    path.write_bytes(mac + b"\n" + json.dumps(body).encode())
    _write(leaky, "leak.txt", PHRASE)
    stats = {}
    findings = _audit(root, leaky, cache=folder, stats=stats)
    assert stats["readings_read"] == 1
    assert _has(findings, "leak.txt", "text", "phrase", MD)


def test_a_damaged_entry_is_ignored(site, leaky, folder):
    root, _ = site
    path, _, _ = _entry(folder, MD)
    path.write_bytes(path.read_bytes()[:-40])  # cut short
    (folder / "clean.json").write_bytes(b"\x00garbage")
    _write(leaky, "leak.txt", PHRASE)
    stats = {}
    findings = _audit(root, leaky, cache=folder, stats=stats)
    assert stats["readings_read"] == 1 and stats["files_reused"] == 0
    assert _has(findings, "leak.txt", "text", "phrase", MD)


def test_a_forged_clean_verdict_for_a_leaking_page_is_ignored(site, leaky, folder):
    # The planted page's digest added to the clean list without the key:
    # the page is scanned, and its leak found.
    root, _ = site
    _edit_page = leaky / "index.html"
    _edit_page.write_text(
        _edit_page.read_text().replace("</main>", f"<p>{PHRASE}</p></main>")
    )
    clean = folder / "clean.json"
    mac, _, body = clean.read_bytes().partition(b"\n")
    value = json.loads(body)
    digest = auditcache.hashlib.sha256(_edit_page.read_bytes()).hexdigest()
    value["files"].append(f"{digest} index.html")
    clean.write_bytes(mac + b"\n" + json.dumps(value).encode())
    findings = _audit(root, leaky, cache=folder)
    assert _has(findings, "index.html", "page", "phrase", MD)


def test_the_cache_is_the_owners_only_and_an_entry_others_can_read_is_ignored(
    site, folder
):
    root, output = site
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) > 5
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    path, _, _ = _entry(folder, MD)
    os.chmod(path, 0o644)  # anyone on the machine could have written it
    stats = {}
    assert _audit(root, output, cache=folder, stats=stats) == []
    assert stats["readings_read"] == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # written again, owner-only


def test_invoke_publish_keeps_the_cache_in_hearths_cache_folder(site):
    root, _ = site
    settings = {"PATH": str(root / "content"), "CACHE_PATH": str(root / "cache")}
    assert audit.cache_folder(audit.pelican_settings(settings)) == (
        root / "cache" / "hearth" / "audit"
    )


@contextlib.contextmanager
def _edited(path, text):
    """`path` holds `text` inside the block, then its old bytes and times."""
    old, times = path.read_text(), path.stat()
    try:
        path.write_text(text)
        yield
    finally:  # the site is the module's: put it back as it was
        path.write_text(old)
        os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))


def test_a_verdict_made_while_public_text_held_a_secret_is_not_kept_once_it_goes(
    site, leaky, folder
):
    # While a public post is also tagged "quillfeather", the private tag is
    # no secret and a page showing it is clean. Once the public post drops
    # the tag, the same page, byte for byte, carries the private tag.
    root, _ = site
    walk = root / "content" / "posts" / "walk.md"
    _page = leaky / "archives.html"
    _page.write_text(_page.read_text().replace("</main>", "<p>Quillfeather</p></main>"))
    with _edited(walk, walk.read_text().replace("[walks]", "[walks, quillfeather]")):
        assert _audit(root, leaky, cache=folder) == []
    stats = {}
    findings = _audit(root, leaky, cache=folder, stats=stats)
    assert stats["files_scanned"] > 10
    assert _has(findings, "archives.html", "page", "tag", MD)


def test_a_new_public_post_keeps_the_verdicts_on_files_it_did_not_change(site, folder):
    # More public text only takes needles away: what was clean stays clean.
    root, output = site
    new = root / "content" / "posts" / "new.md"
    try:
        new.write_text("Title: Tea\nDate: 2026-11-25 10:00\n\nA pot of tea.\n")
        stats = {}
        assert _audit(root, output, cache=folder, stats=stats) == []
    finally:
        new.unlink()
    assert stats["readings_read"] == 1 and stats["files_scanned"] < 5


@pytest.mark.parametrize("future_dates", [True, False])
def test_a_post_dated_later_is_read_again_only_while_the_clock_decides_its_status(
    tmp_path, future_dates
):
    # Without WITH_FUTURE_DATES Pelican makes a post dated later a draft
    # until its day: that reading holds only until then, so it is not kept.
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "later.md").write_text(
        "Title: Later\nDate: 2099-01-01 10:00\n\nWritten ahead of time.\n"
    )
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "index.html").write_text("<p>Hello</p>")
    settings = audit.pelican_settings(
        {"PATH": "content", "WITH_FUTURE_DATES": future_dates}, root=tmp_path
    )
    for _ in range(2):
        stats = {}
        audit.audit_settings(
            settings, tmp_path / "out", cache=tmp_path / "cache", stats=stats
        )
    assert stats["readings_read"] == (0 if future_dates else 1)


def test_a_cache_inside_the_audited_folder_is_not_written(site, leaky, caplog):
    # CACHE_PATH set below the output folder would put readings, which hold
    # private text, among the files that go online.
    root, _ = site
    stats = {}
    assert _audit(root, leaky, cache=leaky / "cache", stats=stats) == []
    assert not (leaky / "cache").exists()
    assert stats["readings_read"] > 5
    assert "set CACHE_PATH to a folder outside it" in caplog.text


def test_a_post_that_includes_another_file_is_read_again_when_only_that_file_changes(
    site, folder, tmp_path
):
    # The private rst post pulls its last paragraph from another file. Keyed
    # on the post's own bytes, a cached reading would miss a change in that
    # file, and the new private sentence would pass the audit unseen.
    root, output = site
    output = shutil.copytree(output, tmp_path / "out")
    post = root / "content" / RST
    included = post.parent / "brindlewick-notes.inc"
    text, times = post.read_text(), post.stat()
    first = "the copper owl sleeps inside the lighthouse clock every winter"
    second = "a velvet tortoise painted the harbour gates green after midnight"
    try:
        post.write_text(text + "\n.. include:: brindlewick-notes.inc\n")
        included.write_text(f"{first.capitalize()}.\n")
        assert _audit(root, output, cache=folder) == []
        included.write_text(f"{second.capitalize()}.\n")
        _write(output, "notes.txt", second)
        stats = {}
        findings = _audit(root, output, cache=folder, stats=stats)
    finally:  # the site is the module's: put it back as it was
        included.unlink(missing_ok=True)
        post.write_text(text)
        os.utime(post, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert stats["readings_read"] >= 1
    assert _has(findings, "notes.txt", "text", "phrase", RST), "\n".join(
        map(str, findings)
    )


@pytest.mark.parametrize(
    ("name", "source", "markdown", "wanted"),
    [
        ("a.rst", ".. include:: other.txt\n", {}, True),
        ("a.rst", ".. csv-table:: t\n   :file: data.csv\n", {}, True),
        ("a.rst", "Just text, with the word include in it.\n", {}, False),
        ("a.md", "text\n", {"extensions": ["pymdownx.snippets"]}, True),
        (
            "a.md",
            "text\n",
            {"extension_configs": {"markdown_include.include": {}}},
            True,
        ),
        ("a.md", "text\n", {"extensions": ["markdown.extensions.extra"]}, False),
    ],
)
def test_posts_that_may_read_other_files_are_not_cached(
    tmp_path, name, source, markdown, wanted
):
    path = tmp_path / name
    path.write_text(source)
    settings = {"MARKDOWN": markdown}
    assert auditcache._may_read_other_files(str(path), settings) is wanted
