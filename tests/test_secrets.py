"""Where passphrases come from, and every way a build refuses one."""

import logging
import os

import pytest
from pelican.log import LimitFilter

from hearth import readers
from hearth.secrets import SecretsError, passphrase_for, passphrases
from tests.conftest import environ

GOOD = "a calm and rather long passphrase"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No passphrase or secrets file from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("HEARTH_PASSPHRASE_") or name == "HEARTH_SECRETS_FILE":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write_secrets(path, text, mode=0o600):
    path.write_text(text)
    path.chmod(mode)
    return path


def test_environment_variable_wins_over_the_secrets_file(tmp_path):
    file = write_secrets(
        tmp_path / "secrets.toml", '[passphrases]\nfriends = "from the file, long"\n'
    )
    with environ(HEARTH_PASSPHRASE_FRIENDS=GOOD):
        assert passphrase_for("friends", publish=True, secrets_file=file) == GOOD


def test_secrets_file_is_read_when_the_variable_is_unset(tmp_path):
    file = write_secrets(
        tmp_path / "secrets.toml", f'[passphrases]\nfriends = "{GOOD}"\n'
    )
    assert passphrase_for("friends", publish=True, secrets_file=file) == GOOD


def test_hearth_secrets_file_variable_points_at_another_file(tmp_path):
    elsewhere = write_secrets(
        tmp_path / "elsewhere.toml", f'[passphrases]\nclose-friends = "{GOOD}"\n'
    )
    with environ(HEARTH_SECRETS_FILE=str(elsewhere)):
        found = passphrase_for(
            "close-friends", publish=True, secrets_file=tmp_path / "none.toml"
        )
    assert found == GOOD


def test_variable_name_uses_upper_case_and_underscores(tmp_path):
    with environ(HEARTH_PASSPHRASE_CLOSE_FRIENDS=GOOD):
        assert (
            passphrase_for("close-friends", publish=True, secrets_file=tmp_path / "x")
            == GOOD
        )


def test_preview_falls_back_to_the_demo_passphrase_loudly(tmp_path, caplog):
    # An audience no other test uses: Pelican drops repeated log messages.
    with caplog.at_level(logging.WARNING, logger="hearth.secrets"):
        found = passphrase_for("neighbours", publish=False, secrets_file=tmp_path / "x")
    assert found == "hearth-demo-neighbours"
    assert "PREVIEW ONLY" in caplog.text
    assert "HEARTH_PASSPHRASE_NEIGHBOURS" in caplog.text
    # The demo passphrase is public, but logs never carry a passphrase at all.
    assert "hearth-demo-neighbours" not in caplog.text


def test_publish_refuses_a_missing_passphrase_naming_the_variable(tmp_path):
    with pytest.raises(
        SecretsError,
        match=r"No passphrase for audience 'friends': set HEARTH_PASSPHRASE_FRIENDS "
        r"or add friends = .* under \[passphrases\] in .*none\.toml",
    ):
        passphrase_for("friends", publish=True, secrets_file=tmp_path / "none.toml")


@pytest.mark.parametrize("publish", [True, False])
@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_passphrase_stops_preview_and_publish(tmp_path, publish, value):
    with (
        environ(HEARTH_PASSPHRASE_FRIENDS=value),
        pytest.raises(
            SecretsError,
            match=r"audience 'friends' in HEARTH_PASSPHRASE_FRIENDS is empty\. "
            r"Set HEARTH_PASSPHRASE_FRIENDS",
        ),
    ):
        passphrase_for("friends", publish=publish, secrets_file=tmp_path / "x")


def test_an_empty_passphrase_in_the_secrets_file_stops_the_build(tmp_path):
    file = write_secrets(tmp_path / "secrets.toml", '[passphrases]\nfriends = ""\n')
    with pytest.raises(
        SecretsError,
        match=r"in .*secrets\.toml is empty\. Set HEARTH_PASSPHRASE_FRIENDS",
    ):
        passphrase_for("friends", publish=False, secrets_file=file)


def test_publish_refuses_the_demo_passphrase(tmp_path):
    with (
        environ(HEARTH_PASSPHRASE_FRIENDS="hearth-demo-friends"),
        pytest.raises(
            SecretsError,
            match=r"public demo passphrase.*Set HEARTH_PASSPHRASE_FRIENDS .*your own",
        ),
    ):
        passphrase_for("friends", publish=True, secrets_file=tmp_path / "x")


WEAK = [
    ("short one", "shorter than 12 characters"),
    ("password1234567", "guessers try first"),
    ("aaaaaaaaaaaaaaaa", "same few characters"),
    # Long enough for the old length check; zxcvbn rates them far too low.
    ("friends2026!!", "too easy to guess"),
    ("Summer2026!!", "too easy to guess"),
]


@pytest.mark.parametrize(("value", "reason"), WEAK)
def test_a_weak_passphrase_warns_in_a_preview_without_showing_it(
    tmp_path, caplog, value, reason
):
    # Pelican's LimitFilter drops a message it has seen in this process.
    LimitFilter._raised_messages.clear()
    with environ(HEARTH_PASSPHRASE_FRIENDS=value), caplog.at_level(logging.WARNING):
        assert (
            passphrase_for("friends", publish=False, secrets_file=tmp_path / "x")
            == value
        )
    assert reason in caplog.text
    assert "HEARTH_PASSPHRASE_FRIENDS" in caplog.text
    assert "invoke passphrase" in caplog.text
    assert value not in caplog.text


@pytest.mark.parametrize(("value", "reason"), WEAK)
def test_publish_refuses_a_weak_passphrase_naming_the_audience_and_the_fix(
    tmp_path, value, reason
):
    with environ(HEARTH_PASSPHRASE_FRIENDS=value), pytest.raises(SecretsError) as err:
        passphrase_for("friends", publish=True, secrets_file=tmp_path / "x")
    message = str(err.value)
    assert reason in message
    assert "audience 'friends'" in message
    assert "invoke passphrase" in message
    assert "invoke readers-add friends" in message
    assert value not in message


def test_a_good_passphrase_gives_no_warning(tmp_path, caplog):
    with environ(HEARTH_PASSPHRASE_FRIENDS=GOOD), caplog.at_level(logging.WARNING):
        passphrase_for("friends", publish=True, secrets_file=tmp_path / "x")
    assert not caplog.records


def test_a_secrets_file_readable_by_others_warns_with_the_fix(tmp_path, caplog):
    file = write_secrets(
        tmp_path / "secrets.toml", f'[passphrases]\nfriends = "{GOOD}"\n', 0o644
    )
    with caplog.at_level(logging.WARNING):
        passphrase_for("friends", publish=True, secrets_file=file)
    assert "can be read by other users" in caplog.text
    assert f"chmod 600 {file}" in caplog.text
    assert GOOD not in caplog.text


def test_a_private_secrets_file_gives_no_warning(tmp_path, caplog):
    file = write_secrets(
        tmp_path / "secrets.toml", f'[passphrases]\nfriends = "{GOOD}"\n'
    )
    with caplog.at_level(logging.WARNING):
        passphrase_for("friends", publish=True, secrets_file=file)
    assert not caplog.records


def test_malformed_secrets_file_names_the_file_and_the_fix_not_the_value(tmp_path):
    file = write_secrets(
        tmp_path / "secrets.toml", '[passphrases]\nfriends = "unterminated secret\n'
    )
    with pytest.raises(
        SecretsError, match=r"secrets\.toml is not valid TOML .*Fix it"
    ) as err:
        passphrase_for("friends", publish=True, secrets_file=file)
    assert "unterminated secret" not in str(err.value)


def test_a_passphrase_that_is_not_a_string_is_refused(tmp_path):
    file = write_secrets(tmp_path / "secrets.toml", "[passphrases]\nfriends = 1234\n")
    with pytest.raises(
        SecretsError, match=r"'friends' must be a quoted string, like friends = "
    ):
        passphrase_for("friends", publish=True, secrets_file=file)


def test_passphrases_reports_every_audience_with_a_problem_at_once(tmp_path):
    with environ(HEARTH_PASSPHRASE_FAMILY=""), pytest.raises(SecretsError) as err:
        passphrases(["family", "friends"], publish=True, secrets_file=tmp_path / "x")
    assert "HEARTH_PASSPHRASE_FAMILY is empty" in str(err.value)
    assert "No passphrase for audience 'friends'" in str(err.value)


def test_weakness_accepts_the_documented_test_passphrases():
    assert readers.weakness("hearth-test-friends-passphrase", "friends") == ""


def test_a_subprocess_gets_no_passphrase_and_no_secrets_file(tmp_path):
    import subprocess
    import sys

    from hearth.secrets import without_secrets

    with environ(
        HEARTH_PASSPHRASE_FRIENDS="hearth-test-friends-passphrase",
        HEARTH_PASSPHRASE_SITE="hearth-test-site-passphrase",
        HEARTH_SECRETS_FILE=str(tmp_path / "secrets.toml"),
        HEARTH_STATE_KEY="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        HEARTH_SITEURL="https://blog.example",
    ):
        shown = subprocess.run(
            [sys.executable, "-c", "import os; print(sorted(os.environ))"],
            env=without_secrets(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    assert "HEARTH_PASSPHRASE" not in shown
    assert "HEARTH_SECRETS_FILE" not in shown
    assert "HEARTH_STATE_KEY" not in shown
    assert "HEARTH_SITEURL" in shown  # everything else passes
    assert "PATH" in shown
