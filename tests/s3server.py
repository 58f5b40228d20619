"""A real S3 endpoint for tests: moto's server on a free loopback port, once per session.

Import the fixtures into a test module (or conftest) to use them:

    from s3server import moto_endpoint, s3_storage  # noqa: F401

`s3_storage` gives each test its own fresh bucket, so tests never see each other's objects.
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from satchel.storage.s3 import S3Storage

ACCESS_KEY = "testing"
SECRET = "testing"
REGION = "us-east-1"
_bucket_numbers = itertools.count()


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Start moto's S3 server for the whole session; yields its http:// endpoint."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def make_bucket(endpoint: str) -> str:
    """Create a new, empty bucket on `endpoint` and return its name."""
    name = f"satchel-test-{next(_bucket_numbers)}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
    )
    client.create_bucket(Bucket=name)
    return name


def s3_settings(endpoint: str) -> dict[str, object]:
    """An `s3` settings block (for files or backups) on a new bucket of `endpoint`."""
    return {"enabled": True, "bucket": make_bucket(endpoint), "region": REGION, "endpoint": endpoint,
            "accessKey": ACCESS_KEY, "secret": SECRET, "forcePathStyle": True}


def make_s3_storage(endpoint: str, bucket: str) -> S3Storage:
    return S3Storage(bucket, REGION, endpoint, ACCESS_KEY, SECRET, force_path_style=True)


@pytest.fixture
def s3_storage(moto_endpoint: str) -> S3Storage:
    """An S3Storage on a fresh bucket of the session's moto server."""
    return make_s3_storage(moto_endpoint, make_bucket(moto_endpoint))
