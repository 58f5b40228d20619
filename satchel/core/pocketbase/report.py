"""The verification summary an import ends with, as plain text (no setting's value: secrets stay out)."""

from __future__ import annotations

from .run import Summary


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def summary_text(summary: Summary) -> str:
    verb = "would import" if summary.dry_run else "imported"
    lines = [f"{'collection':<24} {'id':<20} {'records':>8} {'new':>8} {'updated':>8} {'files':>7} {'bytes':>10}"]
    for c in summary.collections:
        new, updated = ("-", "-") if summary.dry_run else (c.inserted, c.updated)
        lines.append(
            f"{c.name:<24} {c.id:<20} {c.records:>8} {new:>8} {updated:>8} {summary.files.files[c.id]:>7} {_size(summary.files.bytes[c.id]):>10}"
        )
    records = sum(c.records for c in summary.collections)
    files, size = sum(summary.files.files.values()), sum(summary.files.bytes.values())
    lines.append(f"{verb}: {len(summary.collections)} collections, {records} records, {files} files ({_size(size)})")
    if not summary.dry_run:
        lines.append(f"files: {summary.storage} ({summary.files.copied} copied, {summary.files.skipped} already there)")
    elif summary.storage:
        lines.append(f"files: {summary.storage}")
    if summary.files.others:
        lines.append(f"not copied: {summary.files.others} stored object(s) other than record files: thumbs (they regenerate) and the like")
    if summary.settings_taken:
        lines.append(f"settings {verb}: {', '.join(summary.settings_taken)}")
    else:
        lines.append("settings: none taken from PocketBase (Satchel's stay as they are)")
    if summary.settings_unknown:
        lines.append(f"settings left out (Satchel has no such setting): {', '.join(summary.settings_unknown)}")
    for sentence in summary.left_out:
        lines.append(f"left out: {sentence}")
    if summary.kept:
        lines.append(f"Satchel's own collections, not in PocketBase, left as they were: {', '.join(summary.kept)}")
    missing = sum(c.missing_files for c in summary.collections)
    if missing:
        lines.append(f"warning: records name {missing} files that PocketBase's own storage lacks")
    lines.append("request logs (auxiliary.db) are not imported")
    if not summary.dry_run:
        lines.append(f"verification: mismatches = {summary.mismatches}")
        for where in (summary.mismatched_records + summary.files.mismatched)[:20]:
            lines.append(f"  mismatch: {where}")
    return "\n".join(lines)
