"""`satchel serve | superuser upsert | superuser delete`, shaped like PocketBase's CLI."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

from .config import Config
from .db.foreign import ForeignDataDirError


def _config(args: argparse.Namespace) -> Config:
    """The environment's configuration with the flags that were given on top."""
    try:
        return Config.from_env(data_dir=args.dir, db_url=args.db_url)
    except ValueError as exc:
        sys.exit(f"Error: {exc}")


def migrate(args: argparse.Namespace) -> int:
    from .core.state import Satchel

    sat = Satchel(_config(args))
    sat.init_sync()
    sat.dispose()
    return 0


def serve(args: argparse.Namespace) -> int:
    from . import logsetup, server

    config = _config(args)
    try:
        log_config = logsetup.configure(config.log_level, config.log_format)
    except ValueError as exc:
        sys.exit(f"Error: {exc}")
    host, _, port = args.http.rpartition(":")
    host = host or "127.0.0.1"
    os.environ.update(config.to_env())
    fixed = args.workers is not None
    if args.helper:
        server.serve(host, int(port), server.helper_watch(args.helper, fixed), log_config)
    migrate(args)  # once, before any helper process can start and race to create the schema
    print(f"Server started at http://{args.http}\n├─ REST API:  http://{args.http}/api/\n└─ Data:      {os.path.abspath(config.data_dir)}", flush=True)
    if args.dev:
        import uvicorn

        uvicorn.run("satchel.app:create_app", factory=True, host=host, port=int(port), log_config=None, access_log=False)
        return 0
    command = [
        sys.executable, "-m", "satchel", "serve", "--http", args.http, "--dir", config.data_dir,
        "--db-url", config.db_url, "--helper", str(os.getpid()), *(["--workers", str(args.workers)] if fixed else []),
    ]
    limit = (args.workers if fixed else (os.cpu_count() or 1)) - 1
    server.serve(host, int(port), server.Helpers(command, limit, fixed).watch, log_config)


def superuser(args: argparse.Namespace) -> int:
    from .core import superusers
    from .core.state import Satchel

    sat = Satchel(_config(args))
    sat.init_sync()
    try:
        if args.action == "upsert":
            if not args.password:
                print("Missing password argument.", file=sys.stderr)
                return 1
            message = asyncio.run(superusers.upsert(sat, args.email, args.password))
        else:
            message = asyncio.run(superusers.delete(sat, args.email))
    except ValueError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    finally:
        sat.dispose()
    print(message)
    return 0


def backup(args: argparse.Namespace) -> int:
    """Make a backup as `POST /api/backups` does (same archive, same place, same one-at-a-time rule)."""
    from .core import backups

    if args.name and not backups.NAME.match(args.name):
        print(f"Error: invalid backup name {args.name!r} (a-z, 0-9, _ and -, ending in .zip)", file=sys.stderr)
        return 1
    return _run_backup_job(args, lambda sat: backups.create_backup(sat, args.name or ""), "Successfully created backup {}.")


def restore(args: argparse.Namespace) -> int:
    """Restore a backup as `POST /api/backups/{key}/restore` does; running servers reload."""
    from .core import backups

    async def job(sat: Any) -> str:
        if not await backups.exists(sat, args.key):
            raise ValueError(f"missing or invalid backup file {args.key!r}")
        await backups.restore_backup(sat, args.key)
        return args.key

    return _run_backup_job(args, job, "Successfully restored backup {}.")


def export_pocketbase(args: argparse.Namespace) -> int:
    """Write a pb_data that PocketBase 0.40.6 opens and serves, from this deployment's data and files."""
    from .core.pocketbase_export import export_pocketbase as export
    from .core.state import Satchel

    sat = Satchel(_config(args))
    sat.init_sync()
    try:
        summary = asyncio.run(export(sat, args.out_dir))
    except ValueError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    finally:
        sat.spool.close()
        sat.db.dispose()
    for name, count in sorted(summary.records.items()):
        print(f"{name}: {count} records")
    print(f"{summary.files} files, {summary.bytes} bytes")
    print(f"Successfully exported to {args.out_dir}: run `pocketbase serve --dir {args.out_dir}`.")
    return 0


def repair_relations(args: argparse.Namespace) -> int:
    """List relation values naming records that no longer exist; with --apply, take them out
    where PocketBase's delete would have (one transaction). See core/dangling_relations.py."""
    from .core import dangling_relations as dangling
    from .core.state import Satchel

    sat = Satchel(_config(args))
    sat.init_sync()
    try:
        run = sat.db.write_sync if args.apply else sat.db.read_sync
        found = run(dangling.repair if args.apply else dangling.find, sat.schema)
    finally:
        sat.spool.close()
        sat.db.dispose()
    for item in found:
        what = {
            dangling.DROP: "removed" if args.apply else "would remove (--apply)",
            dangling.CASCADE: "left: PocketBase would have deleted this record (cascadeDelete); delete it or set the field",
            dangling.REQUIRED: "left: the field is required and names no other record; set it or delete the record",
        }[item.action]
        print(f"{item.collection} {item.record} {item.field}: missing {', '.join(item.missing)}: {what}")
    dropped = sum(1 for item in found if item.action == dangling.DROP)
    done = "repaired" if args.apply else "repairable with --apply"
    print(f"{len(found)} relation values name missing records; {dropped} {done}, {len(found) - dropped} to settle by hand.")
    return 0


def _run_backup_job(args: argparse.Namespace, job: Callable[[Any], Coroutine[Any, Any, str]], done: str) -> int:
    from .core.backup_archive import InvalidArchive
    from .core.backups import BackupBusy
    from .core.state import Satchel

    sat = Satchel(_config(args))
    sat.init_sync()
    try:
        key = asyncio.run(job(sat))
    except InvalidArchive as exc:
        print(f"Error: not a Satchel backup: {exc}", file=sys.stderr)
        return 1
    except (BackupBusy, ValueError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    finally:
        sat.spool.close()
        sat.db.dispose()
    print(done.format(f'"{key}"'))
    return 0


class _Progress:
    """One line on stderr, rewritten in place, only when stderr is a terminal; at most 10 a second."""

    def __init__(self) -> None:
        self.on = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, text: str) -> None:
        now = time.monotonic()
        if self.on and now - self.last >= 0.1:
            self.last = now
            sys.stderr.write(f"\r\x1b[K{text[:150]}")
            sys.stderr.flush()

    def end(self) -> None:
        if self.on and self.last:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def import_pocketbase(args: argparse.Namespace) -> int:
    """Move a stopped PocketBase's data directory into this Satchel's database and storage."""
    from .core.pocketbase.report import summary_text
    from .core.pocketbase.run import ImportStopped
    from .core.pocketbase.run import import_pocketbase as run_import
    from .core.pocketbase.target import ImportRefused
    from .db.pocketbase import PocketBaseReadError
    from .storage.base import StorageError

    progress = _Progress()
    try:
        summary = asyncio.run(run_import(_config(args), args.pb_dir, args.dry_run, progress, not args.without_settings))
    except (PocketBaseReadError, StorageError, ImportStopped) as exc:
        progress.end()
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except ImportRefused as exc:
        progress.end()
        print("Error: nothing was imported, because Satchel can't carry all of it:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    progress.end()
    print(summary_text(summary))
    return 0 if summary.mismatches == 0 else 1


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="satchel", description="A PocketBase-compatible backend in Python.")
    commands = root.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dir", help="the data directory (default: $SATCHEL_DIR, else ./sb_data)")
        p.add_argument("--db-url", help="postgresql://… to use PostgreSQL instead of {dir}/data.db (default: $SATCHEL_DB_URL)")

    run = commands.add_parser("serve", help="start the web server")
    common(run)
    run.add_argument("--http", default="127.0.0.1:8090", help="TCP address to listen on")
    run.add_argument(
        "--workers", type=int, default=None,
        help="serve with this many processes (default: one at rest, up to one per core while busy)",
    )
    run.add_argument("--dev", action="store_true", help="serve with uvicorn, for development")
    run.add_argument("--helper", type=int, default=0, help=argparse.SUPPRESS)  # the pid of the process that started this one
    run.set_defaults(func=serve)

    init = commands.add_parser("migrate", help="create or update the system tables, then exit")
    common(init)
    init.set_defaults(func=migrate)

    su = commands.add_parser("superuser", help="manage superusers")
    su.add_argument("action", choices=["upsert", "delete"])
    su.add_argument("email")
    su.add_argument("password", nargs="?", default="")
    common(su)
    su.set_defaults(func=superuser)

    make = commands.add_parser("backup", help="back up the database and the stored files into {dir}/backups")
    make.add_argument("name", nargs="?", default="", help="the backup's file name (default: pb_backup_{app}_{time}.zip)")
    common(make)
    make.set_defaults(func=backup)

    back = commands.add_parser("restore", help="replace the database and the stored files with a backup's")
    back.add_argument("key", help="the backup's file name, as `GET /api/backups` lists it")
    common(back)
    back.set_defaults(func=restore)

    out = commands.add_parser("export-pocketbase", help="write a pb_data directory that PocketBase 0.40.6 opens and serves")
    out.add_argument("out_dir", help="a new or empty directory")
    common(out)
    out.set_defaults(func=export_pocketbase)

    fix = commands.add_parser("repair-relations", help="list relation values naming deleted records (left by an older Satchel); --apply removes them")
    fix.add_argument("--apply", action="store_true", help="take the missing ids out, in one transaction, where PocketBase's delete would have")
    common(fix)
    fix.set_defaults(func=repair_relations)

    move = commands.add_parser("import-pocketbase", help="move a stopped PocketBase 0.23-0.40 data directory into this Satchel")
    move.add_argument("pb_dir", metavar="PB_DATA_DIR", help="PocketBase's data directory (pb_data); it is only read")
    move.add_argument("--dry-run", action="store_true", help="read and check everything, write nothing")
    move.add_argument("--without-settings", action="store_true", help="leave PocketBase's settings out (Satchel's stay as they are)")
    common(move)
    move.set_defaults(func=import_pocketbase)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ForeignDataDirError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
