"""Uploads through the Records API: names, checks, modifiers and the files' life cycle, on local disk and S3."""

from __future__ import annotations

import json
import re

import pytest
from checks import ok
from conftest import image_bytes

COLLECTION = {
    "name": "docs",
    "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
    "fields": [
        {"name": "title", "type": "text"},
        {"name": "files", "type": "file", "maxSelect": 3, "maxSize": 2000},
        {"name": "doc", "type": "file"},
        {"name": "img", "type": "file", "mimeTypes": ["image/png", "image/jpeg"]},
    ],
}


@pytest.fixture
def docs(client, admin, storage_kind):
    response = client.post("/api/collections", json=COLLECTION, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def _key(docs, record, name):
    return f"{docs['id']}/{record['id']}/{name}"


def _create(client, files, data=None):
    return client.post("/api/collections/docs/records", files=files, data=data or {})


def test_uploaded_files_get_normalised_names_and_are_stored_with_their_sniffed_type(client, docs, stored):
    png = image_bytes(10, 10)
    response = _create(client, [("files", ("My Photo (1).PNG", png, "text/plain")), ("files", ("a.txt", b"hello", "image/png"))])
    assert response.status_code == 200, response.text
    record = response.json()
    photo, text = record["files"]
    assert re.fullmatch(r"my_photo_1_[a-z0-9]{10}\.PNG", photo)
    assert re.fullmatch(r"a[a-z0-9]{10}_[a-z0-9]{10}\.txt", text)
    assert stored(_key(docs, record, photo)) == (png, "image/png")
    assert stored(_key(docs, record, text)) == (b"hello", "text/plain; charset=utf-8")


def test_a_single_file_field_holds_a_string(client, docs):
    record = _create(client, [("doc", ("noext", b"plain words", "application/octet-stream"))]).json()
    assert re.fullmatch(r"noext_[a-z0-9]{10}\.txt", record["doc"])
    assert record["files"] == [] and record["img"] == ""


def test_a_file_over_max_size_is_refused_and_nothing_is_stored(client, docs, sat, stored):
    response = _create(client, [("files", ("big.bin", b"x" * 2001, "application/octet-stream"))])
    assert response.status_code == 400
    assert response.json() == {
        "data": {"files": {
            "code": "validation_file_size_limit",
            "message": "Failed to upload big.bin - the maximum allowed file size is 2000 bytes.",
            "params": {"file": "big.bin", "maxSize": 2000},
        }},
        "message": "Failed to create record.",
        "status": 400,
    }
    exact = _create(client, [("files", ("ok.bin", b"x" * 2000, "application/octet-stream"))])
    assert exact.status_code == 200


def test_the_default_max_size_is_5_mib(client, docs):
    response = _create(client, [("doc", ("big.bin", b"x" * (5 * 1024 * 1024 + 1), "application/octet-stream"))])
    assert response.json()["data"]["doc"]["params"] == {"file": "big.bin", "maxSize": 5242880}


def test_too_many_files_is_refused(client, docs):
    files = [("files", (f"f{i}.txt", b"abc", "text/plain")) for i in range(4)]
    response = _create(client, files)
    assert response.json()["data"] == {"files": {
        "code": "validation_too_many_files", "message": "The maximum allowed files is 3.", "params": {"maxSelect": 3},
    }}


def test_mime_types_are_checked_against_the_sniffed_type(client, docs):
    refused = _create(client, [("img", ("notimg.png", b"just text", "image/png"))])
    data = refused.json()["data"]["img"]
    assert data["code"] == "validation_invalid_mime_type"
    assert re.fullmatch(r'"notimg_[a-z0-9]{10}\.png" mime type must be one of: image/png, image/jpeg\.', data["message"])
    assert "params" not in data
    assert _create(client, [("img", ("real.png", image_bytes(4, 4), "text/plain"))]).status_code == 200


def test_a_name_not_already_on_the_record_is_an_invalid_new_file(client, docs):
    response = client.post("/api/collections/docs/records", json={"files": ["evil.txt"]})
    assert response.json()["data"] == {"files": {
        "code": "validation_invalid_file", "message": "Invalid new files: [evil.txt].", "params": {"invalidFiles": ["evil.txt"]},
    }}


def test_append_prepend_remove_and_replace(client, docs, stored):
    record = _create(client, [("files", ("one.txt", b"1", "text/plain"))]).json()
    url = f"/api/collections/docs/records/{record['id']}"
    one = record["files"][0]
    appended = client.patch(url, files=[("files+", ("two.txt", b"2", "text/plain"))]).json()["files"]
    assert appended[0] == one and appended[1].startswith("two_")
    prepended = client.patch(url, files=[("+files", ("zero.txt", b"0", "text/plain"))]).json()["files"]
    assert prepended[0].startswith("zero_") and prepended[1:] == appended
    removed = client.patch(url, json={"files-": [one]}).json()["files"]
    assert removed == [prepended[0], appended[1]]
    assert stored(_key(docs, record, one)) is None
    replaced = client.patch(url, files=[("files", ("new.txt", b"n", "text/plain"))]).json()["files"]
    assert len(replaced) == 1 and replaced[0].startswith("new_")
    for old in removed:
        assert stored(_key(docs, record, old)) is None
    assert stored(_key(docs, record, replaced[0])) == (b"n", "text/plain; charset=utf-8")


def test_uploads_under_the_plain_name_drop_the_bodys_modifiers_as_the_reference_does(client, docs):
    record = _create(client, [("files", ("x.txt", b"x", "text/plain"))]).json()
    url = f"/api/collections/docs/records/{record['id']}"
    [x] = record["files"]
    [y] = client.patch(url, data={"files+": x}, files=[("files", ("yes.txt", b"y", "text/plain"))]).json()["files"]
    assert y.startswith("yes_")
    response = client.patch(url, data={"files": y, "+files": "unknown.txt"}, files=[("files", ("won.txt", b"w", "text/plain"))])
    assert response.status_code == 200, response.text
    assert response.json()["files"][0] == y and response.json()["files"][1].startswith("won_")


def test_names_in_the_form_are_kept_and_uploads_added(client, docs):
    record = _create(client, [("files", ("a1.txt", b"1", "text/plain")), ("files", ("a2.txt", b"2", "text/plain"))]).json()
    keep = record["files"][1]
    response = client.patch(
        f"/api/collections/docs/records/{record['id']}",
        data={"files": keep},
        files=[("files", ("a3.txt", b"3", "text/plain"))],
    )
    files = response.json()["files"]
    assert files[0] == keep and files[1].startswith("a3") and len(files) == 2


def test_names_in_json_payload_are_kept_too(client, docs):
    record = _create(client, [("files", ("b1.txt", b"1", "text/plain"))]).json()
    response = client.patch(
        f"/api/collections/docs/records/{record['id']}",
        data={"@jsonPayload": json.dumps({"files": [record["files"][0]], "title": "t"})},
        files=[("files", ("b2.txt", b"2", "text/plain"))],
    )
    body = response.json()
    assert body["title"] == "t" and body["files"][0] == record["files"][0] and len(body["files"]) == 2


@pytest.mark.parametrize("clear", [{"files": ""}, {"files": None}, {"files": []}])
def test_clearing_a_field_deletes_its_files(client, docs, stored, clear):
    record = _create(client, [("files", ("c.txt", b"c", "text/plain"))]).json()
    response = client.patch(f"/api/collections/docs/records/{record['id']}", json=clear)
    assert response.json()["files"] == []
    assert stored(_key(docs, record, record["files"][0])) is None


def test_an_empty_multipart_value_clears_the_field(client, docs):
    record = _create(client, [("doc", ("d.txt", b"d", "text/plain"))]).json()
    response = client.patch(f"/api/collections/docs/records/{record['id']}", data={"doc": ""}, files=[("title", (None, "x"))])
    assert response.json()["doc"] == ""


def test_single_field_append_replaces_and_prepend_keeps_the_old_file(client, docs, stored):
    record = _create(client, [("doc", ("first.txt", b"1", "text/plain"))]).json()
    url = f"/api/collections/docs/records/{record['id']}"
    kept = client.patch(url, files=[("+doc", ("second.txt", b"2", "text/plain"))]).json()["doc"]
    assert kept == record["doc"]
    replaced = client.patch(url, files=[("doc+", ("third.txt", b"3", "text/plain"))]).json()["doc"]
    assert replaced.startswith("third_")
    assert stored(_key(docs, record, record["doc"])) is None


def test_a_required_field_cannot_be_cleared(client, admin, storage_kind):
    ok(client.post("/api/collections", headers=admin, json={"name": "req", "createRule": "", "updateRule": "", "fields": [{"name": "doc", "type": "file", "required": True}]}))
    missing = client.post("/api/collections/req/records", json={})
    assert missing.json()["data"] == {"doc": {"code": "validation_required", "message": "Cannot be blank."}}
    record = client.post("/api/collections/req/records", files=[("doc", ("r.txt", b"r", "text/plain"))]).json()
    cleared = client.patch(f"/api/collections/req/records/{record['id']}", json={"doc": None})
    assert cleared.status_code == 400 and cleared.json()["data"]["doc"]["code"] == "validation_required"


def test_deleting_a_record_removes_its_files_and_thumbs(client, docs, stored):
    record = _create(client, [("img", ("p.png", image_bytes(120, 120), "image/png"))]).json()
    assert client.get(f"/api/files/docs/{record['id']}/{record['img']}?thumb=100x100").status_code == 200
    thumb_key = f"{docs['id']}/{record['id']}/thumbs_{record['img']}/100x100_{record['img']}"
    assert stored(thumb_key) is not None
    assert client.delete(f"/api/collections/docs/records/{record['id']}").status_code == 204
    assert stored(_key(docs, record, record["img"])) is None
    assert stored(thumb_key) is None


def test_replacing_a_file_removes_its_thumbs_folder(client, docs, stored):
    record = _create(client, [("img", ("p.png", image_bytes(120, 120), "image/png"))]).json()
    client.get(f"/api/files/docs/{record['id']}/{record['img']}?thumb=100x100")
    ok(client.patch(f"/api/collections/docs/records/{record['id']}", files=[("img", ("q.png", image_bytes(20, 20), "image/png"))]))
    assert stored(f"{docs['id']}/{record['id']}/thumbs_{record['img']}/100x100_{record['img']}") is None


def test_a_body_over_the_collection_limit_is_413(client, docs):
    limit = (32 << 20) + 2000 * 3 + (5 << 20) * 2
    response = client.post(
        "/api/collections/docs/records",
        content=b"x",
        headers={"Content-Type": "multipart/form-data; boundary=abc", "Content-Length": str(limit + 1)},
    )
    assert response.status_code == 413
    assert response.json() == {"data": {}, "message": "Request entity too large.", "status": 413}


def test_storage_that_cannot_start_fails_the_upload_cleanly(client, admin, sat, tmp_path):
    ok(client.post("/api/collections", json=COLLECTION, headers=admin))
    storage_dir = sat.config.storage_dir
    import os
    import shutil

    shutil.rmtree(storage_dir, ignore_errors=True)
    with open(storage_dir, "w") as handle:
        handle.write("not a directory")
    response = _create(client, [("doc", ("x.txt", b"x", "text/plain"))])
    assert response.status_code == 400
    assert response.json() == {"data": {}, "message": "Failed to create record.", "status": 400}
    assert client.get("/api/collections/docs/records").json()["totalItems"] == 0
    os.remove(storage_dir)
