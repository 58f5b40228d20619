"""Configuration: defaults in config.py, the environment over them, flags over that."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from PIL import Image

from satchel.cli import parser
from satchel.config import Config

README = Path(__file__).resolve().parent.parent / "README.md"
SATCHEL = str(Path(sys.executable).parent / "satchel")


def _readme_settings() -> set[str]:
    """The SATCHEL_* names in the README's configuration table."""
    section = README.read_text().split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    return set(re.findall(r"`(SATCHEL_[A-Z0-9_]+)`", table))


def _env_names() -> set[str]:
    return {f.metadata["env"] for f in dataclasses.fields(Config)}


def test_every_readme_setting_is_a_config_field_and_every_field_is_documented():
    assert _readme_settings() == _env_names()


@pytest.mark.parametrize("name", sorted(_env_names()))
def test_every_setting_is_read_from_the_environment(name: str):
    f = next(f for f in dataclasses.fields(Config) if f.metadata["env"] == name)
    value = {"str": "/somewhere/else", "int": "12345", "float": "7.5"}[str(f.type)]
    config = Config.from_env({name: value})
    assert str(getattr(config, f.name)) == value


def test_flags_given_override_the_environment_and_absent_flags_do_not():
    env = {"SATCHEL_DIR": "/from/env", "SATCHEL_DB_URL": "postgresql://env/db"}
    assert Config.from_env(env, data_dir="/from/flag", db_url=None) == Config(data_dir="/from/flag", db_url="postgresql://env/db")


def test_an_empty_variable_keeps_the_default():
    assert Config.from_env({"SATCHEL_THUMB_MAX_WAIT": ""}).thumb_max_wait == Config().thumb_max_wait


def test_to_env_round_trips():
    config = Config(data_dir="/d", db_url="sqlite:////x.db", thumb_max_pixels=5, thumb_workers=3, thumb_max_wait=1.5)
    assert Config.from_env(config.to_env()) == config


def test_a_bad_number_is_an_error_naming_the_variable():
    with pytest.raises(ValueError, match="SATCHEL_THUMB_WORKERS"):
        Config.from_env({"SATCHEL_THUMB_WORKERS": "many"})


def test_the_cli_reports_a_bad_setting_in_one_line(tmp_path: Path):
    env = {**os.environ, "SATCHEL_DIR": str(tmp_path / "d"), "SATCHEL_THUMB_MAX_PIXELS": "lots"}
    done = subprocess.run([SATCHEL, "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip() == "Error: SATCHEL_THUMB_MAX_PIXELS='lots' is not a valid int"
    assert not (tmp_path / "d").exists()


def test_cli_flags_default_to_none_so_the_environment_decides():
    args = parser().parse_args(["migrate"])
    assert (args.dir, args.db_url) == (None, None)


def test_serve_uses_satchel_dir_and_thumb_settings_from_the_environment(tmp_path: Path, satchel_server):
    """The bug this replaces: serve wrote its flag defaults over the environment."""
    data = tmp_path / "from-env"
    env = {**os.environ, "SATCHEL_DIR": str(data), "SATCHEL_THUMB_MAX_PIXELS": "100"}
    subprocess.run([SATCHEL, "superuser", "upsert", "root@example.com", "root-password-1"], env=env, check=True, capture_output=True)
    url = satchel_server("--workers", "1", env=env)
    assert (data / "data.db").exists()
    token = httpx.post(
        f"{url}/api/collections/_superusers/auth-with-password",
        json={"identity": "root@example.com", "password": "root-password-1"},
    ).json()["token"]
    auth = {"Authorization": token}
    created = httpx.post(f"{url}/api/collections", headers=auth, json={
        "name": "pics", "listRule": "", "viewRule": "",
        "fields": [{"name": "img", "type": "file", "maxSelect": 1, "thumbs": ["10x10"]}],
    })
    assert created.status_code == 200, created.text
    png = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(png, "PNG")
    record = httpx.post(f"{url}/api/collections/pics/records", headers=auth, files={"img": ("a.png", png.getvalue(), "image/png")})
    assert record.status_code == 200, record.text
    name = record.json()["img"]
    thumb = httpx.get(f"{url}/api/files/pics/{record.json()['id']}/{name}", params={"thumb": "10x10"})
    # 400 pixels is over the environment's limit of 100: no thumb, the original comes back.
    assert thumb.status_code == 200
    assert thumb.content == png.getvalue()
    assert (data / "storage").is_dir() and not list((data / "storage").rglob("thumbs_*"))
