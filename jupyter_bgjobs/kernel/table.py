"""The plain-text job table of ``%jobs`` and ``jobs.status()``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import protocol

if TYPE_CHECKING:
    from .job import Job


def _elapsed(job: Job) -> str:
    seconds = job.elapsed
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _progress(job: Job) -> str:
    progress = job.progress
    if not progress:
        return ""
    done, total = progress["done"], progress["total"]
    text = f"{done:g}/{total:g}" if total else f"{done:g}"
    if total:
        text += f" ({100 * done / total:.0f}%)"
    return text


def _status(job: Job) -> str:
    if job.kill_requested and not job.done:
        return f"{job.status} (kill requested)"
    return job.status


def format_table(jobs: list[Job], verbose: bool = False) -> str:
    """Jobs grouped as running, finished, dead; one line each."""
    if not jobs:
        return "No background jobs."
    width = 60 if not verbose else protocol.MAX_CODE
    lines: list[str] = []
    for title, states in protocol.GROUPS.items():
        members = [job for job in jobs if job.status in states]
        if not members:
            continue
        lines.append(f"{title.capitalize()} jobs:")
        for job in members:
            label = job.name or " ".join(job.code.split())
            label = protocol.clip_head(label, width)
            row = f"  {job.number:>3}  {_status(job):<10} {_elapsed(job):>8}  {label}"
            if job.remote:  # where it runs, e.g. "@process 4242", "@dask tcp://10.0.0.7:36411"
                at = job.where.get("pid") or job.where.get("worker")
                row += f"  @{job.where['backend']}" + ("" if at is None else f" {at}")
            extra = _progress(job)
            if extra:
                row += f"  [{extra}]"
            if job.error and title == "dead":
                row += f"  -> {job.error['ename']}: {protocol.clip_head(job.error['evalue'], 60)}"
            if job.blocked_in and verbose:
                row += f"  (blocked in {job.blocked_in})"
            lines.append(row)
        lines.append("")
    return "\n".join(lines).rstrip()
