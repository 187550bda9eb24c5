"""The public address, set once: a publish build whose feeds would point at
no address or at this machine stops before anything is written."""

import os
import subprocess

import pytest
from invoke import Context, Exit
from pelican import Pelican
from pelican.settings import read_settings

from hearth import guard
from hearth.targets import open_target, ops
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


# The address in one place: publishconf.py or a target's ?url= --------------


@pytest.fixture
def copy(repo, monkeypatch):  # noqa: F811
    """The copy's tasks, run from it, with no HEARTH_SITEURL in the environment."""
    from tests.test_tasks import load_tasks

    monkeypatch.delenv("HEARTH_SITEURL", raising=False)
    monkeypatch.delenv("HEARTH_TARGET", raising=False)
    monkeypatch.chdir(repo)
    return repo, load_tasks(repo)


def set_publishconf_address(folder, address):
    conf = folder / "publishconf.py"
    text = conf.read_text()
    line = 'HEARTH_SITEURL = os.environ.get("HEARTH_SITEURL") or ""'
    assert line in text
    conf.write_text(text.replace(line, line[:-2] + repr(address)))


def feed_of(root):
    return (root / "feeds" / "all.atom.xml").read_text()


def test_a_targets_url_sets_the_feeds_address(copy, tmp_path):
    _, tasks = copy
    www = tmp_path / "www"
    with environ(**passphrase_env()):
        tasks.publish(
            Context(), target=[f"{www.as_uri()}?url=https://robin.example.org"]
        )
    assert 'href="https://robin.example.org/2026/' in feed_of(www)
    assert "blog.example" not in feed_of(www)


def test_the_same_address_in_both_places_is_one_address(copy, tmp_path):
    folder, tasks = copy
    set_publishconf_address(folder, "https://Robin.example.org/")
    www = tmp_path / "www"
    with environ(**passphrase_env()):
        tasks.publish(
            Context(), target=[f"{www.as_uri()}?url=https://robin.example.org"]
        )
    assert 'href="https://robin.example.org/2026/' in feed_of(www)


def test_two_different_addresses_stop_the_publish_naming_both_places(
    copy, tmp_path, capsys
):
    folder, tasks = copy
    set_publishconf_address(folder, "https://old.example.org")
    www = tmp_path / "www"
    target = f"{www.as_uri()}?url=https://robin.example.org"
    with environ(**passphrase_env()), pytest.raises(Exit) as stop:
        tasks.publish(Context(), target=[target])
    message = str(stop.value)
    assert "'https://old.example.org': HEARTH_SITEURL in publishconf.py" in message
    assert f"'https://robin.example.org': the ?url= of the target {www.as_uri()}" in (
        message
    )
    assert "Keep it in one place" in message
    assert "Nothing was built or deployed." in message
    assert not www.exists()
    assert "Traceback" not in capsys.readouterr().err


def test_two_targets_with_different_addresses_stop_the_publish(copy, tmp_path):
    _, tasks = copy
    one, two = tmp_path / "one", tmp_path / "two"
    with environ(**passphrase_env()), pytest.raises(Exit, match="more than one place"):
        tasks.publish(
            Context(),
            target=[
                f"{one.as_uri()}?url=https://one.example.org",
                f"{two.as_uri()}?url=https://two.example.org",
            ],
        )
    assert not one.exists() and not two.exists()


def test_a_withdraw_is_not_held_back_by_two_addresses(copy, tmp_path, capsys):
    folder, tasks = copy
    set_publishconf_address(folder, "https://old.example.org")
    www = tmp_path / "www"
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "index.html").write_text("<!doctype html><title>Hi</title>")
    target = f"{www.as_uri()}?url=https://robin.example.org"
    ops.publish(tree, [open_target(target)])
    with environ(HEARTH_SCHEDULE_FILE=str(tmp_path / "schedule.json")):
        tasks.withdraw(Context(), target=[target])
    out = capsys.readouterr().out
    assert "Warning: The site's public address is set in more than one place" in out
    assert "This run uses 'https://old.example.org'." in out
    assert "withdrawn" in (www / ".hearth" / "release.json").read_text()


def test_hearth_siteurl_in_the_environment_wins_over_a_targets_url_for_one_run(
    copy, tmp_path, capsys
):
    _, tasks = copy
    www = tmp_path / "www"
    with environ(HEARTH_SITEURL="https://once.example", **passphrase_env()):
        tasks.publish(
            Context(), target=[f"{www.as_uri()}?url=https://robin.example.org"]
        )
    assert 'href="https://once.example/2026/' in feed_of(www)
    assert (
        "The site's address for this run is 'https://once.example' (HEARTH_SITEURL "
        "in the environment), not 'https://robin.example.org' of the ?url= of the "
        f"target {www.as_uri()}." in " ".join(capsys.readouterr().out.split())
    )


def test_a_loopback_url_on_the_target_stops_the_publish_build(copy, tmp_path, caplog):
    _, tasks = copy
    www = tmp_path / "www"
    with environ(**passphrase_env()), pytest.raises(Exit, match="publish build failed"):
        tasks.publish(Context(), target=[f"{www.as_uri()}?url=http://127.0.0.1:8000"])
    said = " ".join(caplog.text.split())
    assert "public address is 'http://127.0.0.1:8000', this machine" in said
    assert "the target's ?url=" in said
    assert not www.exists()


def test_build_publish_takes_the_address_from_the_configured_target(copy):
    folder, tasks = copy
    target = f"{(folder / 'public-site').as_uri()}?url=https://robin.example.org"
    with environ(HEARTH_TARGET=target, **passphrase_env()):
        tasks.build(Context(), publish=True)
    assert 'href="https://robin.example.org/2026/' in feed_of(folder / "public")
