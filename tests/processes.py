"""Looking at processes through Linux /proc in tests."""

from __future__ import annotations

from pathlib import Path


def running(pid: int) -> bool:
    """True while ``pid`` runs: False once it has ended, as a zombie or reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:  # ended and reaped, perhaps between two checks
        return False
    return state != "Z"  # a zombie has ended; its parent or init reaps it
