"""One cold thumb, asked for at once through two instances sharing a database and a bucket, is made once.

The bucket keeps versions, so every PUT of the thumb leaves one behind: one version means one
generation in the whole cluster. Runs on SQLite (two instances on one data directory) and on
PostgreSQL (two instances on one schema).
"""

from __future__ import annotations

import concurrent.futures
import io
import os
import subprocess

import boto3
import httpx
from checks import ok, wait_for
from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, image_bytes
from PIL import Image
from processes import SATCHEL
from s3server import ACCESS_KEY, REGION, SECRET, make_bucket


def test_a_cold_thumb_is_made_once_across_instances(tmp_path, db_url: str, moto_endpoint: str, satchel_server) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET)
    bucket = make_bucket(moto_endpoint)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    env = {**os.environ, "SATCHEL_DIR": str(tmp_path / "sb"), "SATCHEL_DB_URL": db_url}
    subprocess.run([SATCHEL, "superuser", "upsert", ADMIN_EMAIL, ADMIN_PASSWORD], env=env, check=True, capture_output=True)
    first, second = satchel_server("--workers", "1", env=env), satchel_server("--workers", "1", env=env)

    with httpx.Client(base_url=first, timeout=60) as http:
        admin = {"Authorization": ok(http.post("/api/collections/_superusers/auth-with-password", json={"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))["token"]}
        ok(http.patch("/api/settings", headers=admin, json={"s3": {
            "enabled": True, "bucket": bucket, "region": REGION, "endpoint": moto_endpoint,
            "accessKey": ACCESS_KEY, "secret": SECRET, "forcePathStyle": True,
        }}))
        collection = ok(http.post("/api/collections", headers=admin, json={
            "name": "photos", "type": "base", "viewRule": "",
            "fields": [{"name": "img", "type": "file", "maxSelect": 1, "thumbs": ["100x100"]}],
        }))
        record = ok(http.post("/api/collections/photos/records", headers=admin, files={"img": ("p.png", image_bytes(1600, 1200), "image/png")}))
    # The other instance hears of the changes by NOTIFY on PostgreSQL: within moments. The
    # collection came after the S3 settings, so once it sees the record it has both.
    wait_for(lambda: httpx.get(f"{second}/api/collections/photos/records/{record['id']}", timeout=30).status_code == 200)

    path = f"/api/files/photos/{record['id']}/{record['img']}?thumb=100x100"
    with concurrent.futures.ThreadPoolExecutor(40) as pool:
        answers = list(pool.map(lambda i: httpx.get((first, second)[i % 2] + path, timeout=120), range(40)))

    assert [(a.status_code, a.text[:200]) for a in answers if a.status_code != 200] == []
    assert len({a.content for a in answers}) == 1
    assert Image.open(io.BytesIO(answers[0].content)).size == (100, 100)
    thumb_key = f"{collection['id']}/{record['id']}/thumbs_{record['img']}/100x100_{record['img']}"
    versions = s3.list_object_versions(Bucket=bucket, Prefix=thumb_key).get("Versions", [])
    assert [v["Key"] for v in versions] == [thumb_key]
