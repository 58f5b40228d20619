"""CSV and TSV: records counted like Go's encoding/csv, and the consistent-width test."""

from __future__ import annotations

from .scan import READ_LIMIT, Test


class _Records:
    """Counts fields per record like encoding/csv, with '#' comments and blank lines skipped."""

    def __init__(self, b: bytes, sep: int) -> None:
        self.b, self.i, self.sep = b, 0, sep

    def _read_line(self) -> tuple[bytes, bool]:
        end = self.b.find(b"\n", self.i)
        end = len(self.b) if end == -1 else end + 1
        line, self.i = self.b[self.i:end], end
        if line.endswith(b"\r"):
            return line[:-1], False
        if line.endswith(b"\r\n"):
            return line[:-2], True
        return line, False

    def count(self) -> int:
        """Fields in the next record, or 0 when there is none."""
        done = False
        while True:
            line, cut_short = self._read_line()
            if done:
                return 0
            done = self.i >= len(self.b) and not line
            if line in (b"", b"\n") or line[0] == ord("#"):
                continue
            break
        fields = 0
        while True:
            if not line.startswith(b'"'):
                fields += 1
                k = line.find(self.sep)
                if k == -1:
                    return fields
                line = line[k + 1:]
                continue
            line = line[1:]
            while True:
                k = line.find(b'"')
                if k >= 0:
                    line = line[k + 1:]
                    if line.startswith(b'"'):
                        line = line[1:]
                    elif line[:1] == bytes([self.sep]):
                        line, fields = line[1:], fields + 1
                        break
                    elif line in (b"", b"\n"):
                        return fields + 1
                elif line or cut_short:
                    line, cut_short = self._read_line()
                else:
                    return fields + 1


def separated(sep: bytes) -> Test:
    """A header of 2+ fields, then rows with as many (10 lines do); a cut last row may be short."""
    def test(b: bytes) -> bool:
        records = _Records(b, sep[0])
        header = records.count()
        if header < 2:
            return False
        lines = 1
        while (fields := records.count()) != 0:
            if fields != header:
                cut_short = len(b) >= READ_LIMIT and fields < header and records.i >= len(b)
                return cut_short and lines >= 2
            lines += 1
            if lines >= 10:
                return True
        return lines >= 2
    return test
