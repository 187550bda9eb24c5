"""The leak audit against a corpus: leaks planted in a built site, one per
surface and encoding, each found; clean sites, each passing.

One small site holds secrets in every format Pelican reads (Markdown with a
YAML header, reStructuredText, HTML, an audience from path metadata), a
draft, a `listing: hidden` post, a private post titled "November" among
public posts dated in November, an audience named like a public category,
and a private image byte-identical to a public one. It is built once for
publishing; each leak is planted in a copy of that build.
"""

import base64
import bz2
import gzip
import hashlib
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import brotli
import pytest
import zstandard
from pelican.settings import read_settings
from PIL import PngImagePlugin

from hearth import audit
from tests import imagefactory
from tests.conftest import ROOT, build, environ, passphrase_env

PATH_METADATA = r"posts/(?P<audience>friends)/.*"
MD = "posts/zorblat.md"
RST = "posts/brindlewick.rst"
HTML = "posts/snorkelvane.html"
PATHPOST = "posts/friends/glimmerhorn.md"
DRAFT = "posts/wobbleton.md"
NOVEMBER = "posts/november.md"
HIDDEN_ID = "0123456789abcdef"
PHRASE = (
    "the marmalade heron counted seven lanterns beside the frozen canal "
    "before the bakers woke"
)
SECRET_WORDS = ("zorblat", "quillfeather", "marmalade heron", "brindlewick")

POSTS = {
    "posts/walk.md": (
        "---\ntitle: A walk in the rain\ndate: 2026-11-03 10:00\n"
        "category: Family\ntags: [walks]\n---\n"
        "We walked to the bramble hedge. ![The hedge](/images/hedge.jpg)\n"
    ),
    "posts/later.md": (
        "Title: Later that month\nDate: 2026-11-21 10:00\nCategory: Notes\n"
        "Tags: walks\n\nRain again, and tea.\n"
    ),
    MD: (
        "---\ntitle: Zorblat evening\ndate: 2026-10-01 21:00\n"
        "category: Nightbook\ntags: [quillfeather]\nsubtitle: Moonwhistle\n"
        "warnings: [anxiety]\naudience: friends\nlisting: hidden\n"
        "summary: Only for the few who know about the canal.\n---\n"
        f"{PHRASE.capitalize()}.\n\n"
        "![A heron](/images/secret-heron.jpg) ![Same hedge](/images/hedge-copy.jpg)\n"
    ),
    RST: (
        "Brindlewick notes\n#################\n\n:date: 2026-10-02 21:00\n"
        ":author: Quentin Marbleworth\n"
        ":audience: friends\n:listing: locked\n\n"
        "The copper otter painted our kitchen door a colour nobody could name.\n"
    ),
    HTML: (
        "<html><head><title>Snorkelvane</title>"
        '<meta name="date" content="2026-10-03 21:00">'
        '<meta name="audience" content="friends">'
        '<meta name="listing" content="locked"></head>'
        "<body><p>A velvet tram carried the lighthouse keeper's cat across "
        "the moor at noon.</p></body></html>\n"
    ),
    PATHPOST: (
        "Title: Glimmerhorn\nDate: 2026-10-04 21:00\nListing: locked\n\n"
        "The glass orchard hummed whenever the neighbour's kettle boiled over.\n"
    ),
    DRAFT: (
        "Title: Wobbleton draft\nDate: 2026-10-05 21:00\nStatus: draft\n\n"
        "A draft about the wobbleton parade and its paper lions.\n"
    ),
    # A private post titled with a month, public posts dated in that month;
    # an audience ("family", label "Family") named like a public category.
    NOVEMBER: (
        "Title: November\nDate: 2026-11-10 21:00\nCategory: Family\n"
        "Audience: family\nListing: locked\n\nThe kitchen light stayed on.\n"
    ),
}


def _site(root):
    content = Path(root) / "content"
    for name, text in POSTS.items():
        path = content / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    images = content / "images"
    images.mkdir()
    hedge = _jpeg(40)
    (images / "hedge.jpg").write_bytes(hedge)
    (images / "hedge-copy.jpg").write_bytes(hedge)  # the same picture, twice
    (images / "secret-heron.jpg").write_bytes(_jpeg(48))
    # The hidden post's opaque address, fixed so tests can name it.
    (Path(root) / "hearth-state.json").write_text(
        json.dumps({"format": 1, "posts": {MD: HIDDEN_ID}})
    )
    return content


def _jpeg(width):
    buffer = io.BytesIO()
    imagefactory.picture(width).save(buffer, "JPEG")
    return buffer.getvalue()


def _overrides(root):
    return {
        "PATH_METADATA": PATH_METADATA,
        "CACHE_PATH": str(Path(root) / "cache"),
        "STATIC_PATHS": ["images"],
        "ARTICLE_PATHS": ["posts"],
        # A field of the writer's own, for a template or plugin to print.
        "HEARTH_EXTRA_KEYS": ["subtitle"],
    }


def _settings(root, settings_file="publishconf.py"):
    return read_settings(
        str(ROOT / settings_file),
        override={
            "PATH": str(Path(root) / "content"),
            "THEME": str(ROOT / "theme"),
            **_overrides(root),
        },
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    content = _site(root)
    with environ(**passphrase_env()):
        output = build(root / "public", "publishconf.py", content, **_overrides(root))
    return root, output


@pytest.fixture
def leaky(site, tmp_path):
    """A copy of the clean build, to plant a leak in."""
    _, output = site
    return shutil.copytree(output, tmp_path / "leaky")


def _audit(root, output, settings_file="publishconf.py", **options):
    return audit.audit_settings(_settings(root, settings_file), output, **options)


def _has(findings, path, surface, kind, source):
    wanted = (path, surface, kind, source)
    return any((f.path, f.surface, f.kind, f.source) == wanted for f in findings)


def _edit(output, relative, old, new):
    page = output / relative
    text = page.read_text()
    assert old in text, f"{relative} has no {old!r} to replace"
    page.write_text(text.replace(old, new, 1))


def _footer(output, html):
    _edit(output, "index.html", "</main>", f"{html}</main>")


def _pdf(text):
    """A one-page PDF that shows `text` (made by hand: pypdf only reads)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
        ),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _png_with_text(text):
    info = PngImagePlugin.PngInfo()
    info.add_text("Description", text, zip=True)
    buffer = io.BytesIO()
    imagefactory.picture().save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _write(output, relative, data):
    path = output / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)


PAGE = f"<html><body><p>{PHRASE}</p></body></html>"

# name: (how to plant it, (output path, surface, kind, source))
CORPUS = {
    "brotli copy": (
        lambda o: _write(o, "index.html.br", brotli.compress(PAGE.encode())),
        ("index.html.br", "page in a compressed copy", "phrase", MD),
    ),
    "zstandard copy": (
        lambda o: _write(
            o, "index.html.zst", zstandard.ZstdCompressor().compress(PAGE.encode())
        ),
        ("index.html.zst", "page in a compressed copy", "phrase", MD),
    ),
    "gzip copy": (
        lambda o: _write(o, "feeds/all.atom.xml.gz", gzip.compress(PAGE.encode())),
        ("feeds/all.atom.xml.gz", "data file in a compressed copy", "phrase", MD),
    ),
    "zip member": (
        lambda o: _write(o, "downloads/notes.zip", _zip({"notes.txt": PHRASE})),
        ("downloads/notes.zip", "text in a compressed copy", "phrase", MD),
    ),
    "zip member's name": (
        lambda o: _write(o, "downloads/tags.zip", _zip({"quillfeather.txt": "x"})),
        ("downloads/tags.zip", "file name in an archive", "tag", MD),
    ),
    "base64 data: URI": (
        lambda o: _footer(
            o,
            '<iframe src="data:text/html;base64,'
            + base64.b64encode(PAGE.encode()).decode()
            + '"></iframe>',
        ),
        ("index.html", "file in a data: URI", "phrase", MD),
    ),
    "picture in a data: URI with metadata": (
        lambda o: _write(
            o,
            "theme/css/bg.css",
            "body{background:url(data:image/png;base64,"
            + base64.b64encode(_png_with_text("Brindlewick notes")).decode()
            + ")}",
        ),
        ("theme/css/bg.css", "image metadata in a data: URI", "title", RST),
    ),
    "percent-encoded link": (
        lambda o: _footer(o, '<a href="/tag/Zorblat%20evening/">more</a>'),
        ("index.html", "page", "title", MD),
    ),
    "percent-encoded file name": (
        lambda o: _write(o, "notes/Zorblat%20evening.html", "<p>hi</p>"),
        ("notes/Zorblat%20evening.html", "file name", "title", MD),
    ),
    "word split by tags": (
        lambda o: _footer(o, "<p>Zorb<em>lat</em> <span>even</span>ing</p>"),
        ("index.html", "page", "title", MD),
    ),
    "soft hyphen and zero-width space inside words": (
        lambda o: _footer(o, "<p>Zorb&shy;lat eve\u200bning</p>"),
        ("index.html", "page", "title", MD),
    ),
    "fullwidth letters": (
        lambda o: _footer(
            o, "<p>\uff3a\uff4f\uff52\uff42\uff4c\uff41\uff54 evening</p>"
        ),
        ("index.html", "page", "title", MD),
    ),
    "a private author's name": (
        lambda o: _footer(o, "<p>by Quentin Marbleworth</p>"),
        ("index.html", "page", "author", RST),
    ),
    "text after the closing html tag": (
        # Browsers show it; libxml2 alone would drop it.
        lambda o: _write(o, "after.html", "<html><body></body></html>Zorblat evening"),
        ("after.html", "page", "title", MD),
    ),
    "html comment": (
        lambda o: _footer(o, "<!-- draft title: Snorkelvane -->"),
        ("index.html", "page", "title", HTML),
    ),
    "unquoted attribute": (
        lambda o: _footer(o, "<div data-note=Brindlewick-notes>x</div>"),
        ("index.html", "page", "title", RST),
    ),
    "character references": (
        lambda o: _footer(o, "<p>&#90;orbl&#x61;t&nbsp;evening</p>"),
        ("index.html", "page", "title", MD),
    ),
    "utf-16 text with a bom": (
        lambda o: _write(o, "notes.txt", f"Notes: {PHRASE}".encode("utf-16")),
        ("notes.txt", "text", "phrase", MD),
    ),
    "utf-16 json without a bom": (
        lambda o: _write(
            o, "search.json", json.dumps({"t": "Glimmerhorn"}).encode("utf-16-le")
        ),
        ("search.json", "data file", "title", PATHPOST),
    ),
    "utf-32 text": (
        lambda o: _write(o, "x.txt", "Brindlewick notes".encode("utf-32")),
        ("x.txt", "text", "title", RST),
    ),
    "javascript escapes": (
        lambda o: _write(o, "theme/js/x.js", 'var t = "\\u0047limmerhorn";'),
        ("theme/js/x.js", "script", "title", PATHPOST),
    ),
    "css escapes": (
        lambda o: _write(
            o, "theme/css/x.css", 'a::after{content:"\\5A orblat evening"}'
        ),
        ("theme/css/x.css", "style sheet", "title", MD),
    ),
    "one-word tag alone": (
        lambda o: _footer(o, "<p>Quillfeather</p>"),
        ("index.html", "page", "tag", MD),
    ),
    "category of a private post": (
        lambda o: _footer(o, "<p>Filed under Nightbook</p>"),
        ("index.html", "page", "category", MD),
    ),
    "short phrase of a summary": (
        lambda o: _footer(o, "<p>Only for the few who know about the canal.</p>"),
        ("index.html", "page", "phrase", MD),
    ),
    "reStructuredText body": (
        lambda o: _footer(
            o, "<p>The copper otter painted our kitchen door a colour nobody</p>"
        ),
        ("index.html", "page", "phrase", RST),
    ),
    "HTML post body": (
        lambda o: _footer(
            o, "<p>a velvet tram carried the lighthouse keeper's cat</p>"
        ),
        ("index.html", "page", "phrase", HTML),
    ),
    "path-metadata audience": (
        lambda o: _footer(o, "<h2>Glimmerhorn</h2>"),
        ("index.html", "page", "title", PATHPOST),
    ),
    "hidden post's address on a public page": (
        lambda o: _footer(o, f'<a href="/p/{HIDDEN_ID}/">a post</a>'),
        ("index.html", "page", "hidden address", MD),
    ),
    "hidden post's address in the sitemap": (
        lambda o: _write(
            o, "sitemap.xml", f"<urlset><url><loc>/p/{HIDDEN_ID}/</loc></url></urlset>"
        ),
        ("sitemap.xml", "sitemap", "hidden address", MD),
    ),
    "pdf text": (
        lambda o: _write(o, "files/notes.pdf", _pdf("Zorblat evening")),
        ("files/notes.pdf", "pdf", "title", MD),
    ),
    "png text chunk": (
        lambda o: _write(o, "images/chart.png", _png_with_text("Brindlewick notes")),
        ("images/chart.png", "image metadata", "title", RST),
    ),
    "private image's file name": (
        lambda o: _write(o, "images/secret-heron.jpg", b"not even the same bytes"),
        ("images/secret-heron.jpg", "file name", "attachment", MD),
    ),
    "private image's bytes under another name": (
        lambda o: _write(
            o, "images/x.jpg", (o.parent / "src" / "secret-heron.jpg").read_bytes()
        ),
        ("images/x.jpg", "image", "attachment", MD),
    ),
    "private title as a slug in a folder name": (
        lambda o: _write(o, "2026/zorblat-evening/index.html", "<p>moved</p>"),
        ("2026/zorblat-evening/index.html", "file name", "title", MD),
    ),
    "month title in a file name": (
        lambda o: _write(o, "2026/november/index.html", "<p>moved</p>"),
        ("2026/november/index.html", "file name", "title", NOVEMBER),
    ),
    "a header field of the writer's own": (
        lambda o: _footer(o, "<p>Moonwhistle</p>"),
        ("index.html", "page", "header field", MD),
    ),
    "draft's title": (
        lambda o: _footer(o, "<p>Wobbleton draft</p>"),
        ("index.html", "page", "title", DRAFT),
    ),
    "feed with escaped html": (
        lambda o: _write(
            o,
            "feeds/x.atom.xml",
            '<?xml version="1.0"?><feed><entry><content type="html">&lt;p&gt;'
            "The marmalade &lt;em&gt;heron&lt;/em&gt; counted seven lanterns beside "
            "the frozen canal&lt;/p&gt;</content></entry></feed>",
        ),
        ("feeds/x.atom.xml", "feed", "phrase", MD),
    ),
}


@pytest.mark.parametrize("case", list(CORPUS), ids=list(CORPUS))
def test_each_planted_leak_is_found(site, leaky, case):
    root, _ = site
    # Some plants copy source files: give them the content's images.
    shutil.copytree(root / "content" / "images", leaky.parent / "src")
    plant, wanted = CORPUS[case]
    plant(leaky)
    findings = _audit(root, leaky)
    assert _has(findings, *wanted), "\n".join(map(str, findings))


def test_words_that_only_touch_across_blocks_are_not_one_word(site, leaky):
    # A reader sees "Quill" and "feather" on two lines, not the tag
    # "quillfeather"; inside one line, split by inline tags, they are one.
    root, _ = site
    _footer(leaky, "<h2>Quill</h2><p>feather</p><li>Glimmer</li><li>horn</li>")
    assert _audit(root, leaky) == []


def test_the_clean_build_passes_with_one_note_for_the_shared_picture(site):
    # A title that is a month, among posts dated in that month; an audience
    # ("family") named like a public category ("Family"); a private image
    # byte-identical to a public one: none of them is a leak.
    root, output = site
    assert (output / "2026" / "a-walk-in-the-rain" / "index.html").is_file()
    assert "November" in (output / "index.html").read_text()
    notes = []
    assert _audit(root, output, notes=notes) == []
    assert len(notes) <= 1
    for note in notes:
        assert "images/hedge-copy.jpg" in note and "not a leak" in note


def test_a_public_copy_of_a_private_picture_is_reported_once_as_what_it_is(site, leaky):
    root, _ = site
    hedge = (root / "content" / "images" / "hedge.jpg").read_bytes()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        _write(leaky, f"images/{name}", hedge)
    notes = []
    assert _audit(root, leaky, notes=notes) == []
    assert len(notes) == 1
    assert "images/hedge-copy.jpg" in notes[0] and "not a leak" in notes[0]


def test_a_preview_build_is_refused_for_demo_passphrases_and_drafts(
    tmp_path, monkeypatch
):
    content = _site(tmp_path)
    # No passphrase anywhere: the preview falls back to the demo ones.
    for variable in passphrase_env():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HEARTH_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    output = build(
        tmp_path / "preview", "pelicanconf.py", content, **_overrides(tmp_path)
    )
    findings = _audit(tmp_path, output, "pelicanconf.py")
    kinds = {f.kind for f in findings}
    assert "demo passphrase" in kinds
    assert "draft" in kinds
    demo = [f for f in findings if f.kind == "demo passphrase"]
    # The hidden post's page, the locked ones, the audiences' indexes.
    assert any(f.path == f"p/{HIDDEN_ID}/index.html" for f in demo)
    assert any(f.path.startswith("p/i/") for f in demo)
    assert all("demo passphrase" in str(f) for f in demo)
    # Never the passphrase itself.
    assert not any("hearth-demo-" in str(f) for f in findings)


def test_an_envelope_with_a_passphrase_of_its_own_is_not_a_finding(site):
    root, output = site
    assert list((output / "p").rglob("index.html"))
    assert not [f for f in _audit(root, output) if f.kind == "demo passphrase"]


def test_a_damaged_compressed_copy_is_a_finding_not_a_pass(site, leaky):
    root, _ = site
    _write(leaky, "index.html.br", b"this is not brotli data")
    _write(leaky, "page.html.gz", gzip.compress(PAGE.encode())[:40])
    findings = _audit(root, leaky)
    assert _has(findings, "index.html.br", "file", "unreadable", "")
    assert _has(findings, "page.html.gz", "file", "unreadable", "")


def test_a_compression_bomb_is_refused_not_read_into_memory(site, leaky, monkeypatch):
    root, _ = site
    monkeypatch.setattr(audit.surfaces, "EXPANDED_LIMIT", 1024 * 1024)
    _write(leaky, "big.txt.bz2", bz2.compress(b"x"))  # not a kind it opens
    _write(leaky, "big.txt.gz", gzip.compress(b" " * (2 * 1024 * 1024)))
    findings = _audit(root, leaky)
    assert _has(findings, "big.txt.gz", "file", "unreadable", "")
    assert "opens into more than" in str(
        next(f for f in findings if f.path == "big.txt.gz")
    )


def _plain_hashes(text):
    """Unkeyed hashes of a secret, as an attacker with a word list makes them."""
    words = re.findall(r"[^\W_]+", text.lower())
    forms = {text, text.lower(), " ".join(words), "-".join(words), "".join(words)}
    hashes = set()
    for form in forms:
        for algorithm in ("sha256", "sha1", "md5", "blake2b", "blake2s"):
            hashes.add(hashlib.new(algorithm, form.encode()).hexdigest()[:8])
    return hashes


def test_masked_findings_show_neither_the_secret_nor_its_plain_hash(site, leaky):
    root, _ = site
    _footer(leaky, "<p>Zorblat evening, Quillfeather, Brindlewick notes</p>")
    _write(leaky, "tag/quillfeather.html", "<p>tagged</p>")
    _write(leaky, "2026/zorblat-evening/index.html", f"<p>{PHRASE}</p>")
    first = _audit(root, leaky)
    printed = "\n".join(map(str, first))
    assert "[secret #" in printed  # the paths that are themselves leaks
    # The source file names (the writer's own) are printed; nothing else of
    # the secrets is.
    for source in POSTS:
        printed = printed.replace(source, "<source>")
    lowered = printed.lower()
    for word in (*SECRET_WORDS, "zorblat-evening", "seven lanterns"):
        assert word not in lowered
    secrets = ["Zorblat evening", "Quillfeather", "Brindlewick notes", PHRASE]
    digests = set(re.findall(r"#([0-9a-f]{8})", printed))
    assert digests
    for secret in secrets:
        assert not digests & _plain_hashes(secret)
    # A new key every run: the same leak gets other digests next time.
    again = set(re.findall(r"#([0-9a-f]{8})", "\n".join(map(str, _audit(root, leaky)))))
    assert again and not again & digests


def test_a_file_the_audit_cannot_read_stops_it_naming_the_file(site, tmp_path):
    root, output = site
    broken = tmp_path / "site"
    shutil.copytree(root / "content", broken / "content")
    (broken / "content" / "posts" / "broken.md").write_text(
        "---\ntitle: [unclosed\naudience: friends\n---\nBody\n"
    )
    with pytest.raises(audit.AuditError, match=r"broken\.md.*line"):
        _audit(broken, output)


def test_folders_are_read_through_symlinks_and_by_their_names(site, leaky, tmp_path):
    root, _ = site
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text(PHRASE)
    (leaky / "extra").symlink_to(elsewhere, target_is_directory=True)
    (leaky / "loop").symlink_to(leaky, target_is_directory=True)  # must end
    (leaky / "quillfeather").mkdir()  # an empty folder's name
    (leaky / "tag-nightbook.html").symlink_to(tmp_path / "gone")  # broken
    findings = _audit(root, leaky)
    assert _has(findings, "tag-nightbook.html", "file name", "category", MD)
    assert _has(findings, "extra/notes.txt", "text", "phrase", MD)
    assert _has(findings, "quillfeather/", "file name", "tag", MD)
    assert not [f for f in findings if f.path.startswith("loop/")]


def test_a_small_benchmark_site_passes_and_its_leaks_are_found(tmp_path):
    # The benchmark's synthetic site (benchmarks/harness.py), at 40 posts so the
    # test stays fast: the 1,000-post one is measured by `invoke bench`.
    from benchmarks import harness as bench

    site = bench.generate_site(tmp_path / "site", 40)
    override = bench.build_overrides(site, tmp_path / "out", plugins=True)
    with environ(**passphrase_env()):
        output = build(tmp_path / "out", "publishconf.py", site.content, **override)
    settings = read_settings(str(ROOT / "publishconf.py"), override=override)
    assert audit.audit_settings(settings, output) == []
    # Its own needle, planted: the first words of a private body.
    private = site.private[0]
    body = private.path.read_text().split("\n\n", 1)[1]
    words = re.findall(r"[^\W_]+", body)[:7]
    _write(output, "leak.txt", " ".join(words))
    source = private.path.relative_to(site.content).as_posix()
    findings = audit.audit_settings(settings, output)
    assert _has(findings, "leak.txt", "text", "phrase", source)
