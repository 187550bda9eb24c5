"""s3:// target against a real SeaweedFS, CDN invalidation against moto."""

import itertools

import pytest

from hearth.targets import MARKER, Interrupted, TargetError, open_target, ops
from hearth.targets.s3 import DELETE_BATCH
from tests.targets.conftest import StopAfter, free_port, s3_client
from tests.targets.cycle import (
    MESSAGE,
    assert_locked,
    assert_published,
    assert_withdrawn,
    build_files,
    lock,
    marker_state,
)

pytestmark = pytest.mark.server
_buckets = itertools.count()


def withdraw(target, **kw):
    return ops.withdraw(
        [target], sitename="Hearth", site_url="http://127.0.0.1",
        message=MESSAGE, feeds=["feeds/all.atom.xml"], **kw,
    )  # fmt: skip


@pytest.fixture
def bucket(seaweed, s3_env):
    """bucket(versioned=False) -> (name, client): a fresh bucket."""

    def make(versioned=False):
        name = f"hearth-test-{next(_buckets)}-{free_port()}"
        client = s3_client(seaweed)
        client.create_bucket(Bucket=name)
        if versioned:
            client.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": "Enabled"}
            )
        return name, client

    return make


def bucket_reader(client, name, prefix):
    def read(rel):
        try:
            return client.get_object(Bucket=name, Key=f"{prefix}/{rel}")["Body"].read()
        except client.exceptions.NoSuchKey:
            return None

    return read


def test_publish_withdraw_publish_lock_publish_on_versioned_bucket(
    sample_publish, seaweed, bucket, site_recipients
):
    name, client = bucket(versioned=True)
    target = open_target(f"s3://{name}/blog?endpoint={seaweed}&region=us-east-1")
    read = bucket_reader(client, name, "blog")

    ops.publish(sample_publish, [target])
    assert_published(read, sample_publish)
    [status] = ops.status([target])
    assert (status.state, status.ok) == ("published", True), status.problems
    ops.publish(sample_publish, [target])  # a second version of the marker at most

    withdraw(target)
    assert_withdrawn(read, sample_publish)
    # The bucket keeps versions: the old pages must not survive as old versions.
    versions = client.list_object_versions(Bucket=name, Prefix="blog/")
    assert all(v["IsLatest"] for v in versions.get("Versions", []))
    assert not versions.get("DeleteMarkers")
    old_text = (sample_publish / "2026/the-kettle-list/index.html").read_bytes()
    for v in versions["Versions"]:
        body = client.get_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])
        assert body["Body"].read() != old_text
    [status] = ops.status([target])
    assert (status.state, status.ok) == ("withdrawn", True), status.problems

    ops.publish(sample_publish, [target])
    assert_published(read, sample_publish)
    assert marker_state(read) == "published"

    lock(sample_publish, target, site_recipients)
    assert_locked(read, sample_publish, site_recipients)
    # Locking purges old versions too: the plain pages are not kept behind.
    versions = client.list_object_versions(Bucket=name, Prefix="blog/")
    assert all(v["IsLatest"] for v in versions.get("Versions", []))
    [status] = ops.status([target])
    assert (status.state, status.ok) == ("locked", True), status.problems

    ops.publish(sample_publish, [target])
    assert_published(read, sample_publish)


def test_every_object_has_its_content_type_and_cache_control(
    sample_publish, seaweed, bucket
):
    name, client = bucket()
    target = open_target(f"s3://{name}/site?endpoint={seaweed}")
    ops.publish(sample_publish, [target])
    expected = {
        "index.html": ("text/html; charset=utf-8", "no-cache"),
        "feeds/all.atom.xml": ("application/atom+xml; charset=utf-8", "no-cache"),
        "theme/css/hearth.css": ("text/css; charset=utf-8", "no-cache"),
        "theme/js/contact.js": ("text/javascript; charset=utf-8", "no-cache"),
        "images/bramble.jpg": ("image/jpeg", "no-cache"),
        MARKER: ("application/json", "no-cache"),
    }
    for rel, (ctype, cache) in expected.items():
        head = client.head_object(Bucket=name, Key=f"site/{rel}")
        assert (head["ContentType"], head["CacheControl"]) == (ctype, cache), rel
    withdraw(target)
    head = client.head_object(Bucket=name, Key="site/2026/the-kettle-list/index.html")
    assert (head["ContentType"], head["CacheControl"]) == (
        "text/html; charset=utf-8",
        "no-cache",
    )


def test_fingerprinted_assets_get_long_lived_cache(seaweed, bucket, tmp_path):
    site = tmp_path / "site"
    (site / "theme").mkdir(parents=True)
    (site / "index.html").write_text("<p>home</p>")
    (site / "theme" / "app.0123abcd.css").write_text("body{}")
    name, client = bucket()
    ops.publish(site, [open_target(f"s3://{name}?endpoint={seaweed}")])
    head = client.head_object(Bucket=name, Key="theme/app.0123abcd.css")
    assert head["CacheControl"] == "public, max-age=31536000, immutable"


def test_stale_objects_are_deleted_in_batches_the_api_accepts(
    seaweed, bucket, tmp_path
):
    # SeaweedFS, like S3, refuses a DeleteObjects request of more than 1,000
    # keys: withdrawing a site of 1,000 + 5 stale files proves the batching.
    site = tmp_path / "big"
    site.mkdir()
    (site / "index.html").write_text("<p>home</p>")
    for i in range(DELETE_BATCH + 5):
        (site / f"note{i}.txt").write_text(f"note {i}")
    name, client = bucket()
    target = open_target(f"s3://{name}/b?endpoint={seaweed}")
    ops.publish(site, [target])
    [outcome] = withdraw(target)
    assert len(outcome.plan.delete) == DELETE_BATCH + 5
    keys = {
        o["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name)
        for o in page.get("Contents", [])
    }
    assert not any(k.endswith("note.txt") for k in keys)


def test_cdn_is_invalidated_on_every_publish_withdraw_and_lock(
    sample_publish, seaweed, bucket, moto_cloudfront, site_recipients
):
    cdn_endpoint, distribution = moto_cloudfront
    cloudfront = s3_client(cdn_endpoint, "cloudfront")

    def invalidations():
        listing = cloudfront.list_invalidations(DistributionId=distribution)
        return listing["InvalidationList"].get("Items", [])

    before = len(invalidations())
    name, _client = bucket()
    target = open_target(
        f"s3://{name}/blog?endpoint={seaweed}&cdn={distribution}"
        f"&cdn_endpoint={cdn_endpoint}"
    )
    ops.publish(sample_publish, [target])
    withdraw(target)
    withdraw(target)  # nothing changed, yet a re-run still invalidates
    lock(sample_publish, target, site_recipients)
    items = invalidations()
    assert len(items) == before + 4
    detail = cloudfront.get_invalidation(
        DistributionId=distribution, Id=items[-1]["Id"]
    )
    assert detail["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["/*"]


def test_interrupted_withdraw_then_rerun_converges(sample_publish, seaweed, bucket):
    name, client = bucket(versioned=True)
    target = open_target(f"s3://{name}/blog?endpoint={seaweed}")
    read = bucket_reader(client, name, "blog")
    ops.publish(sample_publish, [target])
    with pytest.raises(Interrupted):
        withdraw(target, reporter=StopAfter(4))
    # Part-way: the marker still says published, and status says it does not
    # match what the bucket holds.
    assert marker_state(read) == "published"
    [status] = ops.status([target])
    assert not status.ok
    # The withdraw's lock stayed behind: status names the command half done.
    assert "a withdraw" in status.problems[0]
    assert "stopped before it finished" in status.problems[0]
    assert any("interrupted" in p for p in status.problems)
    withdraw(target)
    assert_withdrawn(read, sample_publish)
    [status] = ops.status([target])
    assert (status.state, status.ok) == ("withdrawn", True), status.problems


def test_bad_credentials_fail_clearly_and_change_nothing(
    sample_publish, seaweed, bucket, monkeypatch
):
    name, client = bucket()
    target = open_target(f"s3://{name}/blog?endpoint={seaweed}")
    ops.publish(sample_publish, [target])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(TargetError, match=r"refused the credentials.*AWS_SECRET"):
        withdraw(open_target(f"s3://{name}/blog?endpoint={seaweed}"))
    assert_published(bucket_reader(client, name, "blog"), sample_publish)


def test_unreachable_endpoint_fails_clearly(sample_publish, s3_env):
    target = open_target(f"s3://nowhere/blog?endpoint=http://127.0.0.1:{free_port()}")
    with pytest.raises(TargetError, match=r"Cannot reach .*endpoint"):
        ops.publish(sample_publish, [target])


def test_dry_run_uploads_nothing(sample_publish, seaweed, bucket):
    name, client = bucket()
    target = open_target(f"s3://{name}/blog?endpoint={seaweed}")
    [outcome] = ops.publish(sample_publish, [target], dry_run=True)
    assert len(outcome.plan.upload) == len(build_files(sample_publish)) + 1
    assert client.list_objects_v2(Bucket=name).get("KeyCount", 0) == 0
