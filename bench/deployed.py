"""Satchel as `pip install .` leaves it: the runtime dependencies only, in a venv of its own.

The dev venv also holds the test tools, and one of them (moto) pulls in `cryptography`, which
PyJWT then imports: about 12 MB per process that no deployment carries. Measuring Satchel from
that venv would charge its memory figures for the test suite.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def deployed_satchel(out: str) -> str:
    """The `satchel` command of a runtime-only venv under `out`, (re)made when pyproject.toml changes."""
    venv = os.path.join(out, "deployed-venv")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        stamp = hashlib.sha256(f.read()).hexdigest()
    stamp_path = os.path.join(venv, ".installed")
    if not os.path.exists(stamp_path) or open(stamp_path).read() != stamp:
        print(f"[bench] installing Satchel's runtime dependencies into {venv}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True)
        # Editable, so the venv serves the working tree being measured, not a copy of it.
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--quiet", "-e", ROOT], check=True)
        with open(stamp_path, "w") as f:
            f.write(stamp)
    return os.path.join(venv, "bin", "satchel")
