"""`satchel serve | superuser upsert | superuser delete`, shaped like PocketBase's CLI."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys

from .config import Config


def _config(args: argparse.Namespace) -> Config:
    return Config(data_dir=args.dir, db_url=args.db_url or os.environ.get("SATCHEL_DB_URL", ""))


def migrate(args: argparse.Namespace) -> int:
    from .core.state import Satchel

    sat = Satchel(_config(args))
    sat.init_sync()
    sat.db.dispose()
    return 0


def serve(args: argparse.Namespace) -> int:
    config = _config(args)
    # Create the schema once, before the workers start, in a child process: the supervisor
    # itself never imports the app, so it stays a few MB instead of holding a copy of it.
    command = [sys.executable, "-m", "satchel", "migrate", "--dir", config.data_dir, "--db-url", config.db_url]
    if subprocess.run(command).returncode != 0:
        return 1
    host, _, port = args.http.rpartition(":")
    os.environ.update(config.to_env())
    print(f"Server started at http://{args.http}\n├─ REST API:  http://{args.http}/api/\n└─ Data:      {os.path.abspath(config.data_dir)}", flush=True)
    if args.dev:
        import uvicorn

        uvicorn.run("satchel.app:create_app", factory=True, host=host or "127.0.0.1", port=int(port), log_level="warning")
        return 0
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "satchel.app:create_app",
        factory=True,
        address=host or "127.0.0.1",
        port=int(port),
        interface=Interfaces.ASGI,
        workers=args.workers,
        log_access=False,
    ).serve()
    return 0


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
        sat.db.dispose()
    print(message)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="satchel", description="A PocketBase-compatible backend in Python.")
    commands = root.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dir", default="./sb_data", help="the data directory (default ./sb_data)")
        p.add_argument("--db-url", default="", help="postgresql://… to use PostgreSQL instead of {dir}/data.db")

    run = commands.add_parser("serve", help="start the web server")
    common(run)
    run.add_argument("--http", default="127.0.0.1:8090", help="TCP address to listen on")
    run.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: one per core)")
    run.add_argument("--dev", action="store_true", help="serve with uvicorn, for development")
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
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)
