"""Where the servers keep their data in a run: `--deployment sqlite|postgres|s3|postgres-s3`.

PocketBase has no PostgreSQL, so with `postgres` Satchel runs on a fresh PostgreSQL database
against PocketBase on its SQLite: the comparison a team moving off one machine makes. With
`s3` both servers store files in S3, on the same moto server (a process of its own, each
server with its own bucket), switched on through each server's own settings API.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from types import TracebackType

import httpx

from .procs import Server, free_port

ACCESS_KEY, SECRET, REGION = "bench", "bench-secret", "us-east-1"
DEPLOYMENTS = ("sqlite", "postgres", "s3", "postgres-s3")


class Backends:
    """The database and object storage a run needs, made before the servers start and removed after."""

    def __init__(self, deployment: str, postgres_url: str, root: str) -> None:
        self.deployment, self.postgres_url, self.root = deployment, postgres_url, root
        self.database = ""
        self.moto: subprocess.Popen | None = None
        self.s3_endpoint = ""

    @property
    def uses_postgres(self) -> bool:
        return self.deployment.startswith("postgres")

    @property
    def uses_s3(self) -> bool:
        return self.deployment.endswith("s3")

    def __enter__(self) -> Backends:
        if self.uses_postgres:
            self.database = f"satchel_bench_{uuid.uuid4().hex[:8]}"
            self._admin_sql(f"CREATE DATABASE {self.database}")
        if self.uses_s3:
            self._start_moto()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.moto is not None:
            self.moto.kill()
            self.moto.wait()
        if self.database:
            self._admin_sql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")

    def satchel_env(self) -> dict[str, str]:
        """Satchel's environment for this deployment (its database URL)."""
        if not self.uses_postgres:
            return {}
        base = self.postgres_url.rsplit("/", 1)[0]
        return {"SATCHEL_DB_URL": f"{base}/{self.database}"}

    def configure(self, server: Server) -> None:
        """Switch a started server to S3, in a bucket of its own, as its operator would."""
        if not self.uses_s3:
            return
        import boto3

        bucket = f"bench-{server.name.lower()}-{uuid.uuid4().hex[:6]}"
        boto3.client("s3", endpoint_url=self.s3_endpoint, region_name=REGION,
                     aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET).create_bucket(Bucket=bucket)
        r = httpx.patch(server.url + "/api/settings", headers={"Authorization": server.token}, timeout=30, json={"s3": {
            "enabled": True, "bucket": bucket, "region": REGION, "endpoint": self.s3_endpoint,
            "accessKey": ACCESS_KEY, "secret": SECRET, "forcePathStyle": True,
        }})
        r.raise_for_status()

    def _admin_sql(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.postgres_url, autocommit=True) as conn:
            conn.execute(sql)  # our own names, no input

    def _start_moto(self) -> None:
        port = free_port()
        log = open(os.path.join(self.root, "moto.log"), "ab")
        self.moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.s3_endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.s3_endpoint, timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("moto's S3 server did not start")
