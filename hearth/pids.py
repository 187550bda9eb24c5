"""Whether a process still runs: what a killed Hearth command left behind is
swept (scratch folders, the state file's temporaries) and its lease taken over
only when its process is gone."""

import os


def alive(pid: int) -> bool:
    """True unless this machine has no process `pid` (not ours counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: someone else's process, still running
        return True
    return True
