"""The writer's commands: thin verbs over Pelican and the hearth package."""

import shlex
import shutil
import sys
from pathlib import Path

from invoke import Exit, task
from invoke.main import program
from pelican import main as pelican_main
from pelican.settings import DEFAULT_CONFIG, get_settings_from_file

ROOT = Path(__file__).resolve().parent
SETTINGS_FILE_BASE = "pelicanconf.py"
SETTINGS_FILE_PUBLISH = "publishconf.py"
SETTINGS = {**DEFAULT_CONFIG, **get_settings_from_file(str(ROOT / SETTINGS_FILE_BASE))}

CONFIG = {
    "output": "output",
    "publish_output": "public",
    "host": "127.0.0.1",
    "port": 8000,
}


def pelican_run(cmd):
    """Run Pelican in this process, as Pelican's own tasks.py does."""
    cmd += " " + program.core.remainder  # allows passing options after --
    pelican_main(shlex.split(cmd))


@task(help={"publish": "use publishconf.py: what goes public (no drafts)"})
def build(c, publish=False):
    """Build the site (the preview, or with --publish what goes public)."""
    if publish:
        pelican_run(f"-s {SETTINGS_FILE_PUBLISH} -o {CONFIG['publish_output']}")
    else:
        pelican_run(f"-s {SETTINGS_FILE_BASE} -o {CONFIG['output']}")


@task
def clean(c):
    """Remove the generated sites (output/ and public/)."""
    for name in (CONFIG["output"], CONFIG["publish_output"]):
        shutil.rmtree(ROOT / name, ignore_errors=True)


@task(help={"port": "port to serve on (default 8000)"})
def serve(c, port=CONFIG["port"]):
    """Build the preview and serve it on http://127.0.0.1:8000."""
    from pelican.server import ComplexHTTPRequestHandler, RootedHTTPServer

    build(c)

    class AddressReuseTCPServer(RootedHTTPServer):
        allow_reuse_address = True

    server = AddressReuseTCPServer(
        CONFIG["output"], (CONFIG["host"], int(port)), ComplexHTTPRequestHandler
    )
    print(f"Serving the site at http://{CONFIG['host']}:{port}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


@task(help={"port": "port to serve on (default 8000)"})
def preview(c, port=CONFIG["port"]):
    """Serve the preview and rebuild it whenever content/ or theme/ changes."""
    pelican_run(
        f"-s {SETTINGS_FILE_BASE} -o {CONFIG['output']} --autoreload --listen "
        f"--bind {CONFIG['host']} --port {int(port)}"
    )


@task(
    help={
        "audience": "the audience whose posts the link opens, e.g. friends",
        "url": "the private post's address, e.g. /p/0123456789abcdef/",
        "preview": "allow the demo passphrase (a link for the local preview)",
    }
)
def unlock_link(c, audience, url, preview=False):
    """Print a link that opens an audience's posts without the passphrase."""
    import os

    from hearth import links, secrets

    try:
        passphrase = secrets.passphrase_for(
            audience, publish=not preview, secrets_file=ROOT / secrets.SECRETS_FILE_NAME
        )
        key = links.audience_key(audience, passphrase, ROOT / "hearth-state.json")
        link = links.unlock_link(url, key, os.environ.get("HEARTH_SITEURL", ""))
    except (secrets.SecretsError, links.LinkError) as err:
        raise Exit(str(err)) from None
    print(link)
    print(
        f"Anyone with this link can read every post for {audience!r} until you "
        "change its passphrase. Send it privately.",
        file=sys.stderr,
    )


@task(help={"args": "extra pytest arguments, e.g. -k unlock"})
def test(c, args=""):
    """Run the whole test suite."""
    result = c.run(
        f"{shlex.quote(sys.executable)} -m pytest {args}", warn=True, pty=False
    )
    if result.exited:
        raise Exit(f"The tests failed (exit {result.exited}).", code=result.exited)
