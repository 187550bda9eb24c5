"""Real servers for the publish targets, on 127.0.0.1 only.

nginx serves a file:// target, a throwaway sshd (its own host key, key-only
auth) takes rsync, SeaweedFS speaks S3 (versioning, the 1,000-key delete
limit), moto's standalone server stands in for CloudFront's invalidation
API only, and a bare repository is the git remote.
"""

import contextlib
import subprocess

import pytest

from hearth.targets import Interrupted
from hearth.targets.ops import Reporter
from tests.conftest import TEST_PASSPHRASES
from tests.support.servers import (  # noqa: F401 (used by the publish tests)
    S3_KEY,
    S3_SECRET,
    VENV_BIN,
    free_port,
    get,
    run_nginx,
    run_seaweed,
    run_sshd,
    s3_client,
    stop,
    wait_for_port,
)


class StopAfter(Reporter):
    """A reporter that interrupts a deploy after `count` files have moved."""

    def __init__(self, count):
        self.count = count
        self.moved = []

    def progress(self, target, total):
        import contextlib

        def advance(path):
            self.moved.append(path)
            if len(self.moved) >= self.count:
                raise Interrupted(f"stopped after {self.count} files")

        return contextlib.nullcontext(advance)

    def warn(self, message):
        pass


@pytest.fixture(scope="session")
def site_recipients():
    """The `site` audience's envelope recipient, its key derived once."""
    from hearth import envelope

    salt = envelope.new_salt()
    iterations = envelope.ITERATION_FLOOR
    key = envelope.derive_key(TEST_PASSPHRASES["site"], salt, iterations)
    return [envelope.Recipient("site", salt, iterations, key)]


@pytest.fixture
def nginx(tmp_path):
    """nginx(docroot) -> base URL: a real nginx serving that path."""
    with contextlib.ExitStack() as stack:
        count = iter(range(1000))

        def start(root):
            return stack.enter_context(
                run_nginx(tmp_path / f"nginx{next(count)}", root)
            )

        yield start


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """A throwaway sshd on 127.0.0.1: {'port', 'user', 'key', 'options'}."""
    with run_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """A real SeaweedFS S3 gateway on 127.0.0.1: its endpoint URL."""
    with run_seaweed(tmp_path_factory.mktemp("seaweed")) as (endpoint, _client):
        yield endpoint


@pytest.fixture
def s3_env(monkeypatch):
    """The S3 test credentials, as boto3 reads them from the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="session")
def moto_cloudfront(tmp_path_factory):
    """moto's standalone server (CloudFront API): (endpoint, distribution id)."""
    port = free_port()
    proc = subprocess.Popen(
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc, "moto_server")
    endpoint = f"http://127.0.0.1:{port}"
    cloudfront = s3_client(endpoint, "cloudfront")
    origin = {
        "Id": "site",
        "DomainName": "site.s3.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "hearth-tests",
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "allow-all",
            },
            "Comment": "",
            "Enabled": True,
        }
    )["Distribution"]["Id"]
    yield endpoint, distribution
    stop(proc)
