"""`GET /api/files/...`: order of checks, headers, ranges, conditional requests, traversal; local and S3."""

from __future__ import annotations

import asyncio
import email.utils
import io
import time

import pytest
from checks import ok
from conftest import image_bytes
from PIL import Image

NOT_FOUND = {"data": {}, "message": "The requested resource wasn't found.", "status": 404}


@pytest.fixture
def record(client, admin, storage_kind):
    ok(client.post("/api/collections", headers=admin, json={
        "name": "docs", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
        "fields": [
            {"name": "files", "type": "file", "maxSelect": 9, "thumbs": ["50x50", "40x30t", "40x30b", "40x30f", "20x0", "0x20"]},
        ],
    }))
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><script>alert(1)</script></svg>'
    files = [
        ("files", ("photo.png", image_bytes(200, 100), "image/png")),
        ("files", ("notes.txt", b"hello world\n", "text/plain")),
        ("files", ("draw.svg", svg, "image/svg+xml")),
        ("files", ("page.html", b"<!DOCTYPE html><html><body>hi</body></html>", "text/html")),
        ("files", ("pic.webp", image_bytes(60, 40, "WEBP"), "image/webp")),
        ("files", ("anim.gif", image_bytes(60, 40, "GIF"), "image/gif")),
        ("files", ("shot.jpg", image_bytes(150, 120, "JPEG"), "image/jpeg")),
    ]
    body = client.post("/api/collections/docs/records", files=files).json()
    names = {n.split("_")[0]: n for n in body["files"]}
    return body["id"], names


def _url(rid, name, query=""):
    return f"/api/files/docs/{rid}/{name}" + (f"?{query}" if query else "")


def test_png_is_served_inline_with_pocketbase_headers(client, record):
    rid, names = record
    response = client.get(_url(rid, names["photo"]))
    assert response.status_code == 200
    assert response.content == image_bytes(200, 100)
    h = response.headers
    assert h["content-type"] == "image/png"
    assert h["content-disposition"] == f'inline; filename="{names["photo"]}"'
    assert h["content-security-policy"] == "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
    assert h["cache-control"] == "max-age=2592000, stale-while-revalidate=86400"
    assert h["accept-ranges"] == "bytes"
    assert h["content-length"] == str(len(response.content))
    assert abs(email.utils.parsedate_to_datetime(h["last-modified"]).timestamp() - time.time()) < 120
    assert "etag" not in h
    assert "x-frame-options" not in h
    assert h["x-content-type-options"] == "nosniff"


def test_text_svg_and_html_are_attachments(client, record):
    rid, names = record
    text = client.get(_url(rid, names["notes"]))
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["content-disposition"].startswith("attachment; ")
    svg = client.get(_url(rid, names["draw"]))
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.headers["content-disposition"].startswith("attachment; ")
    html = client.get(_url(rid, names["page"]))
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.headers["content-disposition"].startswith("attachment; ")


@pytest.mark.parametrize("value,disposition", [("1", "attachment"), ("true", "attachment"), ("T", "attachment"), ("yes", "inline"), ("0", "inline")])
def test_download_flag_uses_go_truthiness(client, record, value, disposition):
    rid, names = record
    response = client.get(_url(rid, names["photo"], f"download={value}"))
    assert response.headers["content-disposition"].split(";")[0] == disposition


def test_head_has_the_headers_and_no_body(client, record):
    rid, names = record
    response = client.head(_url(rid, names["photo"]))
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(image_bytes(200, 100)))


def test_a_download_carries_the_global_headers_in_order(client, record):
    rid, names = record
    response = client.get(_url(rid, names["notes"]), headers={"Origin": "https://app.example"})
    assert [name for name, _ in response.headers.raw] == [
        b"accept-ranges", b"cache-control", b"content-disposition", b"content-length",
        b"content-security-policy", b"content-type", b"last-modified",
        b"x-content-type-options", b"x-xss-protection", b"cross-origin-opener-policy",
        b"vary", b"access-control-allow-origin",
    ]
    missing = client.get(f"/api/files/docs/{rid}/other.png")
    assert [name for name, _ in missing.headers.raw] == [
        b"content-length", b"content-type", b"x-content-type-options", b"x-xss-protection",
        b"cross-origin-opener-policy", b"x-frame-options", b"vary",
    ]


def test_a_replaced_file_is_served_with_its_new_headers(client, admin, record, sat):
    rid, names = record
    first = client.get(_url(rid, names["notes"]))
    key = f"{sat.find_collection('docs').id}/{rid}/{names['notes']}"
    asyncio.run(sat.storage().put_bytes(key, b"a longer body than before\n", "text/plain; charset=utf-8"))
    again = client.get(_url(rid, names["notes"]))
    assert again.content == b"a longer body than before\n"
    assert again.headers["content-length"] == "26" != first.headers["content-length"]


def test_the_three_404_bodies(client, record):
    rid, names = record
    missing_collection = client.get(f"/api/files/nope/{rid}/{names['photo']}")
    assert missing_collection.json() == {"data": {}, "message": "Missing or invalid collection context.", "status": 404}
    assert missing_collection.headers["x-frame-options"] == "SAMEORIGIN"
    assert client.get(f"/api/files/docs/nope/{names['photo']}").json() == NOT_FOUND
    assert client.get(f"/api/files/docs/{rid}/other.png").json() == NOT_FOUND
    extra = client.get(f"/api/files/docs/{rid}/a/{names['photo']}")
    assert extra.json() == {"data": {}, "message": "File not found.", "status": 404}


@pytest.mark.parametrize("path", [
    "../../../../etc/passwd", "..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fdata.db", "%2Fetc%2Fpasswd", "x%00.png", "..",
])
def test_paths_never_leave_the_record(client, record, path):
    rid, _ = record
    response = client.get(f"/api/files/docs/{rid}/{path}")
    assert response.status_code == 404
    assert b"root:" not in response.content and b"SQLite" not in response.content


def test_a_single_range_is_206(client, record):
    rid, names = record
    response = client.get(_url(rid, names["notes"]), headers={"Range": "bytes=0-4"})
    assert response.status_code == 206
    assert response.content == b"hello"
    assert response.headers["content-range"] == "bytes 0-4/12"


def test_several_ranges_are_multipart(client, record):
    rid, names = record
    response = client.get(_url(rid, names["notes"]), headers={"Range": "bytes=0-1, 6-10"})
    assert response.status_code == 206
    assert response.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert b"Content-Range: bytes 0-1/12" in response.content and b"\r\n\r\nhe\r\n" in response.content
    assert b"Content-Range: bytes 6-10/12" in response.content and b"\r\n\r\nworld\r\n" in response.content


def test_an_unsatisfiable_range_is_416(client, record):
    rid, names = record
    response = client.get(_url(rid, names["notes"]), headers={"Range": "bytes=100-200"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */12"
    assert response.content == b"invalid range: failed to overlap\n"


def test_if_modified_since_and_if_none_match_star_are_304(client, record):
    rid, names = record
    first = client.get(_url(rid, names["photo"]))
    again = client.get(_url(rid, names["photo"]), headers={"If-Modified-Since": first.headers["last-modified"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get(_url(rid, names["photo"]), headers={"If-None-Match": "*"}).status_code == 304
    older = email.utils.formatdate(time.time() - 3600, usegmt=True)
    assert client.get(_url(rid, names["photo"]), headers={"If-Modified-Since": older}).status_code == 200


def _size(response):
    return Image.open(io.BytesIO(response.content)).size


@pytest.mark.parametrize("thumb,size", [
    ("100x100", (100, 100)), ("50x50", (50, 50)), ("40x30t", (40, 30)), ("40x30b", (40, 30)),
    ("40x30f", (40, 20)), ("20x0", (20, 10)), ("0x20", (40, 20)),
])
def test_thumbs_have_the_reference_geometry(client, record, thumb, size):
    rid, names = record
    response = client.get(_url(rid, names["photo"], f"thumb={thumb}"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == f'inline; filename="{thumb}_{names["photo"]}"'
    assert _size(response) == size


def test_a_thumb_size_not_allowed_serves_the_original(client, record):
    rid, names = record
    for thumb in ("999x999", "0x0", "garbage"):
        response = client.get(_url(rid, names["photo"], f"thumb={thumb}"))
        assert response.status_code == 200 and response.content == image_bytes(200, 100)


def test_non_images_ignore_thumb(client, record):
    rid, names = record
    assert client.get(_url(rid, names["notes"], "thumb=100x100")).content == b"hello world\n"


def test_webp_thumbs_are_png_bytes_under_the_webp_name(client, record):
    rid, names = record
    response = client.get(_url(rid, names["pic"], "thumb=20x0"))
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert response.headers["content-disposition"].endswith(f'filename="20x0_{names["pic"]}"')
    assert _size(response) == (20, 13)


def test_jpeg_and_gif_thumbs_keep_their_format(client, record):
    rid, names = record
    jpeg = client.get(_url(rid, names["shot"], "thumb=40x30f"))
    assert jpeg.headers["content-type"] == "image/jpeg" and _size(jpeg) == (37, 30)
    gif = client.get(_url(rid, names["anim"], "thumb=50x50"))
    assert gif.headers["content-type"] == "image/gif" and _size(gif) == (50, 50)


def test_a_thumb_is_made_once_and_then_served_from_storage(client, record, sat, stored):
    rid, names = record
    first = client.get(_url(rid, names["photo"], "thumb=50x50")).content
    key = f"{sat.find_collection('docs').id}/{rid}/thumbs_{names['photo']}/50x50_{names['photo']}"
    assert stored(key) == (first, "image/png")
    assert client.get(_url(rid, names["photo"], "thumb=50x50")).content == first


def test_storage_that_cannot_start_is_a_500(client, admin, sat):
    ok(client.post("/api/collections", headers=admin, json={"name": "docs", "viewRule": "", "fields": [{"name": "doc", "type": "file"}]}))
    record = client.post("/api/collections/docs/records", headers=admin, files=[("doc", ("a.txt", b"a", "text/plain"))]).json()
    import shutil

    shutil.rmtree(sat.config.storage_dir)
    open(sat.config.storage_dir, "w").close()
    response = client.get(_url(record["id"], record["doc"]))
    assert response.status_code == 500
    assert response.json() == {"data": {}, "message": "Filesystem initialization failure.", "status": 500}


def test_an_image_over_the_pixel_limit_gets_no_thumb_and_the_original_is_served(tmp_path):
    import asyncio

    from conftest import ADMIN_EMAIL, ADMIN_PASSWORD
    from starlette.testclient import TestClient

    from satchel.app import create_app
    from satchel.config import Config
    from satchel.core import superusers

    app = create_app(Config(data_dir=str(tmp_path / "data"), thumb_max_pixels=100 * 100))
    asyncio.run(superusers.upsert(app.state.satchel, ADMIN_EMAIL, ADMIN_PASSWORD))
    with TestClient(app) as client:
        token = client.post("/api/collections/_superusers/auth-with-password", json={"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).json()["token"]
        ok(client.post("/api/collections", headers={"Authorization": token}, json={"name": "pics", "viewRule": "", "createRule": "", "fields": [{"name": "img", "type": "file"}]}))
        big, small = image_bytes(400, 300), image_bytes(50, 50)
        record = client.post("/api/collections/pics/records", files=[("img", ("big.png", big, "image/png"))]).json()
        response = client.get(f"/api/files/pics/{record['id']}/{record['img']}?thumb=100x100")
        assert response.status_code == 200 and response.content == big
        other = client.post("/api/collections/pics/records", files=[("img", ("small.png", small, "image/png"))]).json()
        thumb = client.get(f"/api/files/pics/{other['id']}/{other['img']}?thumb=100x100")
        assert _size(thumb) == (100, 100)
    app.state.satchel.dispose()


def test_a_corrupt_image_serves_the_original(client, admin):
    ok(client.post("/api/collections", headers=admin, json={"name": "pics", "viewRule": "", "createRule": "", "fields": [{"name": "img", "type": "file"}]}))
    corrupt = image_bytes(200, 200)[:300]
    record = client.post("/api/collections/pics/records", files=[("img", ("bad.png", corrupt, "image/png"))]).json()
    response = client.get(f"/api/files/pics/{record['id']}/{record['img']}?thumb=100x100")
    assert response.status_code == 200 and response.content == corrupt


def test_empty_path_segments_fall_through_to_file_not_found(client, record):
    rid, _ = record
    for path in (f"/api/files/docs/{rid}/", "/api/files/token"):
        response = client.get(path)
        assert response.json() == {"data": {}, "message": "File not found.", "status": 404}, path
