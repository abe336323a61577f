"""Helpers shared by the benchmarks in bench/: child-process servers, a small HTTP/JSON
client, config files, the code version, and CPU / peak-memory accounting of a process
tree (read from /proc, Linux only)."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from refeed.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIB = 2**20
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --------------------------------------------------------------------------- processes


def start_child(target: Callable[..., None], args: tuple[Any, ...], name: str,
                timeout: float = 60.0) -> tuple[BaseProcess, int]:
    """Start ``target(*args, conn)`` in a spawned child process and wait for it to send a
    port number through ``conn``; returns the process and the port."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(*args, child), daemon=True, name=name)
    process.start()
    if not parent.poll(timeout):
        process.terminate()
        process.join(10)
        raise RuntimeError(f"{name} did not start within {timeout:g} s")
    port: int = parent.recv()
    return process, port


def send_port(conn: Connection, port: int) -> None:
    """Tell the parent which port the child listens on."""
    conn.send(port)


def http_json(url: str, method: str = "GET", timeout: float = 30.0) -> dict[str, Any]:
    """GET (or POST, empty body) ``url`` and decode its JSON answer; never uses a proxy."""
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with _NO_PROXY.open(request, timeout=timeout) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


# --------------------------------------------------------------------------- config


def write_settings(folder: Path, config: Mapping[str, Any]) -> Settings:
    """Write ``config`` as ``folder/config.yaml`` (JSON is YAML) and load it through the
    real validation."""
    from refeed.config import load_settings  # noqa: PLC0415 (farm children skip refeed)

    path = folder / "config.yaml"
    path.write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")
    return load_settings(path)


def settings_value(settings: Settings, name: str) -> Any:
    """``settings.taxonomy`` / ``settings.language_policy`` / …: methods up to commit
    78e519c, cached properties since, so a bench can run against either (``--ref``)."""
    value = getattr(settings, name)
    return value() if callable(value) else value


def code_version() -> str:
    """The commit of the project and whether src/ has uncommitted changes: the workers
    import refeed from disk when they start, so an edit during a run mixes versions."""
    def git(*arguments: str) -> str:
        try:
            return subprocess.run(
                ["git", *arguments], cwd=PROJECT_ROOT, capture_output=True, text=True,
                check=True, timeout=10,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    changed = git("status", "--porcelain", "--", "src").splitlines()
    return commit + (f" + {len(changed)} uncommitted file(s) in src/" if changed else "")


def rate(count: float, seconds: float) -> str:
    """``count / seconds`` formatted, robust to zero."""
    return f"{count / seconds:,.1f}" if seconds > 0 else "inf"


# --------------------------------------------------------------------------- accounting


def spin(count: int) -> int:
    """Pure-Python CPU work for the parallelism check."""
    total = 0
    for number in range(count):
        total += number * number
    return total


def parallel_capacity(pool: Executor, workers: int) -> float:
    """How many CPUs the pool actually gets right now (a loaded or shared machine gives
    less than ``workers``): ``2 * workers`` equal spin jobs in the pool vs one inline,
    best of three of each so a short hiccup does not decide it."""
    pool.submit(spin, 1).result()
    one = pooled = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        spin(2_000_000)
        one = min(one, time.perf_counter() - started)
        started = time.perf_counter()
        for job in [pool.submit(spin, 2_000_000) for _ in range(2 * workers)]:
            job.result()
        pooled = min(pooled, time.perf_counter() - started)
    return 2 * workers * one / pooled


def cpu_seconds() -> float:
    """User + system CPU of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MiB (ru_maxrss is KiB on Linux)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MIB


@dataclass(frozen=True)
class ProcessCPU:
    """CPU seconds of one process: its own, and that of the children it has reaped."""

    own: float
    reaped: float

    @property
    def total(self) -> float:
        """Own + reaped."""
        return self.own + self.reaped


def _stat(pid: int) -> tuple[int, ProcessCPU] | None:
    """(parent pid, CPU) of a live process, from /proc/PID/stat."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # fields[0] is field 3 of proc(5): state
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return int(fields[1]), ProcessCPU((utime + stime) / _CLOCK_TICKS,
                                      (cutime + cstime) / _CLOCK_TICKS)


def process_cpu(pid: int) -> float:
    """CPU seconds of one process (including the children it has reaped); 0 when gone."""
    stat = _stat(pid)
    return stat[1].total if stat else 0.0


def peak_rss_of(pid: int) -> float:
    """The peak RSS (VmHWM) of a live process in MiB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def reset_peak_rss(pid: int) -> None:
    """Restart ``pid``'s VmHWM at its current RSS (Linux ``clear_refs`` 5); best effort."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def process_tree(root: int, exclude: Collection[int] = ()) -> dict[int, ProcessCPU]:
    """``root`` and its descendants (skipping the subtrees of ``exclude``) → their CPU."""
    parents: dict[int, list[int]] = {}
    cpu: dict[int, ProcessCPU] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                parents.setdefault(stat[0], []).append(int(entry.name))
                cpu[int(entry.name)] = stat[1]
    tree: dict[int, ProcessCPU] = {}
    pending = [root]
    while pending:
        pid = pending.pop()
        if pid in exclude or pid not in cpu:
            continue
        tree[pid] = cpu[pid]
        pending.extend(parents.get(pid, ()))
    return tree


@dataclass(frozen=True)
class Usage:
    """CPU and peak memory of a process tree over one measured span (``child_rss``: only
    the children that used CPU during the span)."""

    cpu: float  # user + system seconds of every process in the tree
    main_cpu: float  # ... of the root process alone (its event loop, for a poll)
    main_rss: float  # peak RSS of the root process during the span, MiB
    child_rss: tuple[float, ...]  # peak RSS of each other live process of the tree, MiB

    @property
    def children_text(self) -> str:
        """The largest child and the number of children, for a report."""
        if not self.child_rss:
            return "-"
        return f"{max(self.child_rss):.0f}×{len(self.child_rss)}"


class TreeMeter:
    """Measures a span: CPU of this process and its descendants (minus ``exclude``, e.g.
    a server it started), its own peak RSS (reset at the start) and each descendant's.
    Call :meth:`stop` while the processes of interest (pool workers) still live: a child
    that exits is counted only once its parent reaps it."""

    def __init__(self, exclude: Collection[int] = (), root: int | None = None) -> None:
        self.root = root if root is not None else os.getpid()
        self.exclude = frozenset(exclude)
        reset_peak_rss(self.root)
        self._before = process_tree(self.root, self.exclude)

    def stop(self) -> Usage:
        """The usage since the meter was made."""
        after = process_tree(self.root, self.exclude)
        zero = ProcessCPU(0.0, 0.0)
        cpu = sum(now.total - self._before.get(pid, zero).total for pid, now in after.items())
        main = after.get(self.root, zero).own - self._before.get(self.root, zero).own
        children = tuple(  # the ones that worked: not an idle forkserver of an earlier span
            peak_rss_of(pid) for pid, now in after.items()
            if pid != self.root and now.total - self._before.get(pid, zero).total >= 0.05
        )
        return Usage(max(cpu, 0.0), max(main, 0.0), peak_rss_of(self.root), children)


@dataclass(frozen=True)
class ChildRun:
    """A finished subprocess: wall time, CPU and peak RSS (its own and its reaped
    descendants', from wait4), exit code, output, and whether it was killed at the
    timeout."""

    wall: float
    cpu: float
    max_rss: float  # MiB
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool


def run_measured(command: Sequence[str], env: Mapping[str, str] | None = None,
                 timeout: float | None = None) -> ChildRun:
    """Run ``command`` (in its own process group) to completion, or kill the group at
    ``timeout`` seconds, and measure it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env,
                                   start_new_session=True)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.perf_counter() - started > timeout:
                timed_out = True
                os.killpg(process.pid, signal.SIGKILL)
                _, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                        process.returncode, out.read().decode(errors="replace"),
                        err.read().decode(errors="replace"), timed_out)


def tree_memory(root: int) -> dict[str, float]:
    """PSS and RSS (MiB) of ``root`` and its descendants: in total, of ``root`` alone, and
    of the largest other process (a pool worker)."""
    memory: dict[str, float] = {}
    for pid in process_tree(root):
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in lines)
        for kind in ("PSS", "RSS"):
            mib = int(fields[kind.capitalize()].split()[0]) / 1024
            memory[f"total {kind}"] = memory.get(f"total {kind}", 0.0) + mib
            role = "main" if pid == root else "largest child"
            memory[f"{role} {kind}"] = max(memory.get(f"{role} {kind}", 0.0), mib)
    return memory


def rerun_at_ref(script: str, ref: str, argv: Sequence[str], variable: str) -> int:
    """Run ``script`` again with ``ref``'s src/ first on PYTHONPATH (and ``variable`` set
    to ``ref`` in its environment, so it knows); its exit code."""
    with tempfile.TemporaryDirectory(prefix="refeed-ref-") as folder:
        archive = subprocess.run(["git", "archive", ref, "src"], cwd=PROJECT_ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        source = str(Path(folder) / "src")
        path = os.pathsep.join(filter(None, (source, os.environ.get("PYTHONPATH"))))
        env = {**os.environ, "PYTHONPATH": path, variable: ref}
        return subprocess.run([sys.executable, script, *argv], env=env, check=False).returncode


def remove_unless_kept(folder: Path, keep: bool) -> None:
    """Delete the bench's temporary ``folder``, or say where it is when ``keep``."""
    if keep:
        print(f"kept {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


def open_store(path: Path) -> Any:
    """refeed's store at ``path``, from whichever commit's src/ is imported (``--ref``
    runs another commit's code under this bench)."""
    try:
        from refeed.storage import Store  # noqa: PLC0415
    except ImportError:  # commits before the storage package (2026-12-07)
        from refeed.store import Store  # type: ignore[import-not-found,no-redef]  # noqa: PLC0415
    return Store.open(path)
