"""The file store: a local directory by default, any S3-compatible store when ``STORAGE_URL`` says.

Keys are opaque relative paths (``faces/2026/11/<uuid>.jpg``). Callers check who may read a file;
the store only keeps bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from config.settings import Settings


class FileStore(Protocol):
    """What every file store offers."""

    async def put(self, data: bytes, *, prefix: str, suffix: str, content_type: str) -> str: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    async def ping(self) -> bool: ...


def new_key(prefix: str, suffix: str) -> str:
    """A fresh, unguessable key under ``prefix/YYYY/MM/``."""
    now = datetime.now(UTC)
    return f"{prefix}/{now:%Y/%m}/{uuid.uuid4().hex}{suffix}"


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


class LocalFileStore:
    """Files under one local directory."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("bad file key")
        return path

    async def put(self, data: bytes, *, prefix: str, suffix: str, content_type: str) -> str:
        """Store bytes; return the new key."""
        key = new_key(prefix, suffix)
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)

        await asyncio.to_thread(write)
        return key

    async def get(self, key: str) -> bytes:
        """Read a file; FileNotFoundError when absent."""
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        """Remove a file (missing is fine)."""
        await asyncio.to_thread(self._path(key).unlink, True)

    async def ping(self) -> bool:
        """True when the directory is there and writable."""
        return self.root.is_dir() and os.access(self.root, os.W_OK)


S3_CONNECT_TIMEOUT = 3.0  # seconds
S3_READ_TIMEOUT = 20.0  # a photo or an attachment (≤ 20 MB) on a slow link


class FileStoreRefused(Exception):
    """The file store answered but cannot be used as configured (its message says why)."""


class S3FileStore:
    """Files in an S3-compatible bucket (MinIO, OSS, COS...), through boto3 off the event loop."""

    def __init__(self, settings: Settings, bucket: str, prefix: str) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")

        def client(config: Config) -> Any:
            return boto3.client(
                "s3",
                endpoint_url=settings.s3_endpoint_url or None,
                aws_access_key_id=settings.s3_access_key or None,
                aws_secret_access_key=settings.s3_secret_key or None,
                region_name=settings.s3_region,
                config=config,
            )

        # bounded: an unreachable store fails a request (a terminal retries its batch) within
        # seconds, instead of holding one of the few worker threads for botocore's minutes
        self.client = client(
            Config(
                connect_timeout=S3_CONNECT_TIMEOUT,
                read_timeout=S3_READ_TIMEOUT,
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=16,
            )
        )
        # the health probe: one try, within /healthz's own bound
        self.probe = client(Config(connect_timeout=2, read_timeout=2, retries={"max_attempts": 1}))

    def _full(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put(self, data: bytes, *, prefix: str, suffix: str, content_type: str) -> str:
        """Upload bytes; return the new key."""
        key = new_key(prefix, suffix)
        await asyncio.to_thread(
            self.client.put_object,
            Bucket=self.bucket,
            Key=self._full(key),
            Body=data,
            ContentType=content_type,
        )
        return key

    async def get(self, key: str) -> bytes:
        """Download an object; FileNotFoundError when absent."""

        def read() -> bytes:
            try:
                obj = self.client.get_object(Bucket=self.bucket, Key=self._full(key))
            except self.client.exceptions.NoSuchKey as exc:
                raise FileNotFoundError(key) from exc
            return obj["Body"].read()

        return await asyncio.to_thread(read)

    async def delete(self, key: str) -> None:
        """Delete an object."""
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self._full(key))

    async def ping(self) -> bool:
        """True when the bucket answers; False when the store cannot be reached. A store that
        answers but has no such bucket, or refuses these keys, raises FileStoreRefused saying
        so (an operator's fix differs: create the bucket, check the keys)."""
        from botocore.exceptions import ClientError

        try:
            await asyncio.to_thread(self.probe.head_bucket, Bucket=self.bucket)
            return True
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404:
                raise FileStoreRefused(f"bucket {self.bucket} does not exist") from exc
            if status in (401, 403):
                raise FileStoreRefused(
                    f"access to bucket {self.bucket} denied (S3_ACCESS_KEY, S3_SECRET_KEY)"
                ) from exc
            return False
        except Exception:  # noqa: BLE001 - any other failure means unreachable
            return False


def make_file_store(settings: Settings) -> FileStore:
    """The store ``STORAGE_URL`` names: ``file:///dir`` or ``s3://bucket/prefix``."""
    parsed = urlparse(settings.storage_url)
    if parsed.scheme == "file":
        return LocalFileStore(parsed.path)
    if parsed.scheme == "s3":
        return S3FileStore(settings, parsed.netloc, parsed.path)
    raise ValueError(f"STORAGE_URL scheme {parsed.scheme!r} is not supported (file:// or s3://)")
