"""s3://bucket/prefix: S3-compatible object storage through boto3, optional CDN.

    s3://bucket/prefix?endpoint=https://...&region=...&profile=...
                      &cdn=DISTRIBUTION_ID&cdn_endpoint=...&url=https://...

Credentials come from boto3's usual places (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, AWS_PROFILE or `profile=`), never from the URL.
A deploy uploads new and changed objects (compared by MD5 with the ETag),
then deletes stale ones in batches of at most 1,000 keys. Every object gets
its Content-Type and Cache-Control. A withdraw or a lock also deletes every
old version on a versioned bucket, and with `cdn=` every deploy asks the CDN
(CloudFront API) to invalidate everything, so no cache outlives a withdraw.
"""

import base64
import hashlib
import importlib.util
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from itertools import groupby
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from hearth.release import MARKER, content_type, is_page
from hearth.targets import base
from hearth.targets.base import (
    Target,
    TargetError,
    cache_control,
    net_timeout,
    query_options,
)

logger = logging.getLogger(__name__)

DELETE_BATCH = 1000  # the S3 API's limit per DeleteObjects request
UPLOAD_WORKERS = 8
# Lease records (hearth.targets.lease) live beside the marker; not site files.
LEASE_KEYS = {kind: f".hearth/{kind}.json" for kind in ("lock", "preempt")}
OPTIONS = {"endpoint", "region", "profile", "cdn", "cdn_endpoint", "url"}
T = TypeVar("T")


def _groups(paths: Iterable[str]) -> list[list[str]]:
    """Split upload_order's sequence into assets, pages, then home pages."""

    def group(path: str) -> int:
        if path in ("index.html", "404.html"):
            return 2
        return 1 if is_page(path) else 0

    return [list(g) for _, g in groupby(paths, key=group)]


def _all_pages(pages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every page of a paginated listing, fetched inside _call for its messages."""
    return list(pages)


class S3Target(Target):
    scheme = "s3"
    atomic = False

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.options = query_options(parts.query, OPTIONS, url)
        super().__init__(url, self.options.get("url"))
        if not parts.netloc:
            raise TargetError(
                f"Target {url!r} names no bucket: write it as "
                "s3://bucket/prefix?endpoint=https://... (prefix optional)."
            )
        if importlib.util.find_spec("boto3") is None:
            # boto3 is the `s3` extra: a runtime installed without it.
            raise TargetError(
                f"Target {url!r} needs boto3, which is not installed: run "
                "`pip install -r requirements.txt` (it pins it) or "
                "`pip install 'hearth[s3]'`."
            )
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self._s3: Any = None  # a boto3 S3 client, made on first use

    @property
    def display(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        endpoint = self.options.get("endpoint")
        return f"{where} at {endpoint}" if endpoint else where

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def _session(self) -> Any:
        import boto3

        return boto3.session.Session(profile_name=self.options.get("profile") or None)

    def _config(self) -> Any:
        from botocore.config import Config

        # Fail fast on an unreachable or stalled host instead of retrying
        # for minutes: a connect timeout, an idle (read) timeout, one retry.
        timeout = net_timeout()
        return Config(
            connect_timeout=timeout,
            read_timeout=3 * timeout,
            retries={"max_attempts": 2, "mode": "standard"},
        )

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = self._session().client(
                "s3",
                endpoint_url=self.options.get("endpoint") or None,
                region_name=self.options.get("region") or None,
                config=self._config(),
            )
        return self._s3

    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call boto3, turning its failures into messages a writer can act on."""
        from botocore import exceptions as bx

        try:
            return fn(*args, **kwargs)
        except bx.NoCredentialsError as e:
            raise TargetError(
                f"No S3 credentials for {self.display}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)."
            ) from e
        except (bx.ReadTimeoutError, bx.ConnectTimeoutError) as e:
            raise TargetError(
                f"{self.display} stopped answering while trying to {what} ({e}). "
                "Check the endpoint and your connection, then re-run."
            ) from e
        except (bx.EndpointConnectionError, bx.ConnectionError) as e:
            raise TargetError(
                f"Cannot reach {self.display} while trying to {what} ({e}). Check "
                "the endpoint option and your connection, then re-run."
            ) from e
        except bx.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code in (
                "InvalidAccessKeyId",
                "SignatureDoesNotMatch",
                "AccessDenied",
                "InvalidToken",
                "ExpiredToken",
                "403",
            ):
                raise TargetError(
                    f"{self.display} refused the credentials while trying to {what} "
                    f"({code}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or "
                    "the profile, and that they may write to this bucket."
                ) from e
            if code in ("NoSuchBucket", "404"):
                raise TargetError(
                    f"Bucket {self.bucket!r} does not exist at {self.display}: "
                    "create it, or fix the target URL."
                ) from e
            raise TargetError(f"{self.display}: could not {what} ({code}: {e}).") from e
        except bx.BotoCoreError as e:
            raise TargetError(f"{self.display}: could not {what} ({e}).") from e

    def manifest(self) -> dict[str, str]:
        # An ETag is the MD5 of the bytes for a single-part upload (all of
        # Hearth's); a multipart ETag ("...-3") never matches, so re-uploads.
        base = f"{self.prefix}/" if self.prefix else ""
        found: dict[str, str] = {}
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base
        )
        for page in self._call("list the bucket", _all_pages, pages):
            for obj in page.get("Contents", []):
                path = obj["Key"][len(base) :]
                if path in LEASE_KEYS.values():
                    continue
                if path and not path.endswith("/"):
                    found[path] = obj["ETag"].strip('"')
        return found

    def read_file(self, path: str) -> bytes | None:
        from botocore.exceptions import ClientError

        def get() -> bytes | None:
            try:
                obj = self.s3.get_object(Bucket=self.bucket, Key=self._key(path))
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
            body: bytes = obj["Body"].read()
            return body

        return self._call("read " + path, get)

    # --- lease records: objects under .hearth/, kept out of the manifest

    def lease_read(self, kind: str) -> bytes | None:
        return self.read_file(LEASE_KEYS[kind])

    def lease_create(self, kind: str, data: bytes) -> bool:
        from botocore.exceptions import ClientError

        key = self._key(LEASE_KEYS[kind])
        # A missing bucket must say so (some stores would create it on write).
        self._call("find the bucket", self.s3.head_bucket, Bucket=self.bucket)

        def create() -> bool:
            try:
                self.s3.put_object(
                    Bucket=self.bucket, Key=key, Body=data, IfNoneMatch="*",
                    ContentType="application/json", CacheControl="no-store",
                )  # fmt: skip
                return True
            except ClientError as e:
                code = e.response.get("Error", {}).get("Code", "")
                if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                    return False
                if code not in ("NotImplemented", "501"):
                    raise
            # A store without conditional writes: create if absent, and the
            # caller reads it back to see whose record won.
            if self.read_file(LEASE_KEYS[kind]) is not None:
                return False
            self.lease_write(kind, data)
            return True

        return self._call("take the target's lock", create)

    def lease_write(self, kind: str, data: bytes) -> None:
        self._call(
            "write the target's lock",
            self.s3.put_object,
            Bucket=self.bucket, Key=self._key(LEASE_KEYS[kind]), Body=data,
            ContentType="application/json", CacheControl="no-store",
        )  # fmt: skip

    def lease_remove(self, kind: str, data: bytes, token: str) -> None:
        current = self.lease_read(kind)
        if current is None or (current != data and token.encode() not in current):
            return
        key = self._key(LEASE_KEYS[kind])
        # Every version of the record, so a versioned bucket keeps no
        # history of who held it (and `status` counts no old versions).
        pages = self.s3.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=key
        )
        versions = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for page in self._call("release the target's lock", _all_pages, pages)
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            if v["Key"] == key
        ]
        if versions:
            self._delete(versions)
        else:
            self._call(
                "release the target's lock",
                self.s3.delete_object,
                Bucket=self.bucket, Key=key,
            )  # fmt: skip

    def leftovers(self, state: str) -> list[str]:
        if state == "published":
            return []
        count = self.old_versions()
        if not count:
            return []
        return [
            (
                f"OLD OBJECT VERSIONS STILL IN THE BUCKET: {self.display} keeps "
                f"{count} old version(s) or delete marker(s) under its prefix: "
                "anyone allowed to list versions can read the older site. Re-run "
                f"`invoke {'withdraw' if state == 'withdrawn' else 'lock'}` to "
                "delete them."
            )
        ]

    def deploy(self, tree: base.Tree, plan: base.Plan, *, state: str,
               progress: base.Progress,
               check: base.Check = lambda: None) -> None:  # fmt: skip
        folder = Path(tree)
        marker_changed = MARKER in plan.upload
        uploads = [rel for rel in plan.upload if rel != MARKER]
        # Assets, then pages, then the home page (upload_order): each group
        # is sent in parallel and finished before the next starts. For a
        # withdraw or a lock every page is replaced before anything is
        # deleted; a command stopped part-way leaves its lock, which
        # `status` reports as a command half done.
        for group in _groups(uploads):
            check()
            self._put_all(folder, group, progress)
        check()
        self._delete([self._key(rel) for rel in plan.delete], progress)
        # The marker last: it says the deploy finished.
        if marker_changed:
            self._put(folder, MARKER)
            progress(MARKER)
        if state in ("withdrawn", "locked"):
            self._purge_old_versions()
        self._invalidate()

    def _put_all(
        self, tree: Path, paths: Iterable[str], progress: base.Progress
    ) -> None:
        pool = ThreadPoolExecutor(max_workers=UPLOAD_WORKERS)
        try:
            futures = {pool.submit(self._put, tree, rel): rel for rel in paths}
            for future in as_completed(futures):
                future.result()
                progress(futures[future])
        finally:
            # Stopped part-way (an error, Ctrl-C): send nothing more.
            pool.shutdown(wait=True, cancel_futures=True)

    def _put(self, tree: Path, rel: str) -> None:
        body = (tree / rel).read_bytes()
        md5 = hashlib.md5(body, usedforsecurity=False).digest()
        self._call(
            "upload " + rel,
            self.s3.put_object,
            Bucket=self.bucket,
            Key=self._key(rel),
            Body=body,
            ContentType=content_type(rel),
            CacheControl=cache_control(rel),
            ContentMD5=base64.b64encode(md5).decode(),
        )

    def _delete(
        self,
        objects: Sequence[str | dict[str, str]],
        progress: base.Progress | None = None,
    ) -> None:
        """Delete keys (or {Key, VersionId} dicts) in batches the API accepts."""
        base = f"{self.prefix}/" if self.prefix else ""
        for start in range(0, len(objects), DELETE_BATCH):
            batch = objects[start : start + DELETE_BATCH]
            items = [o if isinstance(o, dict) else {"Key": o} for o in batch]
            result = self._call(
                "delete stale files",
                self.s3.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": items, "Quiet": True},
            )
            errors = result.get("Errors", [])
            if errors:
                first = errors[0]
                raise TargetError(
                    f"{self.display}: could not delete {first.get('Key')} "
                    f"({first.get('Code')}: {first.get('Message')}); re-run to finish."
                )
            if progress:
                for item in items:
                    progress(item["Key"][len(base) :])

    def _noncurrent(self) -> list[dict[str, str]]:
        """Every old version and delete marker under the prefix: [{Key, VersionId}]."""
        base = f"{self.prefix}/" if self.prefix else ""
        pages = self.s3.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=base
        )
        old: list[dict[str, str]] = []
        for page in self._call("list old versions", _all_pages, pages):
            for v in page.get("Versions", []):
                if not v["IsLatest"]:
                    old.append({"Key": v["Key"], "VersionId": v["VersionId"]})
            # Delete markers hide a key's history; with the history gone they
            # are clutter that `list_object_versions` would keep reporting.
            for m in page.get("DeleteMarkers", []):
                old.append({"Key": m["Key"], "VersionId": m["VersionId"]})
        return old

    def _purge_old_versions(self) -> None:
        """On a versioned bucket, old versions still hold the old site: delete them."""
        old = self._noncurrent()
        if old:
            logger.info("Deleting %d old object versions at %s", len(old), self.display)
            self._delete(old)

    def old_versions(self) -> int:
        """How many old versions and delete markers the prefix holds, lease aside."""
        lease = {self._key(k) for k in LEASE_KEYS.values()}
        return sum(1 for item in self._noncurrent() if item["Key"] not in lease)

    def _invalidate(self) -> None:
        distribution = self.options.get("cdn")
        if not distribution:
            return
        cloudfront = self._session().client(
            "cloudfront",
            endpoint_url=self.options.get("cdn_endpoint") or None,
            region_name="us-east-1",
            config=self._config(),
        )
        self._call(
            f"invalidate CDN distribution {distribution}",
            cloudfront.create_invalidation,
            DistributionId=distribution,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/*"]},
                "CallerReference": f"hearth-{int(time.time())}-{uuid.uuid4().hex[:8]}",
            },
        )
        logger.info("Asked CDN distribution %s to invalidate /*", distribution)
