"""The public address, set once: a publish build whose feeds would point at
no address or at this machine stops before anything is written."""

import os
import subprocess

import pytest
from pelican import Pelican
from pelican.settings import read_settings

from hearth import guard
from tests.conftest import CONTENT, ROOT, environ, passphrase_env
from tests.test_tasks import INVOKE, repo  # noqa: F401


def publish_build(output, **override):
    settings = read_settings(
        str(ROOT / "publishconf.py"),
        override={
            "PATH": str(CONTENT),
            "OUTPUT_PATH": str(output),
            "THEME": str(ROOT / "theme"),
            "PLUGIN_PATHS": [str(ROOT / "plugins")],
            "CACHE_CONTENT": False,
            "LOAD_CONTENT_CACHE": False,
            **override,
        },
    )
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with environ(**passphrase_env()):
            Pelican(settings).run()
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000/",
        "http://[::1]:8000",
        "http://127.1.2.3",
    ],
)
def test_a_publish_build_with_a_loopback_feed_address_stops(tmp_path, address):
    with pytest.raises(guard.SiteAddressError, match=r"publishconf\.py") as stop:
        publish_build(tmp_path / "out", FEED_DOMAIN=address)
    assert repr(address) in str(stop.value)
    assert "no reader can reach" in str(stop.value)
    assert not (tmp_path / "out").exists()


def test_a_publish_build_without_an_address_stops(tmp_path):
    with pytest.raises(guard.SiteAddressError, match="is not set"):
        publish_build(tmp_path / "out", FEED_DOMAIN="", SITEURL="")
    assert not (tmp_path / "out").exists()


def test_a_public_address_builds_and_the_feed_points_there(tmp_path):
    publish_build(tmp_path / "out", FEED_DOMAIN="https://robin.example.org")
    feed = (tmp_path / "out" / "feeds" / "all.atom.xml").read_text()
    assert 'href="https://robin.example.org/2026/' in feed
    assert "127.0.0.1" not in feed


def test_a_rehearsal_on_this_machine_may_opt_in_to_a_loopback_address(tmp_path):
    publish_build(
        tmp_path / "out",
        FEED_DOMAIN="http://127.0.0.1:8000",
        HEARTH_ALLOW_LOOPBACK_SITEURL=True,
    )
    assert (tmp_path / "out" / "feeds" / "all.atom.xml").is_file()


def test_a_site_without_feeds_needs_no_address(tmp_path):
    publish_build(tmp_path / "out", FEED_DOMAIN="", FEED_ALL_ATOM=None)
    assert (tmp_path / "out" / "index.html").is_file()


def test_the_preview_keeps_its_loopback_feed(sample_preview):
    feed = (sample_preview / "feeds" / "all.atom.xml").read_text()
    assert "http://127.0.0.1:8000/" in feed


def test_hearth_siteurl_in_the_environment_sets_the_feed_for_one_run(tmp_path):
    with environ(HEARTH_SITEURL="https://once.example/"):
        settings = read_settings(str(ROOT / "publishconf.py"))
    assert settings["FEED_DOMAIN"] == "https://once.example"


@pytest.mark.server
def test_build_publish_without_an_address_says_so_once_without_a_traceback(
    repo,  # noqa: F811
):
    env = {**os.environ, **passphrase_env()}
    env.pop("HEARTH_SITEURL")
    done = subprocess.run(
        [str(INVOKE), "-r", str(repo), "build", "--publish"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    printed = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0
    assert printed.count("The site's public address is not set") == 1, printed
    assert "Traceback" not in printed
    assert not (repo / "public" / "index.html").exists()
