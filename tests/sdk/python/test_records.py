"""Record CRUD with files through PyPI's pocketbase SDK.

The SDK sends a body as multipart only when it holds `FileUpload` values; every other value then
goes as a plain form field (no `@jsonPayload`), and a key holds either uploads or text, never both.
So, unlike the JS SDK, it cannot send a JSON-field object together with files, nor "keep these
names and add these uploads" under one key: those flows are written here as two requests, or with
`images+`, which is how a user of this SDK has to write them. The SDK is synchronous and has no
auto cancellation, so the JS suite's auto-cancellation test has no counterpart here.
"""

from __future__ import annotations

import re

import httpx
import pytest
from pocketbase.errors import ClientResponseError
from pocketbase.models import FileUpload
from sdkhelpers import JPEG, docs_collection, png, superuser_client, unique


def name_re(stem: str, ext: str) -> re.Pattern[str]:
    return re.compile(rf"^{stem}_[a-z0-9]{{10}}\.{ext}$")


@pytest.fixture(scope="module")
def coll(server_url) -> str:
    """A public collection with file fields, shared by this module's tests."""
    name = unique("records")
    superuser_client(server_url).collections.create(docs_collection(name))
    return name


def serves(pb, record, filename: str) -> bytes | None:
    """The bytes at the record file's URL, or None on 404."""
    response = httpx.get(pb.files.get_url(record, filename))
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return response.content


def test_create_with_file_uploads_stores_every_file_under_a_normalised_name(admin, coll):
    image = png(40, 30)
    record = admin.collection(coll).create(
        {
            "title": "with uploads",
            "rank": 7,
            "cover": FileUpload(("Cover Image.png", image, "image/png")),
            "images": FileUpload(("one.jpg", JPEG, "image/jpeg"), ("two.png", image)),
            "secret": FileUpload(("notes.txt", b"top secret\n", "text/plain")),
        }
    )
    assert re.fullmatch(r"[a-z0-9]{15}", record.id)
    assert (record.title, record.rank) == ("with uploads", 7)
    assert name_re("cover_image", "png").match(record.cover)
    assert [bool(name_re("one", "jpg").match(record.images[0])), bool(name_re("two", "png").match(record.images[1]))] == [True, True]
    assert name_re("notes", "txt").match(record.secret)
    assert serves(admin, record, record.cover) == image
    assert serves(admin, record, record.images[0]) == JPEG


def test_json_values_go_in_a_second_request_because_the_sdk_has_no_json_payload(admin, coll):
    record = admin.collection(coll).create({"title": "json", "cover": FileUpload(("photo.jpg", JPEG))})
    record = admin.collection(coll).update(record.id, {"meta": {"tags": ["a", "b"], "nested": {"ok": True}}})
    assert record.meta == {"tags": ["a", "b"], "nested": {"ok": True}}
    assert name_re("photo", "jpg").match(record.cover)
    assert admin.collection(coll).get_one(record.id).meta == record.meta


def test_create_reports_field_errors(admin, coll):
    with pytest.raises(ClientResponseError) as err:
        admin.collection(coll).create({"rank": 1})
    assert err.value.status == 400
    assert err.value.data["data"]["title"]["code"] == "validation_required"

    with pytest.raises(ClientResponseError) as err:
        admin.collection(coll).create({"title": "x", "cover": FileUpload(("c.png", b"plain text"))})
    assert err.value.data["data"]["cover"]["code"] == "validation_invalid_mime_type"


def test_get_list_get_full_list_and_get_first_list_item_page_sort_and_filter(admin):
    coll = unique("listing")
    admin.collections.create(docs_collection(coll))
    for i, title in enumerate(["delta", "alpha", "echo", "charlie", "bravo"]):
        admin.collection(coll).create({"title": title, "rank": (i * 3) % 5})  # ranks 0 3 1 4 2

    page = admin.collection(coll).get_list(1, 2, {"sort": "title"})
    assert (page.page, page.per_page, page.total_items, page.total_pages) == (1, 2, 5, 3)
    assert [r.title for r in page.items] == ["alpha", "bravo"]
    assert [r.title for r in admin.collection(coll).get_list(3, 2, {"sort": "title"}).items] == ["echo"]

    assert [r.rank for r in admin.collection(coll).get_full_list(query_params={"sort": "-rank"})] == [4, 3, 2, 1, 0]
    batched = admin.collection(coll).get_full_list(batch=2, query_params={"sort": "rank,title"})
    assert [r.title for r in batched] == ["delta", "echo", "bravo", "alpha", "charlie"]

    filtered = admin.collection(coll).get_list(1, 10, {"filter": "rank >= 2", "sort": "-title"})
    assert filtered.total_items == 3
    assert [r.title for r in filtered.items] == ["charlie", "bravo", "alpha"]

    assert admin.collection(coll).get_first_list_item(admin.filter("title = {:t}", {"t": "charlie"})).rank == 4
    assert admin.collection(coll).get_first_list_item("rank >= 1", {"sort": "-rank"}).title == "charlie"
    assert admin.collection(coll).get_first_list_item("rank >= 1", {"sort": "rank"}).title == "echo"
    with pytest.raises(ClientResponseError) as err:
        admin.collection(coll).get_first_list_item('title = "zulu"')
    assert err.value.status == 404


def test_update_with_images_plus_appends_and_images_minus_removes(admin, coll):
    one, two, three = png(11, 11), png(12, 12), png(13, 13)
    record = admin.collection(coll).create({"title": "modifiers", "images": FileUpload(("one.png", one))})
    first = record.images[0]

    record = admin.collection(coll).update(record.id, {"images+": FileUpload(("two.png", two), ("three.png", three))})
    assert len(record.images) == 3 and record.images[0] == first
    assert name_re("two", "png").match(record.images[1]) and name_re("three", "png").match(record.images[2])
    assert serves(admin, record, record.images[2]) == three

    removed = record.images[1]
    record = admin.collection(coll).update(record.id, {"images-": [removed]})
    assert record.images[0] == first and len(record.images) == 2
    assert serves(admin, record, removed) is None
    assert serves(admin, record, first) == one


def test_update_with_new_uploads_under_the_plain_key_replaces_every_old_file(admin, coll):
    old = png(15, 15)
    record = admin.collection(coll).create(
        {"title": "replace", "cover": FileUpload(("old-cover.png", old)), "images": FileUpload(("old1.png", old), ("old2.png", old))}
    )
    before = [record.cover, *record.images]

    fresh = png(16, 16)
    record = admin.collection(coll).update(record.id, {"cover": FileUpload(("new-cover.jpg", JPEG)), "images": FileUpload(("fresh.png", fresh))})
    assert name_re("new_cover", "jpg").match(record.cover)
    assert len(record.images) == 1 and name_re("fresh", "png").match(record.images[0])
    assert serves(admin, record, record.cover) == JPEG
    assert serves(admin, record, record.images[0]) == fresh
    assert [serves(admin, record, gone) for gone in before] == [None, None, None]


def test_update_with_a_list_of_names_keeps_only_those(admin, coll):
    image = png(14, 14)
    record = admin.collection(coll).create({"title": "keep", "images": FileUpload(("keep.png", image), ("drop.png", image))})
    keep, drop = record.images
    record = admin.collection(coll).update(record.id, {"images": [keep]})
    assert record.images == [keep]
    assert serves(admin, record, drop) is None
    assert serves(admin, record, keep) == image


def test_update_with_none_or_an_empty_list_clears_file_fields(admin, coll):
    image = png(17, 17)
    record = admin.collection(coll).create(
        {"title": "clear", "cover": FileUpload(("cover.png", image)), "images": FileUpload(("x1.png", image), ("x2.png", image))}
    )
    old = [record.cover, *record.images]
    record = admin.collection(coll).update(record.id, {"cover": None, "images": []})
    assert (record.cover, record.images) == ("", [])
    assert [serves(admin, record, gone) for gone in old] == [None, None, None]


def test_delete_removes_the_record_and_its_files(admin, coll):
    image = png(18, 18)
    record = admin.collection(coll).create({"title": "doomed", "images": FileUpload(("doomed.png", image))})
    assert serves(admin, record, record.images[0]) == image

    assert admin.collection(coll).delete(record.id) is True
    with pytest.raises(ClientResponseError) as err:
        admin.collection(coll).get_one(record.id)
    assert err.value.status == 404
    assert serves(admin, record, record.images[0]) is None
