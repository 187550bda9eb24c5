"""Published images carry no EXIF, GPS, XMP, IPTC or text; originals keep theirs."""

import base64
import hashlib
import io

import pytest
from PIL import Image, IptcImagePlugin

from hearth.images import clean_image
from tests import imagefactory
from tests.conftest import build

POST = """\
Title: A walk
Date: 2026-03-01 10:00

![The dog](/images/dog.jpg) ![Turned](/images/turned.jpg)
![Chart](/images/chart.png) ![Modern](/images/modern.webp)
![Plain](/images/plain.png)
"""


def _content(tmp_path):
    content = tmp_path / "content"
    (content / "posts").mkdir(parents=True)
    (content / "images").mkdir()
    (content / "posts" / "walk.md").write_text(POST)
    images = {
        "dog.jpg": imagefactory.jpeg(
            description="Taken at home", iptc="Our street", comment="by Robin"
        ),
        "turned.jpg": imagefactory.jpeg(orientation=6),
        "chart.png": imagefactory.png(text={"Comment": "Made at home"}),
        "modern.webp": imagefactory.webp(description="Taken at home"),
    }
    for name, data in images.items():
        (content / "images" / name).write_bytes(data)
    plain = io.BytesIO()
    imagefactory.picture().save(plain, "PNG")
    (content / "images" / "plain.png").write_bytes(plain.getvalue())
    return content


def _digests(folder):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.glob("*"))
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("images")
    content = _content(tmp)
    before = _digests(content / "images")
    output = build(tmp / "out", content=content)
    return content, output, before


def test_jpeg_comes_out_with_no_exif_gps_xmp_iptc_or_comment(site):
    _, output, _ = site
    data = (output / "images" / "dog.jpg").read_bytes()
    with Image.open(io.BytesIO(data)) as im:
        assert len(im.getexif()) == 0
        assert not im.getexif().get_ifd(0x8825)
        assert IptcImagePlugin.getiptcinfo(im) is None
        assert not {"exif", "xmp", "comment", "photoshop"} & set(im.info)
    for marker in (b"Exif", b"GPS", b"http://ns.adobe.com", b"Photoshop", b"8BIM"):
        assert marker not in data, marker
    for secret in (b"Taken at home", b"Our street", b"by Robin", b"ExampleCam"):
        assert secret not in data, secret


def test_source_jpeg_keeps_its_exif_and_gps(site):
    content, _, before = site
    assert _digests(content / "images") == before
    with Image.open(content / "images" / "dog.jpg") as im:
        assert im.getexif().get_ifd(0x8825)[2] == imagefactory.GPS[2]


def test_orientation_is_applied_before_exif_is_dropped(site):
    _, output, _ = site
    with Image.open(output / "images" / "turned.jpg") as im:
        # 40x20, to be turned a quarter clockwise: 20 wide, 40 tall, and the
        # red left half is now the top half.
        assert im.size == (20, 40)
        assert len(im.getexif()) == 0
        red, _, blue = im.convert("RGB").getpixel((10, 5))
        assert red > 150 and blue < 100
        red, _, blue = im.convert("RGB").getpixel((10, 35))
        assert blue > 150 and red < 100


def test_png_text_chunks_and_exif_are_removed_pixels_unchanged(site):
    content, output, _ = site
    data = (output / "images" / "chart.png").read_bytes()
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"):
        assert chunk not in data, chunk
    assert b"Made at home" not in data
    with (
        Image.open(output / "images" / "chart.png") as out,
        Image.open(content / "images" / "chart.png") as source,
    ):
        assert not out.text and "exif" not in out.info
        assert source.text["Comment"] == "Made at home"
        assert out.tobytes() == source.tobytes()  # lossless


def test_webp_exif_and_xmp_are_removed(site):
    _, output, _ = site
    data = (output / "images" / "modern.webp").read_bytes()
    assert b"EXIF" not in data and b"XMP " not in data
    assert b"Taken at home" not in data
    with Image.open(io.BytesIO(data)) as im:
        assert len(im.getexif()) == 0 and "xmp" not in im.info
        assert im.size == (40, 20)


def test_image_without_metadata_is_copied_byte_for_byte(site):
    content, output, _ = site
    assert (output / "images" / "plain.png").read_bytes() == (
        content / "images" / "plain.png"
    ).read_bytes()


def test_rebuilding_gives_byte_identical_images(site, tmp_path):
    # A republish sends only what changed: cleaning must be deterministic.
    content, output, _ = site
    again = build(tmp_path / "again", content=content)
    assert _digests(again / "images") == _digests(output / "images")


def test_linked_static_files_never_write_through_to_the_originals(tmp_path):
    # STATIC_CREATE_LINKS hard-links (or symlinks) output to content/;
    # cleaning in place would strip the writer's own photo.
    content = _content(tmp_path)
    before = _digests(content / "images")
    output = build(tmp_path / "out", content=content, STATIC_CREATE_LINKS=True)
    assert _digests(content / "images") == before
    dog = output / "images" / "dog.jpg"
    assert not dog.samefile(content / "images" / "dog.jpg")
    with Image.open(dog) as im:
        assert len(im.getexif()) == 0


def test_damaged_image_stops_the_build_and_is_left_out(tmp_path):
    content = _content(tmp_path)
    (content / "images" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe1\x00")
    with pytest.raises(Exception, match=r"(?s)images/broken\.jpg.*Re-save them"):
        build(tmp_path / "out", content=content)
    assert not (tmp_path / "out" / "images" / "broken.jpg").exists()
    assert (tmp_path / "out" / "images" / "dog.jpg").exists()


def test_progressive_jpeg_keeps_every_scan_and_its_exact_pixels():
    # Progressive JPEGs have many scans with tables between them; dropping
    # metadata must not touch a byte of them.
    buffer = io.BytesIO()
    imagefactory.picture(64, 48).save(
        buffer, "JPEG", progressive=True, exif=imagefactory.exif_with()
    )
    source = buffer.getvalue()
    clean = clean_image(source)
    assert b"Exif" in source and b"Exif" not in clean
    with Image.open(io.BytesIO(clean)) as out, Image.open(io.BytesIO(source)) as src:
        assert out.info.get("progressive")
        assert out.tobytes() == src.tobytes()


def test_animated_webp_keeps_its_frames():
    frames = [imagefactory.picture(), imagefactory.picture().rotate(180)]
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        "WEBP",
        save_all=True,
        append_images=frames[1:],
        lossless=True,
        exif=imagefactory.exif_with(orientation=6),
        xmp=imagefactory.XMP,
    )
    clean = clean_image(buffer.getvalue())
    assert b"EXIF" not in clean and b"XMP " not in clean
    with Image.open(io.BytesIO(clean)) as im:
        assert im.n_frames == 2


def test_symlinked_output_is_replaced_not_written_through(tmp_path):
    # Pelican falls back to symlinks across devices (STATIC_CREATE_LINKS).
    from types import SimpleNamespace

    from plugins.hearth_images.hearth_images import strip_output_images

    source = tmp_path / "dog.jpg"
    source.write_bytes(imagefactory.jpeg())
    before = source.read_bytes()
    output = tmp_path / "out"
    output.mkdir()
    (output / "dog.jpg").symlink_to(source)
    settings = {"PLUGINS": ["hearth_images"], "CACHE_PATH": str(tmp_path / "cache")}
    strip_output_images(SimpleNamespace(output_path=str(output), settings=settings))
    assert source.read_bytes() == before
    assert not (output / "dog.jpg").is_symlink()
    with Image.open(output / "dog.jpg") as im:
        assert len(im.getexif()) == 0


def test_a_private_only_photo_is_sealed_without_its_metadata(tmp_path):
    # hearth_images never sees a private post's photo in the clear, so the
    # private plugin cleans it before sealing: readers get no GPS either.
    from hearth import envelope
    from tests.conftest import environ, passphrase_env
    from tests.test_private import (
        TOKENS,
        build_site,
        make_site,
        open_envelope,
        private_urls,
    )

    content = make_site(tmp_path)
    photo = content / "images" / f"{TOKENS['image name']}.png"
    photo.write_bytes(imagefactory.png(text={"Comment": "Made at home"}))
    before = photo.read_bytes()
    with environ(**passphrase_env()):
        output = build_site(tmp_path, settings="publishconf.py")
    url = private_urls(tmp_path)["posts/hidden.md"]
    payload = open_envelope(output, url, "friends", tmp_path / "hearth-state.json")
    [(address, meta)] = payload["attachments"].items()
    blob = (output / address.lstrip("/")).read_bytes()
    key = base64.urlsafe_b64decode(meta["key"] + "==")
    data = envelope.decrypt_attachment(blob, address, key)
    assert b"Made at home" not in data and b"eXIf" not in data
    with Image.open(io.BytesIO(data)) as im:
        assert len(im.getexif()) == 0 and not im.text
    assert photo.read_bytes() == before


def test_an_image_unchanged_since_the_last_build_is_not_parsed_again(
    tmp_path, monkeypatch
):
    from types import SimpleNamespace

    from hearth import images
    from plugins.hearth_images.hearth_images import strip_output_images

    output = tmp_path / "out"
    output.mkdir()
    settings = {"PLUGINS": ["hearth_images"], "CACHE_PATH": str(tmp_path / "cache")}
    pelican = SimpleNamespace(output_path=str(output), settings=settings)
    parsed = []
    real = images.clean_image
    monkeypatch.setattr(images, "clean_image", lambda d: parsed.append(1) or real(d))
    for _ in range(2):  # two publish builds: the output is copied afresh
        (output / "dog.jpg").write_bytes(imagefactory.jpeg())
        strip_output_images(pelican)
        with Image.open(output / "dog.jpg") as im:
            assert len(im.getexif()) == 0
    assert len(parsed) == 1
    # A changed image is cleaned again.
    (output / "dog.jpg").write_bytes(imagefactory.jpeg(description="other"))
    strip_output_images(pelican)
    assert len(parsed) == 2


def test_a_build_without_hearth_images_is_not_touched(tmp_path):
    from types import SimpleNamespace

    from plugins.hearth_images.hearth_images import strip_output_images

    output = tmp_path / "out"
    output.mkdir()
    (output / "dog.jpg").write_bytes(imagefactory.jpeg())
    settings = {"PLUGINS": [], "CACHE_PATH": str(tmp_path / "cache")}
    strip_output_images(SimpleNamespace(output_path=str(output), settings=settings))
    with Image.open(output / "dog.jpg") as im:
        assert len(im.getexif()) > 0


def test_every_output_file_is_looked_at_whatever_its_name_or_folder(
    tmp_path, monkeypatch
):
    """The walk of the output finds what sorted(rglob('*')) finds (files and
    links to files, not linked folders), in that order; an image named like
    a page, deep in a folder, is cleaned by its signature; a folder it
    cannot read stops the build instead of being skipped."""
    import os
    from pathlib import Path
    from types import SimpleNamespace

    from plugins.hearth_images.hearth_images import (
        ImageMetadataError,
        _output_files,
        strip_output_images,
    )

    output = tmp_path / "out"
    (output / "a" / "b").mkdir(parents=True)
    (output / "a-b").mkdir()
    (output / "a" / "b" / "page.html").write_bytes(imagefactory.jpeg(description="x"))
    (output / "a-b" / "z.txt").write_text("text")
    (output / "a.txt").write_text("text")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "hidden.jpg").write_bytes(imagefactory.jpeg())
    (output / "linked").symlink_to(elsewhere, target_is_directory=True)
    (output / "a" / "photo.jpg").symlink_to(elsewhere / "hidden.jpg")
    expected = [str(p) for p in sorted(output.rglob("*")) if p.is_file()]
    assert _output_files(str(output)) == expected
    assert len(expected) == 4

    settings = {"PLUGINS": ["hearth_images"], "CACHE_PATH": str(tmp_path / "cache")}
    strip_output_images(SimpleNamespace(output_path=str(output), settings=settings))
    with Image.open(output / "a" / "b" / "page.html") as im:
        assert len(im.getexif()) == 0

    locked = str(output / "a-b")
    real_scandir = os.scandir

    def scandir(path):
        if str(path) == locked:  # as for another user's folder (tests run as root)
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(ImageMetadataError, match=r"cannot look for images in .*a-b"):
        strip_output_images(SimpleNamespace(output_path=str(output), settings=settings))
    assert Path(output / "a.txt").read_text() == "text"
