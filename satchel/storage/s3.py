"""S3 backend on boto3, laid out and tagged like PocketBase's own S3 driver.

Keys sit in the bucket root (`{collectionId}/{recordId}/{filename}`), the stored type is
the object's Content-Type and the original filename is `x-amz-meta-original-filename`,
URL-escaped the way Go's `url.PathEscape` does it. boto3 blocks, so every call runs in a
worker thread through `_run`, the one place that also turns boto errors into StorageError and
logs them. Those threads are S3's own (a limiter apart from the one database reads use), so a
slow or frozen S3 holds up downloads, never requests that don't touch it.
"""

from __future__ import annotations

import logging
import secrets
import string
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import anyio.to_thread
import boto3
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .base import ObjectInfo, Opened, Storage, StorageError, StorageInitError, StoredObject

log = logging.getLogger(__name__)

CHUNK_SIZE = 256 * 1024
S3_THREADS = 64  # S3 calls in flight per process; apart from the database's threads
READ_TIMEOUT = 20  # seconds without a byte from S3 before a call fails (then retried)
_DELETE_BATCH = 1000  # the most keys one DeleteObjects call accepts
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
_PATH_ESCAPE_SAFE = "$&+:=@"  # what Go's url.PathEscape leaves alone besides [A-Za-z0-9-._~]
_TEST_ALPHABET = string.ascii_letters + string.digits

T = TypeVar("T")


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code"))


def _is_not_found(exc: ClientError) -> bool:
    return _error_code(exc) in _NOT_FOUND


class S3Storage(Storage):
    """One bucket on any S3-compatible service; the boto3 client is made on first use."""

    def __init__(
        self,
        bucket: str,
        region: str,
        endpoint: str,
        access_key: str,
        secret: str,
        force_path_style: bool = False,
    ) -> None:
        # Same three checks as PocketBase's s3blob.New; no I/O happens here.
        for name, value in (("bucket", bucket), ("endpoint", endpoint), ("region", region)):
            if not value:
                raise StorageInitError(f"s3: missing {name}")
        self.bucket = bucket
        self.region = region
        self.endpoint_url = endpoint if "://" in endpoint else f"https://{endpoint}"
        self._access_key = access_key
        self._secret = secret
        self._force_path_style = force_path_style
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._threads = anyio.CapacityLimiter(S3_THREADS)

    def _s3(self) -> Any:
        """The boto3 client, made once: creating one is slow, using one is thread-safe."""
        with self._client_lock:
            if self._client is None:
                config = Config(
                    signature_version="s3v4",
                    s3={"addressing_style": "path" if self._force_path_style else "virtual"},
                    # Checksums only when S3 insists: many S3-compatible services reject them.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    connect_timeout=10,
                    read_timeout=READ_TIMEOUT,
                    max_pool_connections=S3_THREADS,
                    retries={"mode": "standard", "max_attempts": 3},
                )
                self._client = boto3.session.Session().client(
                    "s3",
                    endpoint_url=self.endpoint_url,
                    region_name=self.region,
                    aws_access_key_id=self._access_key,
                    aws_secret_access_key=self._secret,
                    config=config,
                )
            return self._client

    async def _run(self, what: str, key: str, call: Callable[..., T], *args: Any) -> T:
        """Run a blocking boto3 call in one of S3's threads; boto failures are logged and become StorageError."""
        try:
            return await anyio.to_thread.run_sync(call, *args, limiter=self._threads)
        except (BotoCoreError, ClientError, Boto3Error) as exc:  # Boto3Error: upload_file's own
            log.warning("s3 %s %s/%s failed: %s", what, self.bucket, key, exc)
            raise StorageError(f"s3: {exc}") from exc

    def _unless_missing(self, operation: str, key: str) -> Callable[[], dict[str, Any] | None]:
        """The client's `operation` (head_object, get_object) on `key`; a missing object is None, not an error."""

        def run() -> dict[str, Any] | None:
            try:
                result: dict[str, Any] = getattr(self._s3(), operation)(Bucket=self.bucket, Key=key)
                return result
            except ClientError as exc:
                if _is_not_found(exc):
                    return None
                raise

        return run

    @staticmethod
    def _info(result: dict[str, Any]) -> ObjectInfo:
        """The object's info from a HEAD or a whole-object GET (their headers are the same)."""
        return ObjectInfo(
            size=result["ContentLength"],
            modified=result["LastModified"].timestamp(),
            content_type=result.get("ContentType") or "application/octet-stream",
            metadata={k: unquote(v) for k, v in result.get("Metadata", {}).items()},
        )

    async def stat(self, key: str) -> ObjectInfo | None:
        result = await self._run("HEAD", key, self._unless_missing("head_object", key))
        return None if result is None else self._info(result)

    async def open(self, key: str) -> Opened | None:
        """One GET for a whole download: PocketBase makes one too (no HEAD first)."""
        result = await self._run("GET", key, self._unless_missing("get_object", key))
        return None if result is None else Opened(self._info(result), self._chunks(key, result["Body"]))

    async def _chunks(self, key: str, body: Any) -> AsyncIterator[bytes]:
        try:
            while chunk := await self._run("GET", key, body.read, CHUNK_SIZE):
                yield chunk
        finally:
            body.close()

    @staticmethod
    def _extra_args(content_type: str, metadata: dict[str, str] | None) -> dict[str, Any]:
        escaped = {k: quote(v, safe=_PATH_ESCAPE_SAFE) for k, v in (metadata or {}).items()}
        return {"ContentType": content_type, "Metadata": escaped}

    async def put_file(
        self, key: str, path: str, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        # upload_file switches to a multipart upload for big files on its own.
        extra = self._extra_args(content_type, metadata)
        await self._run("PUT", key, lambda: self._s3().upload_file(path, self.bucket, key, ExtraArgs=extra))

    async def put_bytes(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        extra = self._extra_args(content_type, metadata)
        await self._run("PUT", key, lambda: self._s3().put_object(Bucket=self.bucket, Key=key, Body=data, **extra))

    async def iter_range(self, key: str, start: int, length: int) -> AsyncIterator[bytes]:
        if length <= 0:
            return
        byte_range = f"bytes={start}-{start + length - 1}"
        response = await self._run("GET", key, lambda: self._s3().get_object(Bucket=self.bucket, Key=key, Range=byte_range))
        async for chunk in self._chunks(key, response["Body"]):
            yield chunk

    async def download_to(self, key: str, path: str) -> None:
        await self._run("GET", key, lambda: self._s3().download_file(self.bucket, key, path))

    async def delete(self, key: str) -> None:
        await self._run("DELETE", key, lambda: self._s3().delete_object(Bucket=self.bucket, Key=key))

    async def delete_prefix(self, prefix: str) -> None:
        if not prefix.endswith("/"):
            raise ValueError(f"prefix must end with '/': {prefix!r}")
        await self._run("DELETE", prefix, self._delete_prefix_sync, prefix)

    def _delete_prefix_sync(self, prefix: str) -> None:
        """List every key under `prefix` and delete them in batches of 1000."""
        client = self._s3()
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        keys = [obj["Key"] for page in pages for obj in page.get("Contents", [])]
        for i in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": k} for k in keys[i : i + _DELETE_BATCH]]
            result = client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )
            if errors := result.get("Errors"):
                first = errors[0]
                raise StorageError(f"s3: cannot delete {first.get('Key')}: {first.get('Message')}")

    async def list_objects(self) -> AsyncIterator[StoredObject]:
        pages = await self._run("LIST", "", lambda: iter(self._s3().get_paginator("list_objects_v2").paginate(Bucket=self.bucket)))
        while page := await self._run("LIST", "", next, pages, None):
            for obj in page.get("Contents", []):
                yield StoredObject(obj["Key"], obj["Size"], obj["LastModified"].timestamp())

    async def remove_partials(self, before: float) -> list[StoredObject]:
        """Abort the multipart uploads started before `before`: their parts are stored (and
        billed) but invisible in listings until completed or aborted."""
        return await self._run("ABORT UPLOADS", "", self._abort_uploads, before)

    def _abort_uploads(self, before: float) -> list[StoredObject]:
        client = self._s3()
        removed = []
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket):
            for upload in page.get("Uploads", []):
                started = upload["Initiated"].timestamp()
                if started >= before:
                    continue
                ids = {"Bucket": self.bucket, "Key": upload["Key"], "UploadId": upload["UploadId"]}
                try:
                    parts = client.get_paginator("list_parts").paginate(**ids)
                    size = sum(part["Size"] for page in parts for part in page.get("Parts", []))
                    client.abort_multipart_upload(**ids)
                except ClientError as exc:
                    if _error_code(exc) == "NoSuchUpload":  # completed or aborted meanwhile
                        continue
                    raise
                removed.append(StoredObject(upload["Key"], size, started))
        return removed

    async def test_connection(self) -> None:
        """Upload, then delete, a test object like `POST /api/settings/test/s3` does."""
        prefix = "pb_settings_test_" + "".join(secrets.choice(_TEST_ALPHABET) for _ in range(5))
        try:
            await self.put_bytes(prefix + "/test.txt", b"test", "text/plain; charset=utf-8")
        except StorageError as exc:
            raise StorageError(f"failed to upload a test file: {exc}") from exc
        try:
            await self.delete_prefix(prefix + "/")
        except StorageError as exc:
            raise StorageError(f"failed to delete a test file: {exc}") from exc
