"""Satchel against PocketBase, side by side: `make bench` (see bench/README.md)."""
