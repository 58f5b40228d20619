"""The object key layout shared by every backend: `{collectionId}/{recordId}/{filename}`.

Keys are only ever built here, from parts that are checked one by one, so no user
text can make a key that points outside its record's folder.
"""

from __future__ import annotations

import re

# Don't let a part break out of its folder: no separators, no dot names, no control chars.
_UNSAFE = re.compile(r"[/\\\x00-\x1f\x7f]")


def _part(value: str) -> str:
    if not value or value in (".", "..") or _UNSAFE.search(value):
        raise ValueError(f"unsafe storage key part: {value!r}")
    return value


def collection_prefix(collection_id: str) -> str:
    return f"{_part(collection_id)}/"


def record_prefix(collection_id: str, record_id: str) -> str:
    return f"{_part(collection_id)}/{_part(record_id)}/"


def file_key(collection_id: str, record_id: str, filename: str) -> str:
    return record_prefix(collection_id, record_id) + _part(filename)


def thumbs_prefix(collection_id: str, record_id: str, filename: str) -> str:
    return record_prefix(collection_id, record_id) + f"thumbs_{_part(filename)}/"


def thumb_key(collection_id: str, record_id: str, filename: str, size: str) -> str:
    return thumbs_prefix(collection_id, record_id, filename) + _part(f"{size}_{filename}")


def owner(key: str) -> tuple[str, str, str] | None:
    """The collection id, record id and file name a record file's or thumb's key belongs to;
    None for a key of any other shape (not one Satchel wrote for a record)."""
    parts = key.split("/")
    if len(parts) == 3 and all(parts):
        return parts[0], parts[1], parts[2]
    if len(parts) == 4 and all(parts) and parts[2].startswith("thumbs_"):
        filename = parts[2].removeprefix("thumbs_")
        if filename and parts[3].endswith("_" + filename):
            return parts[0], parts[1], filename
    return None


def is_record_file(key: str) -> bool:
    """A record's own file, not a thumb (thumbs regenerate) nor another object sharing the
    bucket (backups among them), which is not Satchel's to copy or to delete."""
    return key.count("/") == 2 and owner(key) is not None
