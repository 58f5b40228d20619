"""Wakes the realtime readers of every process on this host that share one SQLite database.

Each reading process binds a unix datagram socket in a folder named after the database; a writer
sends one byte to each after its commit, and the reader then reads the log. The log stays the
only carrier of events, so a lost or merged ring costs nothing but waiting for the next one (or
the reader's slow safety poll). Sockets of processes that died are removed by the next ring.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import socket
import tempfile


class Doorbell:
    def __init__(self, database_path: str) -> None:
        digest = hashlib.sha256(os.path.abspath(database_path).encode()).hexdigest()[:16]
        # under the temp dir, not the data dir: a unix socket path must fit in 108 bytes
        self.folder = os.path.join(tempfile.gettempdir(), f"satchel-rt-{digest}")
        self._sender: socket.socket | None = None  # made at the first ring that finds a listener
        self._path = ""

    def listen(self) -> socket.socket:
        """A non-blocking socket that receives a byte at every ring from now on."""
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._path = os.path.join(self.folder, f"{os.getpid()}-{secrets.token_hex(4)}")
        sock.bind(self._path)
        sock.setblocking(False)
        return sock

    def ring(self) -> None:
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return  # nobody listens yet
        if names and self._sender is None:
            self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sender.setblocking(False)
        sender = self._sender
        for name in names:
            path = os.path.join(self.folder, name)
            try:
                sender.sendto(b"!", path)  # type: ignore[union-attr]
            except BlockingIOError:
                pass  # its queue is full: it is already due to read
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)  # its process is gone
            except (OSError, AttributeError):
                return  # closed at shutdown, under a last writer

    def close(self, sock: socket.socket) -> None:
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)

    def close_sender(self) -> None:
        if self._sender is not None:
            self._sender.close()
            self._sender = None
