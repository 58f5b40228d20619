"""One set of behaviour tests run on every backend, then what only local disk or S3 promise."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import s3server

from satchel.storage import local as local_module
from satchel.storage import s3 as s3_module
from satchel.storage.base import Storage, StorageError, StorageInitError
from satchel.storage.local import LocalStorage, encode_attrs
from satchel.storage.s3 import S3Storage

pytestmark = pytest.mark.anyio
moto_endpoint = s3server.moto_endpoint  # fixtures: moto's S3 server, and a fresh bucket on it
s3_storage = s3server.s3_storage

KEY = "pbc_1985629191/abcdefghijklmno/hello_t3krxvrel3.txt"
ORIGINAL = {"original-filename": "hello.txt"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def read_all(storage: Storage, key: str, start: int, length: int) -> list[bytes]:
    return [chunk async for chunk in storage.iter_range(key, start, length)]


# ---- every backend -------------------------------------------------------------------------


async def test_stat_of_a_missing_key_is_none(storage: Storage) -> None:
    assert await storage.stat(KEY) is None


async def test_put_bytes_then_stat_reports_size_type_and_metadata(storage: Storage) -> None:
    await storage.put_bytes(KEY, b"hello world\n", "text/plain; charset=utf-8", ORIGINAL)
    info = await storage.stat(KEY)
    assert info is not None
    assert (info.size, info.content_type, info.metadata) == (
        12,
        "text/plain; charset=utf-8",
        ORIGINAL,
    )
    assert info.modified > 1_600_000_000


async def test_metadata_survives_non_ascii_and_reserved_characters(storage: Storage) -> None:
    name = {"original-filename": 'héllo wörld "q" & =/%.txt'}
    await storage.put_bytes(KEY, b"x", "text/plain", name)
    info = await storage.stat(KEY)
    assert info is not None and info.metadata == name


async def test_put_file_stores_the_file_bytes(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "upload.bin"
    source.write_bytes(bytes(range(256)) * 10)
    await storage.put_file(KEY, str(source), "application/octet-stream", ORIGINAL)
    assert b"".join(await read_all(storage, KEY, 0, 2560)) == source.read_bytes()


async def test_put_replaces_an_existing_object(storage: Storage) -> None:
    await storage.put_bytes(KEY, b"old old old", "text/plain")
    await storage.put_bytes(KEY, b"new", "image/png")
    info = await storage.stat(KEY)
    assert info is not None and (info.size, info.content_type, info.metadata) == (
        3,
        "image/png",
        {},
    )
    assert await read_all(storage, KEY, 0, 3) == [b"new"]


async def test_iter_range_yields_only_the_requested_bytes(storage: Storage) -> None:
    await storage.put_bytes(KEY, b"hello world\n", "text/plain")
    assert b"".join(await read_all(storage, KEY, 6, 5)) == b"world"


async def test_iter_range_of_zero_length_yields_nothing(storage: Storage) -> None:
    await storage.put_bytes(KEY, b"hello", "text/plain")
    assert await read_all(storage, KEY, 5, 0) == []


async def test_iter_range_streams_a_big_object_in_several_chunks(storage: Storage) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    await storage.put_bytes(KEY, data, "application/octet-stream")
    chunks = await read_all(storage, KEY, 5, len(data) - 10)
    assert len(chunks) > 3
    assert max(map(len, chunks)) <= 1024 * 1024
    assert b"".join(chunks) == data[5:-5]


async def test_iter_range_of_a_missing_object_raises_storage_error(storage: Storage) -> None:
    with pytest.raises(StorageError):
        await read_all(storage, KEY, 0, 1)


async def test_download_to_copies_the_whole_object(storage: Storage, tmp_path: Path) -> None:
    data = os.urandom(100_000)
    await storage.put_bytes(KEY, data, "application/octet-stream")
    target = tmp_path / "copy.bin"
    await storage.download_to(KEY, str(target))
    assert target.read_bytes() == data


async def test_delete_removes_the_object_and_ignores_missing_ones(storage: Storage) -> None:
    await storage.put_bytes(KEY, b"x", "text/plain")
    await storage.delete(KEY)
    await storage.delete(KEY)
    assert await storage.stat(KEY) is None


async def test_delete_prefix_removes_everything_under_it_and_nothing_else(storage: Storage) -> None:
    doomed = ["c1/r1/a.png", "c1/r1/thumbs_a.png/100x100_a.png", "c1/r1/b.txt"]
    kept = ["c1/r2/a.png", "c1/r10/a.png", "c2/r1/a.png"]
    for key in doomed + kept:
        await storage.put_bytes(key, key.encode(), "text/plain")
    await storage.delete_prefix("c1/r1/")
    assert [await storage.stat(k) for k in doomed] == [None, None, None]
    assert all([await storage.stat(k) for k in kept])


async def test_delete_prefix_requires_a_trailing_slash(storage: Storage) -> None:
    with pytest.raises(ValueError):
        await storage.delete_prefix("c1/r1")


# ---- local disk ----------------------------------------------------------------------------


def test_local_attrs_sidecar_matches_pocketbase_bytes() -> None:
    # Captured from files uploaded to the PocketBase 0.40.6 binary.
    expected = (
        '{"user.cache_control":"","user.content_disposition":"","user.content_encoding":"",'
        '"user.content_language":"","user.content_type":"text/plain; charset=utf-8",'
        '"user.metadata":{"original-filename":"a<b>&c\\\\u2028.txt"},"md5":"Je0by0I7C3IA9IX8X/ccjg=="}'
    )
    md5 = hashlib.md5(b"zz").digest()
    attrs = encode_attrs(
        "text/plain; charset=utf-8", {"original-filename": "a<b>&c\\u2028.txt"}, md5
    )
    assert attrs == expected.encode()


def test_local_attrs_keep_utf8_raw_and_write_empty_metadata_as_an_object() -> None:
    attrs = encode_attrs("image/png", {"original-filename": "q\u2028w é😀"}, b"\0" * 16)
    assert '"original-filename":"q\u2028w é😀"'.encode() in attrs
    assert b'"user.metadata":{}' in encode_attrs("image/png", None, b"\0" * 16)


async def test_local_writes_the_pocketbase_layout(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path))
    await storage.put_bytes(KEY, b"hello world\n", "text/plain; charset=utf-8", ORIGINAL)
    assert (tmp_path / KEY).read_bytes() == b"hello world\n"
    attrs = json.loads((tmp_path / (KEY + ".attrs")).read_bytes())
    assert attrs["user.content_type"] == "text/plain; charset=utf-8"
    assert attrs["user.metadata"] == ORIGINAL
    assert attrs["md5"] == base64.b64encode(hashlib.md5(b"hello world\n").digest()).decode()
    assert sorted(p.name for p in (tmp_path / KEY).parent.iterdir()) == [
        "hello_t3krxvrel3.txt",
        "hello_t3krxvrel3.txt.attrs",
    ]


async def test_local_reads_a_file_written_by_pocketbase(tmp_path: Path) -> None:
    (tmp_path / "c" / "r").mkdir(parents=True)
    (tmp_path / "c/r/pic.png").write_bytes(b"\x89PNG....")
    (tmp_path / "c/r/pic.png.attrs").write_text(
        '{"user.cache_control":"","user.content_disposition":"","user.content_encoding":"",'
        '"user.content_language":"","user.content_type":"image/png",'
        '"user.metadata":{"original-filename":"pic.png"},"md5":"BIcJYftUb8OM51myvtxp1g=="}'
    )
    info = await LocalStorage(str(tmp_path)).stat("c/r/pic.png")
    assert info is not None
    assert (info.size, info.content_type, info.metadata) == (
        8,
        "image/png",
        {"original-filename": "pic.png"},
    )
    assert info.modified == os.stat(tmp_path / "c/r/pic.png").st_mtime


async def test_local_file_without_attrs_is_octet_stream(tmp_path: Path) -> None:
    (tmp_path / "c" / "r").mkdir(parents=True)
    (tmp_path / "c/r/bare.bin").write_bytes(b"abc")
    info = await LocalStorage(str(tmp_path)).stat("c/r/bare.bin")
    assert info is not None and (info.content_type, info.metadata) == (
        "application/octet-stream",
        {},
    )


async def test_local_folder_is_not_an_object(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path))
    await storage.put_bytes("c/r/thumbs_a.png/1x1_a.png", b"x", "image/png")
    assert await storage.stat("c/r/thumbs_a.png") is None


async def test_local_unreadable_attrs_is_a_storage_error(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path))
    await storage.put_bytes(KEY, b"x", "text/plain")
    (tmp_path / (KEY + ".attrs")).write_text("{not json")
    with pytest.raises(StorageError):
        await storage.stat(KEY)


def spy_on_rename(monkeypatch: pytest.MonkeyPatch, check: Callable[[str, str], None]) -> None:
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        check(src, dst)
        real_replace(src, dst)

    monkeypatch.setattr(local_module.os, "replace", replace)


async def test_local_write_shows_no_partial_object_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(str(tmp_path))
    final = str(tmp_path / KEY)
    seen: list[tuple[str, bool, bool]] = []

    def check(src: str, dst: str) -> None:
        if dst == final:  # the body's rename: the sidecar is already in place, the body not yet
            seen.append(
                (os.path.basename(src), os.path.exists(final), os.path.exists(final + ".attrs"))
            )

    spy_on_rename(monkeypatch, check)
    await storage.put_bytes(KEY, b"hello world\n", "text/plain")
    ((temp_name, body_visible, attrs_visible),) = seen
    prefix, hex_ns, suffix = temp_name.rsplit(".", 2)
    assert (prefix, suffix, body_visible, attrs_visible) == (
        "hello_t3krxvrel3.txt",
        "tmp",
        False,
        True,
    )
    assert int(hex_ns, 16) > 0


async def test_local_overwrite_keeps_the_old_bytes_until_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(str(tmp_path))
    await storage.put_bytes(KEY, b"old", "text/plain")
    seen: list[bytes] = []
    spy_on_rename(
        monkeypatch,
        lambda src, dst: seen.append(Path(dst).read_bytes()) if dst.endswith(".txt") else None,
    )
    await storage.put_bytes(KEY, b"new", "text/plain")
    assert seen == [b"old"]
    assert (tmp_path / KEY).read_bytes() == b"new"


async def test_local_failed_write_leaves_no_object_and_no_temp_file(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path / "storage"))
    not_a_file = tmp_path / "folder"
    not_a_file.mkdir()
    with pytest.raises(StorageError):
        await storage.put_file(KEY, str(not_a_file), "text/plain")
    assert os.listdir(tmp_path / "storage" / os.path.dirname(KEY)) == []


async def test_local_modes_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        await LocalStorage(str(tmp_path / "storage")).put_bytes("c/r/a.txt", b"x", "text/plain")
    finally:
        os.umask(old)
    mode = lambda p: os.stat(tmp_path / "storage" / p).st_mode & 0o777
    assert (mode("c"), mode("c/r"), mode("c/r/a.txt"), mode("c/r/a.txt.attrs")) == (
        0o750,
        0o750,
        0o640,
        0o640,
    )


async def test_local_delete_removes_the_sidecar_too(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path))
    await storage.put_bytes(KEY, b"x", "text/plain")
    await storage.delete(KEY)
    assert os.listdir((tmp_path / KEY).parent) == []


async def test_local_delete_prefix_removes_emptied_folders_but_keeps_the_parent(
    tmp_path: Path,
) -> None:
    storage = LocalStorage(str(tmp_path))
    await storage.put_bytes("c/r/a.png", b"x", "image/png")
    await storage.put_bytes("c/r/thumbs_a.png/1x1_a.png", b"x", "image/png")
    (tmp_path / "c/r/a.png.123.tmp").write_bytes(b"stranded temp file")
    await storage.delete_prefix("c/r/")
    assert os.listdir(tmp_path / "c") == []


def test_local_path_is_the_real_file(tmp_path: Path) -> None:
    assert LocalStorage(str(tmp_path)).local_path("c/r/a.png") == str(tmp_path / "c/r/a.png")


@pytest.mark.parametrize("key", ["c/r/a.png.attrs", "c/r/x.attrs"])
async def test_local_refuses_keys_ending_in_attrs(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(str(tmp_path))
    with pytest.raises(StorageError, match="reserved"):
        await storage.put_bytes(key, b"x", "text/plain")
    with pytest.raises(StorageError, match="reserved"):
        await storage.stat(key)


@pytest.mark.parametrize("key", ["../outside.txt", "c/../../outside.txt", "/etc/passwd", "..", "."])
async def test_local_prevents_breaking_out_of_the_root(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(str(tmp_path / "storage"))
    with pytest.raises(StorageError, match="escapes"):
        await storage.put_bytes(key, b"x", "text/plain")
    with pytest.raises(StorageError, match="escapes"):
        storage.local_path(key)
    with pytest.raises(StorageError):
        await storage.delete_prefix(key + "/")
    assert not (tmp_path / "outside.txt").exists()


def test_local_creates_a_missing_root(tmp_path: Path) -> None:
    LocalStorage(str(tmp_path / "pb_data" / "storage"))
    assert (tmp_path / "pb_data" / "storage").is_dir()


def test_local_root_that_is_a_file_is_an_init_error(tmp_path: Path) -> None:
    (tmp_path / "storage").write_text("not a folder")
    with pytest.raises(StorageInitError):
        LocalStorage(str(tmp_path / "storage"))


async def test_local_root_replaced_by_a_file_later_is_an_init_error_on_use(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path / "storage"))
    os.rmdir(tmp_path / "storage")
    (tmp_path / "storage").write_text("not a folder")
    with pytest.raises(StorageInitError):
        await storage.stat(KEY)


async def test_local_root_deleted_later_is_created_again(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path / "storage"))
    os.rmdir(tmp_path / "storage")
    assert await storage.stat(KEY) is None
    assert (tmp_path / "storage").is_dir()


def test_local_root_that_cannot_be_created_is_an_init_error(tmp_path: Path) -> None:
    (tmp_path / "pb_data").write_text("not a folder")
    with pytest.raises(StorageInitError):
        LocalStorage(str(tmp_path / "pb_data" / "storage"))


# ---- S3 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["bucket", "region", "endpoint"])
def test_s3_empty_bucket_region_or_endpoint_is_an_init_error(missing: str) -> None:
    args = {"bucket": "b", "region": "r", "endpoint": "e.example", "access_key": "a", "secret": "s"}
    with pytest.raises(StorageInitError, match=missing):
        S3Storage(**{**args, missing: ""})


def presigned_url(storage: S3Storage) -> str:
    return storage._s3().generate_presigned_url(
        "get_object", Params={"Bucket": storage.bucket, "Key": "c/r/a.png"}
    )


def test_s3_endpoint_without_scheme_means_https_and_virtual_host_style() -> None:
    storage = S3Storage("bucket", "eu-west-1", "s3.example.com", "a", "s")
    assert storage.endpoint_url == "https://s3.example.com"
    assert presigned_url(storage).startswith("https://bucket.s3.example.com/c/r/a.png?")


def test_s3_force_path_style_puts_the_bucket_in_the_path() -> None:
    storage = S3Storage(
        "bucket", "eu-west-1", "http://s3.example.com", "a", "s", force_path_style=True
    )
    assert presigned_url(storage).startswith("http://s3.example.com/bucket/c/r/a.png?")


async def test_s3_original_filename_is_url_escaped_like_go(s3_storage: S3Storage) -> None:
    await s3_storage.put_bytes(KEY, b"x", "text/plain", {"original-filename": 'héllo "q" & =.txt'})
    head = s3_storage._s3().head_object(Bucket=s3_storage.bucket, Key=KEY)
    assert head["Metadata"] == {"original-filename": "h%C3%A9llo%20%22q%22%20&%20=.txt"}
    assert head["ContentType"] == "text/plain"


async def test_s3_big_file_goes_up_as_a_multipart_upload(
    s3_storage: S3Storage, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(9 * 1024 * 1024))
    await s3_storage.put_file(KEY, str(source), "application/octet-stream", ORIGINAL)
    head = s3_storage._s3().head_object(Bucket=s3_storage.bucket, Key=KEY)
    assert "-" in head["ETag"]  # multipart ETags end in "-{parts}"
    assert head["Metadata"] == ORIGINAL
    info = await s3_storage.stat(KEY)
    assert info is not None and info.size == 9 * 1024 * 1024


async def test_s3_delete_prefix_deletes_in_batches(
    s3_storage: S3Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_module, "_DELETE_BATCH", 2)
    for i in range(5):
        await s3_storage.put_bytes(f"c/r/{i}.txt", b"x", "text/plain")
    await s3_storage.delete_prefix("c/r/")
    assert s3_storage._s3().list_objects_v2(Bucket=s3_storage.bucket)["KeyCount"] == 0


async def test_s3_connection_test_uploads_and_cleans_up(s3_storage: S3Storage) -> None:
    await s3_storage.test_connection()
    assert s3_storage._s3().list_objects_v2(Bucket=s3_storage.bucket)["KeyCount"] == 0


async def test_s3_connection_test_reports_a_missing_bucket(moto_endpoint: str) -> None:
    storage = s3server.make_s3_storage(moto_endpoint, "no-such-bucket")
    with pytest.raises(StorageError, match="failed to upload a test file"):
        await storage.test_connection()


async def test_s3_upload_to_a_missing_bucket_is_a_storage_error(
    moto_endpoint: str, tmp_path: Path
) -> None:
    source = tmp_path / "a.txt"
    source.write_bytes(b"x")
    storage = s3server.make_s3_storage(moto_endpoint, "no-such-bucket")
    with pytest.raises(StorageError):
        await storage.put_file(KEY, str(source), "text/plain")
    with pytest.raises(StorageError):
        await storage.download_to(KEY, str(tmp_path / "b.txt"))


async def test_s3_stat_of_a_missing_bucket_is_none_like_pocketbase(moto_endpoint: str) -> None:
    assert await s3server.make_s3_storage(moto_endpoint, "no-such-bucket").stat(KEY) is None


async def test_s3_unreachable_endpoint_is_a_storage_error() -> None:
    storage = s3server.make_s3_storage("http://127.0.0.1:9", "bucket")
    with pytest.raises(StorageError):
        await storage.stat(KEY)
    with pytest.raises(StorageError):
        await storage.put_bytes(KEY, b"x", "text/plain")


async def test_s3_access_denied_is_a_storage_error(moto_endpoint: str) -> None:
    bucket = s3server.make_bucket(moto_endpoint)
    deny_all = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    storage = s3server.make_s3_storage(moto_endpoint, bucket)
    storage._s3().put_bucket_policy(Bucket=bucket, Policy=json.dumps(deny_all))
    with pytest.raises(StorageError, match="403"):
        await storage.put_bytes(KEY, b"x", "text/plain")
    with pytest.raises(StorageError, match="403"):
        await storage.stat(KEY)
