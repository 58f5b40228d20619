"""File fields on record saves: which names a save keeps, adds and drops, their checks, and storage.

The order is PocketBase's and it is what keeps rows and files in agreement:
validate, write new files, commit the row, then delete the files it no longer names.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import field_error
from ..files.mime import mime_allowed, sniff_file
from ..files.names import normalize_filename, original_name_metadata, shown_name
from ..storage import keys
from ..storage.base import Storage
from .collection_model import Collection
from .fields import FileField, field_type, field_type_as
from .fields.casting import to_str_list
from .record_data import split_key

log = logging.getLogger("satchel.files")


@dataclass
class NewFile:
    name: str
    path: str
    original: str
    size: int
    content_type: str


Entry = str | NewFile


def _entry_name(entry: Entry) -> str:
    return entry.name if isinstance(entry, NewFile) else entry


def new_file(upload: Any) -> NewFile:
    mime = sniff_file(upload.path)
    return NewFile(normalize_filename(upload.filename, mime), upload.path, upload.filename, upload.size, mime)


def _entries(value: Any) -> list[Entry]:
    if isinstance(value, list) and any(isinstance(v, NewFile) for v in value):
        return [v for v in value if isinstance(v, NewFile) or (isinstance(v, str) and v)]
    if isinstance(value, NewFile):
        return [value]
    return list(to_str_list(value))


def _dedupe(entries: list[Entry]) -> list[Entry]:
    seen: set[str] = set()
    out = []
    for entry in entries:
        name = _entry_name(entry)
        if name and name not in seen:
            seen.add(name)
            out.append(entry)
    return out


def resolve(field: dict[str, Any], current: Any, values: dict[str, Any], uploads: dict[str, list[Any]]) -> list[Entry] | None:
    """The field's new entries after this request, or None when the request doesn't touch it."""
    name = field["name"]
    data: dict[str, Any] = {k: v for k, v in values.items() if split_key(k)[0] == name}
    if uploads.get(name):
        # As in the reference: uploads under the plain name replace what the body's modifiers made
        # of the field; only the body's own plain value is kept beside them.
        data = {k: v for k, v in data.items() if k == name}
    for key in (name, name + "+", "+" + name):
        files = [new_file(u) for u in uploads.get(key, [])]
        if not files:
            continue
        text = data.get(key)
        data[key] = (_entries(text) if text is not None else []) + files
    if not data:
        return None
    entries = _entries(current)
    for key in sorted(data, key=len):
        _, modifier = split_key(key)
        given = _entries(data[key])
        if modifier == "":
            entries = given
        elif modifier == "+":
            entries = entries + given
        elif modifier == "^":
            entries = given + entries
        else:
            drop = {_entry_name(e) for e in given}
            entries = [e for e in entries if _entry_name(e) not in drop]
    entries = _dedupe(entries)
    if not field_type(field).is_multiple(field):
        entries = entries[-1:]
    return entries


def names(entries: list[Entry]) -> list[str]:
    return [_entry_name(e) for e in entries]


def validate(field: dict[str, Any], entries: Sequence[Entry], db_names: list[str]) -> dict[str, Any] | None:
    """The first failing rule, in PocketBase's order: blank, unknown names, count, each upload."""
    ftype = field_type_as(field, FileField)
    if not entries:
        return field_error("validation_required", "Cannot be blank.") if field.get("required") else None
    unknown = [e for e in entries if isinstance(e, str) and e not in db_names]
    if unknown:
        listed = " ".join(n.encode()[:250].decode(errors="ignore") for n in unknown)
        return field_error("validation_invalid_file", f"Invalid new files: [{listed}].", {"invalidFiles": unknown})
    limit = ftype.max_select(field)
    if len(entries) > limit:
        return field_error("validation_too_many_files", f"The maximum allowed files is {limit}.", {"maxSelect": limit})
    max_size = ftype.max_size(field)
    for entry in entries:
        if not isinstance(entry, NewFile):
            continue
        if entry.size > max_size:
            original = shown_name(entry.original)
            shown = original if len(original.encode()) <= 300 else original.encode()[:300].decode(errors="ignore") + "..."
            return field_error(
                "validation_file_size_limit",
                f"Failed to upload {original} - the maximum allowed file size is {max_size} bytes.",
                {"file": shown, "maxSize": max_size},
            )
        allowed = field.get("mimeTypes") or []
        if allowed and not mime_allowed(entry.content_type, allowed):
            return field_error("validation_invalid_mime_type", f'"{entry.name}" mime type must be one of: {", ".join(allowed)}.')
    return None


async def store_new(storage: Storage, collection: Collection, record_id: str, entries: list[Entry]) -> list[str]:
    """Upload the new files; on the first failure delete what this call wrote and re-raise."""
    written: list[str] = []
    try:
        for entry in entries:
            if isinstance(entry, NewFile):
                key = keys.file_key(collection.id, record_id, entry.name)
                metadata = {"original-filename": original_name_metadata(entry.original)}
                await storage.put_file(key, entry.path, entry.content_type, metadata)
                written.append(key)
    except Exception:
        await delete_keys(storage, written)
        raise
    return written


async def delete_keys(storage: Storage, written: list[str]) -> None:
    for key in written:
        try:
            await storage.delete(key)
        except Exception:
            log.warning("could not delete %s", key, exc_info=True)


async def delete_removed(storage: Storage, collection: Collection, record_id: str, old: list[str], new: list[str]) -> None:
    """After the commit: drop each file the record no longer names, with its thumbs folder."""
    for name in old:
        if name in new:
            continue
        try:
            await storage.delete(keys.file_key(collection.id, record_id, name))
            await storage.delete_prefix(keys.thumbs_prefix(collection.id, record_id, name))
        except Exception:
            log.warning("could not delete %s of record %s", name, record_id, exc_info=True)
