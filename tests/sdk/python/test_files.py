"""files.get_url with thumb, download and token, and files.get_token, through PyPI's pocketbase SDK.

Each URL is fetched with httpx: bytes, headers and image sizes are checked. `get_url` url-encodes
query values with Python's `str()`, so `download=True` goes out as `download=True`, which the server
reads as true like any Go bool.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import httpx
import pytest
from pocketbase import PocketBase
from pocketbase.errors import ClientResponseError
from pocketbase.models import FileUpload
from sdkhelpers import JPEG, SUPERUSERS_ID, docs_collection, image_size, jwt_claims, png, superuser_client, unique

PNG = png(400, 300)
TEXT = b"hello, files\n"


@pytest.fixture(scope="module")
def files(server_url):
    """A public record with images and a protected file, and one behind a superusers-only view rule."""
    pb = superuser_client(server_url)
    public, locked = unique("files"), unique("locked")
    pb.collections.create(docs_collection(public))
    pb.collections.create(docs_collection(locked, listRule=None, viewRule=None))
    record = pb.collection(public).create(
        {
            "title": "pictures",
            "cover": FileUpload(("cover.png", PNG)),
            "images": FileUpload(("photo.jpg", JPEG), ("tiles.png", PNG), ("readme.txt", TEXT)),
            "secret": FileUpload(("secret.txt", TEXT)),
        }
    )
    hidden = pb.collection(locked).create({"title": "locked", "secret": FileUpload(("hidden.png", PNG))})
    photo, tiles, readme = record.images
    return SimpleNamespace(record=record, locked=hidden, photo=photo, tiles=tiles, readme=readme)


def test_get_url_builds_the_files_api_path(admin, server_url, files):
    r = files.record
    assert admin.files.get_url(r, r.cover) == f"{server_url}/api/files/{r.collection_id}/{r.id}/{r.cover}"
    assert admin.files.get_url(r, r.cover, {"thumb": "100x100"}).endswith(f"/{r.cover}?thumb=100x100")


def test_a_plain_file_url_serves_the_original_inline_with_pocketbase_headers(admin, files):
    r = files.record
    response = httpx.get(admin.files.get_url(r, r.cover))
    assert response.status_code == 200
    assert response.content == PNG
    h = response.headers
    assert (h["content-type"], h["content-length"]) == ("image/png", str(len(PNG)))
    assert h["content-disposition"] == f'inline; filename="{r.cover}"'
    assert h["cache-control"] == "max-age=2592000, stale-while-revalidate=86400"
    assert h["content-security-policy"] == "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
    assert "x-frame-options" not in h
    assert image_size(response.content) == ("PNG", 400, 300)

    text = httpx.get(admin.files.get_url(r, files.readme))
    assert text.content == TEXT
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["content-disposition"] == f'attachment; filename="{files.readme}"'


def test_download_true_gives_an_attachment(admin, files):
    r = files.record
    response = httpx.get(admin.files.get_url(r, r.cover, {"download": True}))
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-disposition"] == f'attachment; filename="{r.cover}"'


@pytest.mark.parametrize(
    ("thumb", "png_size", "jpeg_size"),
    [("100x100", (100, 100), (100, 100)), ("50x50", (50, 50), (50, 50)), ("0x80", (107, 80), (120, 80)), ("120x0", (120, 90), (120, 80)), ("300x300f", (300, 225), (300, 200))],
)
def test_thumbs_have_the_reference_geometry(admin, files, thumb, png_size, jpeg_size):
    for name, kind, size in ((files.tiles, "PNG", png_size), (files.photo, "JPEG", jpeg_size)):
        response = httpx.get(admin.files.get_url(files.record, name, {"thumb": thumb}))
        assert response.status_code == 200
        assert response.headers["content-type"] == f"image/{kind.lower()}"
        assert response.headers["content-disposition"] == f'inline; filename="{thumb}_{name}"'
        assert image_size(response.content) == (kind, *size)


def test_a_thumb_size_the_field_does_not_allow_serves_the_original(admin, files):
    r = files.record
    assert httpx.get(admin.files.get_url(r, files.tiles, {"thumb": "77x77"})).content == PNG
    assert httpx.get(admin.files.get_url(r, r.cover, {"thumb": "50x50"})).content == PNG  # 50x50 is only on `images`
    assert httpx.get(admin.files.get_url(r, files.readme, {"thumb": "100x100"})).content == TEXT


def test_thumb_and_download_together(admin, files):
    response = httpx.get(admin.files.get_url(files.record, files.photo, {"thumb": "50x50", "download": True}))
    assert response.headers["content-disposition"] == f'attachment; filename="50x50_{files.photo}"'
    assert image_size(response.content) == ("JPEG", 50, 50)


def test_get_token_as_the_superuser(admin):
    claims = jwt_claims(admin.files.get_token())
    assert (claims["type"], claims["id"], claims["collectionId"]) == ("file", admin.auth_store.model.id, SUPERUSERS_ID)
    assert 170 < claims["exp"] - time.time() <= 185


def test_get_token_without_auth_is_rejected_with_401(server_url):
    with pytest.raises(ClientResponseError) as err:
        PocketBase(server_url).files.get_token()
    assert err.value.status == 401


def test_a_protected_file_on_a_public_collection_needs_no_token(admin, files):
    r = files.record
    assert httpx.get(admin.files.get_url(r, r.secret)).content == TEXT


def test_a_protected_file_behind_a_superusers_only_rule_needs_the_superuser_file_token(admin, files):
    locked = files.locked
    url = admin.files.get_url(locked, locked.secret)
    assert httpx.get(url).status_code == 404
    assert httpx.get(url, headers={"Authorization": admin.auth_store.token}).status_code == 404
    assert httpx.get(admin.files.get_url(locked, locked.secret, {"token": admin.auth_store.token})).status_code == 404

    token = admin.files.get_token()
    response = httpx.get(admin.files.get_url(locked, locked.secret, {"token": token}))
    assert response.status_code == 200
    assert response.content == PNG
    thumb = httpx.get(admin.files.get_url(locked, locked.secret, {"thumb": "100x100", "token": token}))
    assert image_size(thumb.content) == ("PNG", 100, 100)
