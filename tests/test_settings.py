"""`/api/settings`: the S3 block, its write-only secret, and the S3 connection test."""

from __future__ import annotations

import pytest
from checks import ok
from s3server import ACCESS_KEY, REGION, SECRET, make_bucket


def _s3(endpoint, bucket, **extra):
    return {"enabled": True, "bucket": bucket, "region": REGION, "endpoint": endpoint, "accessKey": ACCESS_KEY, "secret": SECRET, "forcePathStyle": True, **extra}


def test_settings_need_a_superuser(client):
    assert client.get("/api/settings").status_code == 401


def test_settings_show_the_s3_block_without_a_secret(client, admin):
    body = client.get("/api/settings", headers=admin).json()
    assert body["s3"] == {"enabled": False, "bucket": "", "region": "", "endpoint": "", "accessKey": "", "forcePathStyle": False}
    assert list(body)[:4] == ["superuserIPs", "smtp", "backups", "s3"]


def test_enabling_s3_requires_every_connection_field(client, admin):
    response = client.patch("/api/settings", headers=admin, json={"s3": {"enabled": True}})
    assert response.status_code == 400
    required = {"code": "validation_required", "message": "Cannot be blank."}
    assert response.json() == {
        "data": {"s3": {k: required for k in ("accessKey", "bucket", "endpoint", "region", "secret")}},
        "message": "An error occurred while saving the new settings.",
        "status": 400,
    }


def test_the_secret_is_write_only(client, admin, moto_endpoint):
    response = client.patch("/api/settings", headers=admin, json={"s3": _s3(moto_endpoint, make_bucket(moto_endpoint))})
    assert response.status_code == 200
    assert "secret" not in response.json()["s3"] and response.json()["s3"]["enabled"] is True
    assert "secret" not in client.get("/api/settings", headers=admin).json()["s3"]


def test_the_s3_test_endpoint_uploads_and_cleans_up(client, admin, moto_endpoint):
    import boto3

    bucket = make_bucket(moto_endpoint)
    ok(client.patch("/api/settings", headers=admin, json={"s3": _s3(moto_endpoint, bucket)}))
    response = client.post("/api/settings/test/s3", headers=admin, json={"filesystem": "storage"})
    assert response.status_code == 204
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_the_s3_test_endpoint_reports_failures(client, admin, moto_endpoint):
    not_enabled = client.post("/api/settings/test/s3", headers=admin, json={"filesystem": "storage"})
    assert not_enabled.json()["message"] == "Failed to test the S3 filesystem. Raw error: \nS3 storage filesystem is not enabled."
    missing = client.post("/api/settings/test/s3", headers=admin, json={})
    assert missing.json()["data"] == {"filesystem": {"code": "validation_required", "message": "Cannot be blank."}}
    ok(client.patch("/api/settings", headers=admin, json={"s3": _s3(moto_endpoint, "no-such-bucket")}))
    failed = client.post("/api/settings/test/s3", headers=admin, json={"filesystem": "storage"})
    assert failed.status_code == 400 and failed.json()["message"].startswith("Failed to test the S3 filesystem. Raw error:")


@pytest.mark.parametrize("body", ['{"s3":"x"}', '{"s3":{"accessKey":100000000000000000000}}', '{"s3":{"enabled":"x"}}', '{"s3":0}'])
def test_settings_of_the_wrong_json_type_are_the_reference_400(client, admin, body):
    response = client.patch("/api/settings", content=body, headers={**admin, "content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["message"] == "An error occurred while loading the submitted data."


def test_null_settings_are_zero_values_as_the_reference_decodes_them(client, admin):
    """PocketBase 0.40 decodes with encoding/json/v2, where null makes any value its zero."""
    for body in ({"s3": None}, {"s3": {"bucket": None}}):
        ok(client.patch("/api/settings", json={"s3": {"bucket": "gone", "forcePathStyle": True}}, headers=admin))
        response = client.patch("/api/settings", json=body, headers=admin)
        assert response.status_code == 200, response.text
        assert response.json()["s3"]["bucket"] == ""
        assert response.json()["s3"]["forcePathStyle"] is (body["s3"] is not None)
