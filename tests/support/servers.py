"""Real servers on 127.0.0.1 for the publish tests and the benchmark.

nginx serves a file:// target, a throwaway sshd (its own host key, key-only
auth) takes rsync, SeaweedFS speaks S3 (versioning, the 1,000-key delete
limit), moto's standalone server stands in for CloudFront's invalidation
API only. Each is a context manager; tests/targets/conftest.py wraps them
as fixtures and benchmarks/harness.py uses them directly.
"""

import contextlib
import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
S3_KEY = "hearthtestkey"
S3_SECRET = "hearthtestsecret"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port}")


def stop(proc, grace=10):
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def get(url):
    """(status, headers, body) of a GET, without raising on 4xx/5xx."""
    request = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# --- nginx -------------------------------------------------------------------

NGINX_CONF = """\
daemon off;
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
{snippet}
    }}
}}
"""


def hosting_snippet():
    """The nginx snippet docs/hosting.md gives the writer, used as it is."""
    text = (ROOT / "docs" / "hosting.md").read_text()
    start = text.index("# hearth-nginx-begin")
    end = text.index("# hearth-nginx-end")
    return text[start:end]


@contextlib.contextmanager
def run_nginx(tmp, root):
    """A real nginx on 127.0.0.1 serving root with docs/hosting.md's snippet."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = tmp / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(
        NGINX_CONF.format(
            user=user, tmp=tmp, port=port, root=root, snippet=hosting_snippet()
        )
    )
    proc = subprocess.Popen(
        ["nginx", "-c", str(conf), "-p", str(tmp)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, proc, "nginx")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


# --- sshd --------------------------------------------------------------------

SSHD_CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {tmp}/host_key
PidFile {tmp}/sshd.pid
AuthorizedKeysFile {tmp}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
"""


@contextlib.contextmanager
def run_sshd(tmp):
    """A throwaway sshd on 127.0.0.1, its files in tmp (the benchmark uses it too).

    Yields {'port', 'user', 'key', 'options'}; stops sshd on exit.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    for name in ("host_key", "client_key"):
        if not (tmp / name).exists():
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / name)],
                check=True,
            )
    shutil.copy(tmp / "client_key.pub", tmp / "authorized_keys")
    port = free_port()
    (tmp / "sshd_config").write_text(SSHD_CONFIG.format(port=port, tmp=tmp))
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation dir
    with open(tmp / "sshd.log", "wb") as log:
        proc = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(tmp / "sshd_config")],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        wait_for_port(port, proc, "sshd")
        yield {
            "port": port,
            "user": getpass.getuser(),
            "key": tmp / "client_key",
            "options": [
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR",
            ],
        }  # fmt: skip
    finally:
        stop(proc)


# --- SeaweedFS and moto ----------------------------------------------------


@contextlib.contextmanager
def run_seaweed(tmp):
    """A real SeaweedFS S3 gateway on 127.0.0.1, its data in tmp.

    Yields (endpoint URL, a boto3 client with the test credentials); the
    benchmark uses it too.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "hearth",
                        "credentials": [{"accessKey": S3_KEY, "secretKey": S3_SECRET}],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    }
                ]
            }
        )
    )
    ports = {
        name: free_port()
        for name in ("master", "master_grpc", "volume", "volume_grpc", "filer",
                     "filer_grpc", "s3", "s3_grpc")
    }  # fmt: skip
    (tmp / "data").mkdir(exist_ok=True)
    with open(tmp / "weed.log", "wb") as log:
        proc = subprocess.Popen(
            [
                str(VENV_BIN / "weed"), "server",
                "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={tmp / 'data'}",
                f"-master.port={ports['master']}",
                f"-master.port.grpc={ports['master_grpc']}",
                f"-volume.port={ports['volume']}",
                f"-volume.port.grpc={ports['volume_grpc']}",
                "-filer", f"-filer.port={ports['filer']}",
                f"-filer.port.grpc={ports['filer_grpc']}",
                "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={ports['s3_grpc']}",
                "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={config}",
                "-volume.max=0", "-master.volumeSizeLimitMB=64",
                "-master.telemetry=false",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=tmp,
        )  # fmt: skip
    try:
        endpoint = f"http://127.0.0.1:{ports['s3']}"
        wait_for_port(ports["s3"], proc, "SeaweedFS", timeout=60)
        client = s3_client(endpoint)
        deadline = time.monotonic() + 60
        while True:  # the gateway listens before the filer is ready behind it
            try:
                client.list_buckets()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield endpoint, client
    finally:
        stop(proc, grace=2)  # its data is thrown away: no need for a clean stop


def s3_client(endpoint, service="s3"):
    import boto3

    return boto3.session.Session(
        aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET
    ).client(service, endpoint_url=endpoint, region_name="us-east-1")
