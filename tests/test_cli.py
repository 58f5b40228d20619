"""The command line: what `satchel serve` is told by default."""

from __future__ import annotations

from satchel.cli import parser


def test_serve_defaults_to_pocketbases_address_and_a_growing_pool():
    args = parser().parse_args(["serve"])
    assert (args.http, args.dir, args.workers, args.helper) == ("127.0.0.1:8090", None, None, 0)


def test_serve_takes_a_fixed_worker_count():
    assert parser().parse_args(["serve", "--workers", "2"]).workers == 2
