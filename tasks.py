"""The writer's commands: thin verbs over Pelican and the hearth package."""

import shlex
import shutil
import sys
from pathlib import Path

from invoke import Exit, task
from invoke.main import program
from pelican import main as pelican_main
from pelican.settings import DEFAULT_CONFIG, get_settings_from_file

from hearth import audit as leak_audit

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


@task(help={"output": "the built site to check (default: public/, what goes public)"})
def audit(c, output=CONFIG["publish_output"]):
    """Check a built site for any text of private posts, drafts or hidden posts."""
    try:
        findings = leak_audit.audit_site(SETTINGS, output, root=ROOT)
    except leak_audit.AuditError as err:
        raise Exit(str(err)) from None
    for finding in findings:
        print(finding)
    if findings:
        raise Exit(
            f"The leak audit found {len(findings)} leak(s) in {output}/ (listed "
            "above: output file, surface, what leaked, from which source). Do "
            "not publish this build: fix the template, setting or plugin that "
            "wrote it, build again and re-run invoke audit.",
            code=1,
        )
    print(f"The leak audit found no private text in {output}/.")


@task(help={"args": "extra pytest arguments, e.g. -k unlock"})
def test(c, args=""):
    """Run the whole test suite."""
    result = c.run(
        f"{shlex.quote(sys.executable)} -m pytest {args}", warn=True, pty=False
    )
    if result.exited:
        raise Exit(f"The tests failed (exit {result.exited}).", code=result.exited)
