"""One command at a time per target: a lease kept on the target itself.

Every kind of target stores small records beside what it serves (a file
next to the document root, an object under `.hearth/` in the bucket, a ref
`refs/hearth/...` in the git remote), through four primitives each target
implements: lease_read, lease_create (exclusive: fails if it exists),
lease_write and lease_remove.

- `lock`: held by the command running on the target (publish, withdraw,
  lock). It names the command, the process (pid, a hash of the host name)
  and a heartbeat the holder renews every HEARTBEAT seconds. A holder that
  died is recognised at once on the same computer (its pid is gone) and
  after LEASE seconds without a heartbeat anywhere; its lock is then taken
  over. A lock left behind also means a command stopped half done, which
  `status` reports.
- `preempt`: written by a withdraw or a lock that finds a publish holding
  the target. The publish checks it while it runs and right before its
  switch, and stops without switching; the withdraw or lock then takes the
  target. So a take-down is never refused and never undone by the publish
  it overlapped.

A second command waits for the holder up to HEARTH_LOCK_WAIT seconds
(default 300), saying so, then stops with a message.
"""

import contextlib
import hashlib
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from hearth import pids
from hearth.release import read_record
from hearth.targets.base import Target, TargetError

# A lease record as stored (JSON): command, pid, host, started, heartbeat, token.
Record = dict[str, Any]

LEASE = 60  # seconds without a heartbeat after which a holder counts as dead
HEARTBEAT = 10
POLL = 0.5
WAIT_VARIABLE = "HEARTH_LOCK_WAIT"
DEFAULT_WAIT = 300
# Commands that take precedence over a publish they overlap.
TAKE_DOWN = ("withdraw", "lock")


def host_id() -> str:
    """This computer, as a hash: the lock may sit on a public host."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:12]


def parse(data: bytes | None) -> Record | None:
    """A lease record, or None when absent or unreadable."""
    return read_record(data)


def is_stale(record: Record, now: float | None = None) -> bool:
    """True when the holder of `record` is known dead or silent too long."""
    now = time.time() if now is None else now
    try:
        beat = float(record.get("heartbeat", 0))
        pid = int(record.get("pid", 0))
    except (TypeError, ValueError):
        return True
    if record.get("host") == host_id() and pid and not pids.alive(pid):
        return True
    if record.get("host") == host_id() and pid == os.getpid():
        # This very process: stale unless one of its leases still holds it.
        return record.get("token") not in _HELD
    return now - beat > LEASE


def _token(record: Record) -> str:
    # A record Hearth wrote always has one; a damaged one may not.
    return str(record.get("token") or "")


def describe(record: Record, now: float | None = None) -> str:
    """'a publish (pid 123 on this computer, started 12 s ago)'."""
    now = time.time() if now is None else now
    where = "this computer" if record.get("host") == host_id() else "another computer"
    try:
        ago = max(0, int(now - float(record.get("started", now))))
    except (TypeError, ValueError):
        ago = 0
    return (
        f"a {record.get('command', 'command')} (pid {record.get('pid')} on {where}, "
        f"started {ago} s ago)"
    )


def wait_limit(environ: Mapping[str, str] | None = None) -> float:
    """Seconds to wait for another command's lock ($HEARTH_LOCK_WAIT, 300)."""
    environ = os.environ if environ is None else environ
    try:
        return max(0.0, float(environ.get(WAIT_VARIABLE, DEFAULT_WAIT)))
    except ValueError:
        raise TargetError(
            f"{WAIT_VARIABLE}={environ.get(WAIT_VARIABLE)!r} is not a number of "
            "seconds: set it to e.g. 300, or unset it."
        ) from None


# Tokens of the leases this process holds now (and of its waiting preempts).
_HELD: set[str] = set()


class Preempted(TargetError):
    """A withdraw or a lock took precedence over this publish."""


class Lease:
    """The target's lock for one command, with its heartbeat; a context manager."""

    def __init__(
        self,
        target: Target,
        command: str,
        *,
        say: Callable[[str], object] | None = None,
        wait: float | None = None,
    ) -> None:
        self.target = target
        self.command = command
        self.say = say or (lambda message: None)
        self.wait = wait_limit() if wait is None else wait
        self.token = secrets.token_hex(8)
        self.record: Record | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_check = 0.0
        self._preempted_by_us = False
        self._abandoned = False
        self.lost = False

    def _record(self) -> Record:
        now = time.time()
        return {
            "hearth": 1,
            "command": self.command,
            "pid": os.getpid(),
            "host": host_id(),
            "started": self.record["started"] if self.record else now,
            "heartbeat": now,
            "token": self.token,
        }

    @staticmethod
    def _dump(record: Record) -> bytes:
        return json.dumps(record, sort_keys=True).encode()

    def __enter__(self) -> "Lease":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the target's lock, waiting (up to `wait` s) for another command."""
        _HELD.add(self.token)
        try:
            self._acquire()
        except BaseException:
            _HELD.discard(self.token)
            raise

    def _acquire(self) -> None:
        target = self.target
        deadline = time.monotonic() + self.wait
        told = None
        while True:
            self.record = self._record()
            if target.lease_create("lock", self._dump(self.record)):
                held = parse(target.lease_read("lock"))
                if held and held.get("token") == self.token:
                    break
                continue  # lost a race (a store without exclusive writes)
            held = parse(target.lease_read("lock"))
            if held is None:
                time.sleep(POLL / 5)
                continue
            if is_stale(held):
                self.say(
                    f"{target.display}: {describe(held)} stopped before it "
                    "finished; taking over its lock."
                )
                target.lease_remove("lock", self._dump(held), _token(held))
                continue
            takes_over = self.command in TAKE_DOWN and held.get("command") == "publish"
            if takes_over and not self._preempted_by_us:
                target.lease_write("preempt", self._dump(self.record))
                self._preempted_by_us = True
                self.say(
                    f"{target.display}: {describe(held)} is running; this "
                    f"{self.command} takes precedence and starts as soon as it stops."
                )
            if told != held.get("token"):
                told = held.get("token")
                self.say(
                    f"{target.display}: waiting for {describe(held)} to finish "
                    f"(up to {int(self.wait)} s)."
                )
            if time.monotonic() > deadline:
                raise TargetError(
                    f"{target.display}: {describe(held)} still holds the target "
                    f"after {int(self.wait)} s, so this {self.command} did not "
                    "start and the live site was not changed by it. Wait for it "
                    f"and re-run, or raise {WAIT_VARIABLE}; `invoke status` shows "
                    "what runs."
                )
            if self._preempted_by_us:
                # Keep our precedence alive while we wait.
                target.lease_write("preempt", self._dump(self._record()))
            time.sleep(POLL)
        if self._preempted_by_us or self.command in TAKE_DOWN:
            self._clear_own_preempt()
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()
        if self.command not in TAKE_DOWN:
            try:
                self.check(force=True)
            except Preempted:
                self.release()
                raise

    def _clear_own_preempt(self) -> None:
        held = parse(self.target.lease_read("preempt"))
        if held and (held.get("token") == self.token or is_stale(held)):
            self.target.lease_remove("preempt", self._dump(held), _token(held))

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            try:
                held = parse(self.target.lease_read("lock"))
                if not held or held.get("token") != self.token:
                    self.lost = True  # taken over: never write over its holder
                    return
                self.record = self._record()
                self.target.lease_write("lock", self._dump(self.record))
            except Exception:  # noqa: BLE001 - the deploy reports real faults
                pass

    def check(self, force: bool = False) -> None:
        """Stop if the lock was lost; for a publish, also (Preempted) if a
        withdraw or lock is waiting."""
        if self.lost:
            raise TargetError(
                f"{self.target.display}: this {self.command} lost its lock to "
                "another command (its heartbeat was missed for over "
                f"{LEASE} s), so it stopped rather than interleave."
            )
        if self.command in TAKE_DOWN:
            return
        now = time.monotonic()
        if not force and now - self._last_check < 1.0:
            return
        self._last_check = now
        held = parse(self.target.lease_read("preempt"))
        if held is None:
            return
        if is_stale(held):
            self.target.lease_remove("preempt", self._dump(held), _token(held))
            return
        raise Preempted(
            f"{self.target.display}: a {held.get('command')} was typed while this "
            f"{self.command} ran and takes precedence: the {self.command} stopped "
            f"before switching the site, and the {held.get('command')} goes ahead."
        )

    def abandon(self) -> None:
        """Leave the lock as a stopped command's: `status` reports it half done."""
        _HELD.discard(self.token)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._thread = None
        self._abandoned = True
        record = {**self._record(), "heartbeat": 0, "stopped": True}
        with contextlib.suppress(TargetError):
            self.target.lease_write("lock", self._dump(record))

    def release(self) -> None:
        """Let the lock go (unless abandoned), stopping the heartbeat."""
        _HELD.discard(self.token)
        if self._abandoned:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        try:
            held = parse(self.target.lease_read("lock"))
            if held and held.get("token") == self.token:
                self.target.lease_remove("lock", self._dump(held), self.token)
        except TargetError:
            pass  # the host went away: the lease expires on its own


def lease_status(target: Target) -> list[str]:
    """Problems `status` reports about commands running or stopped half done."""
    problems: list[str] = []
    held = parse(target.lease_read("lock"))
    if held:
        if is_stale(held):
            problems.append(
                f"{target.display}: {describe(held)} stopped before it finished "
                "(killed, or its host went away): the site may be part-way "
                f"between two states. Re-run `invoke {held.get('command')}`."
            )
        else:
            problems.append(
                f"{target.display}: {describe(held)} is in progress; what is "
                "served is about to change. Run `invoke status` again when it ends."
            )
    pending = parse(target.lease_read("preempt"))
    if pending and not is_stale(pending):
        problems.append(
            f"{target.display}: {describe(pending)} is waiting to take the site down."
        )
    return problems
