"""The import from start to end: plan, settings, collections, files, records, then a check of all of it.

Files are written before the records that name them (a crash leaves at worst a file no row
names yet, never a row without its file), and everything is written by id or key, so a run
cut short is finished by running it again.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...config import Config
from ...db.foreign import refuse_pocketbase_dir
from ...db.pocketbase import PocketBaseDB
from ...storage.base import ObjectInfo, Storage
from ...storage.local import LocalStorage
from ..collection_model import Collection
from ..schema import Schema, table_for
from ..state import DEFAULT_SETTINGS, Satchel, s3_storage
from . import records
from .files import FileTally, copy_file, each, matches, record_files
from .plan import Plan, has_own_rows, make_plan
from .target import ImportRefused, apply_collections, clashes, merged_settings
from .values import RowConverter

Progress = Callable[[str], None]


class ImportStopped(Exception):
    """A write failed part-way (a unique index of the target, say); a re-run resumes once it is fixed."""


@dataclass
class CollectionTally:
    name: str
    id: str
    records: int = 0
    inserted: int = 0
    updated: int = 0
    missing_files: int = 0  # named by a record, absent from PocketBase's own storage


@dataclass
class Summary:
    dry_run: bool
    collections: list[CollectionTally] = field(default_factory=list)
    files: FileTally = field(default_factory=FileTally)
    mismatched_records: list[str] = field(default_factory=list)  # "collection/id"
    left_out: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # the target's own collections, untouched
    settings_taken: list[str] = field(default_factory=list)
    settings_unknown: list[str] = field(default_factory=list)
    storage: str = ""  # where the files went, in words

    @property
    def mismatches(self) -> int:
        return len(self.mismatched_records) + len(self.files.mismatched)


def _quiet(_: str) -> None:
    return None


def source_storage(pb_dir: str, settings: dict[str, Any] | None) -> Storage | None:
    """Where PocketBase kept its files: its S3 bucket, or `storage/` (None: it stored none)."""
    s3 = (settings or {}).get("s3") or {}
    if s3.get("enabled"):
        return s3_storage(s3)
    root = os.path.join(pb_dir, "storage")
    return LocalStorage(root) if os.path.isdir(root) else None  # never create anything there


def _same_bucket(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(a.get("enabled") and b.get("enabled")) and (a.get("endpoint"), a.get("bucket")) == (b.get("endpoint"), b.get("bucket"))


async def import_pocketbase(
    config: Config, pb_dir: str, dry_run: bool = False, progress: Progress = _quiet, with_settings: bool = True,
) -> Summary:
    """Import `pb_dir` into the database and storage `config` names (dry run: only read it;
    without settings: Satchel's stay as they are)."""
    refuse_pocketbase_dir(config.data_dir)  # the target is never a PocketBase's, not even for a dry run
    pb = PocketBaseDB(pb_dir)
    try:
        plan = make_plan(pb, with_settings)
        if plan.problems:
            raise ImportRefused(plan.problems)
        if dry_run:
            return await _dry_run(pb, pb_dir, plan, progress)
        sat = Satchel(config)
        try:
            sat.init_sync()
            return await _import(sat, pb, pb_dir, plan, progress)
        finally:
            sat.spool.close()
            sat.dispose()
    finally:
        pb.close()


async def _dry_run(pb: PocketBaseDB, pb_dir: str, plan: Plan, progress: Progress) -> Summary:
    """Read everything the import would read, convert every record, write nothing anywhere."""
    summary = Summary(dry_run=True, left_out=plan.left_out)
    if plan.settings is not None:
        _, summary.settings_taken, summary.settings_unknown = merged_settings(plan.settings, copy.deepcopy(DEFAULT_SETTINGS))
    source = source_storage(pb_dir, plan.settings)
    if source is not None:
        async for key, info in record_files(source, summary.files):
            _count_file(summary.files, key, info.size)
            progress(f"reading files: {sum(summary.files.files.values())}")
    for collection in filter(has_own_rows, plan.collections):
        tally = CollectionTally(collection.name, collection.id)
        summary.collections.append(tally)
        convert = RowConverter(collection)
        for batch in pb.batches(collection.name):
            rows = [convert(raw) for raw in batch]  # as the import would write them
            tally.records += len(rows)
            tally.missing_files += _missing_files(summary.files, convert, rows)
            progress(f"reading {collection.name}: {tally.records} records")
    summary.storage = "nothing written (dry run)"
    return summary


def _count_file(tally: FileTally, key: str, size: int) -> None:
    collection_id = key.split("/", 1)[0]
    tally.keys.add(key)
    tally.files[collection_id] += 1
    tally.bytes[collection_id] += size


async def _import(sat: Satchel, pb: PocketBaseDB, pb_dir: str, plan: Plan, progress: Progress) -> Summary:
    summary = Summary(dry_run=False, left_out=plan.left_out)
    problems = await sat.db.read(clashes, sat.schema, plan.collections)
    if problems:
        raise ImportRefused(problems)
    summary.kept = await sat.change_schema(apply_collections, plan.collections)  # first: a view may still refuse
    if plan.settings is not None:
        stored, summary.settings_taken, summary.settings_unknown = merged_settings(plan.settings, sat.settings)
        await sat.change_settings(lambda _current: stored)
    source, target = source_storage(pb_dir, plan.settings), sat.storage()
    same_place = _same_bucket((plan.settings or {}).get("s3") or {}, sat.settings["s3"])
    summary.storage = _where(sat, same_place)
    if source is not None:
        await _copy_files(sat, source, target, same_place, summary, progress)
    for collection in filter(has_own_rows, plan.collections):
        summary.collections.append(await _copy_records(sat, pb, collection, summary.files, progress))
    await _verify(sat, pb, plan, source, target, same_place, summary, progress)
    return summary


def _where(sat: Satchel, same_place: bool) -> str:
    s3 = sat.settings["s3"]
    if same_place:
        return f"already in S3 bucket {s3['bucket']!r}, which Satchel now uses: verified, not copied"
    if s3.get("enabled"):
        return f"copied to S3 bucket {s3['bucket']!r}"
    return f"copied to {os.path.abspath(sat.config.storage_dir)}"


async def _copy_files(sat: Satchel, source: Storage, target: Storage, same_place: bool, summary: Summary, progress: Progress) -> None:
    tally = summary.files

    async def copy(item: tuple[str, ObjectInfo]) -> None:
        key, info = item
        _count_file(tally, key, info.size)
        if same_place:
            return
        if await copy_file(source, target, key, info, sat.spool.folder()):
            tally.copied += 1
        else:
            tally.skipped += 1
        progress(f"files: {tally.copied} copied, {tally.skipped} already there, {sum(tally.bytes.values())} bytes")

    await each(record_files(source, tally), copy)


async def _copy_records(sat: Satchel, pb: PocketBaseDB, collection: Collection, files: FileTally, progress: Progress) -> CollectionTally:
    tally = CollectionTally(collection.name, collection.id)
    table, convert = table_for(collection), RowConverter(collection)
    for batch in pb.batches(collection.name):
        rows = [convert(raw) for raw in batch]
        try:
            inserted, updated = await sat.db.write(records.upsert, table, rows)
        except sa.exc.IntegrityError as exc:
            raise ImportStopped(
                f"records of {collection.name!r} clash with records Satchel's database already has ({exc.orig}); "
                "remove those from Satchel (or import into a fresh database) and run the import again"
            ) from None
        except sa.exc.DataError as exc:  # PostgreSQL: text holding a NUL character, say
            raise ImportStopped(f"records of {collection.name!r} hold a value this database can't store ({exc.orig})") from None
        tally.records += len(rows)
        tally.inserted += inserted
        tally.updated += updated
        tally.missing_files += _missing_files(files, convert, rows)
        progress(f"{collection.name}: {tally.records} records ({tally.inserted} new, {tally.updated} updated)")
    return tally


def _missing_files(files: FileTally, convert: RowConverter, rows: list[dict[str, Any]]) -> int:
    """How many files the rows name that PocketBase's own storage lacks (its data, not the import's doing)."""
    prefix = convert.collection.id
    return sum(f"{prefix}/{row['id']}/{name}" not in files.keys for row in rows for name in convert.file_names(row))


async def _verify(
    sat: Satchel, pb: PocketBaseDB, plan: Plan, source: Storage | None, target: Storage, same_place: bool,
    summary: Summary, progress: Progress,
) -> None:
    """Read both sides again: every record equal, every file equal byte for byte."""
    schema = Schema(plan.collections)
    for collection in filter(has_own_rows, plan.collections):
        convert = RowConverter(collection)
        for batch in pb.batches(collection.name):
            rows = [convert(raw) for raw in batch]
            wrong = await sat.db.read(records.mismatched, schema.table(collection), rows)
            summary.mismatched_records.extend(f"{collection.name}/{record_id}" for record_id in wrong)
            progress(f"checking {collection.name}")
    if source is None:
        return
    checked = 0

    async def check(item: tuple[str, ObjectInfo]) -> None:
        nonlocal checked
        key, info = item
        if not await matches(source, target, key, info, same_place):
            summary.files.mismatched.append(key)
        checked += 1
        progress(f"checking files: {checked}")

    await each(record_files(source, FileTally()), check)
