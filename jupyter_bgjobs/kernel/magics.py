"""The IPython magics: ``%job``, ``%%job``, ``%jobs`` and ``%kill``."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .errors import JobError
from .table import format_table

if TYPE_CHECKING:
    from .job import Job
    from .manager import JobManager

# `-n NAME` / `--name=NAME` / `-n "two words"` and `--on BACKEND` in front of
# the code. The code itself is not parsed as options: `%job f(-1)` must stay intact.
_OPTION = re.compile(r"""^\s*(-n|--name|--on)(?:\s+|=)(?:"([^"]*)"|'([^']*)'|(\S+))\s*""")

# How long %kill waits to tell whether the jobs died.
KILL_WAIT = 1.0


def split_options(line: str) -> tuple[dict[str, str], str]:
    """``({"name": ..., "on": ...}, "rest")`` from ``-n name --on process rest`` (each option optional)."""
    options: dict[str, str] = {}
    while True:
        match = _OPTION.match(line)
        if not match:
            break
        key = "on" if match.group(1) == "--on" else "name"
        options[key] = next(group for group in match.groups()[1:] if group is not None)
        line = line[match.end() :]
    bare = line.strip()
    if bare in ("-n", "--name"):
        raise UsageError("%job: -n needs a NAME, e.g. %job -n crawl download(urls)")
    if bare == "--on":
        raise UsageError("%job: --on needs where to run, e.g. %job --on process heavy(x)")
    return options, line


def split_name_option(line: str) -> tuple[str | None, str]:
    """``("name", "rest")`` from ``-n name rest``; ``(None, line)`` without the option."""
    options, rest = split_options(line)
    return options.get("name"), rest


def _is_statement(code: str) -> bool:
    try:
        compile(code.strip(), "<job>", "exec")
    except SyntaxError:
        return False
    return True


def _syntax_message(magic: str, error: SyntaxError) -> str:
    # One line, as every other message of the magics: what, where, the line.
    where = f" in line {error.lineno} of the job's code" if error.lineno else ""
    text = f": {error.text.strip()}" if error.text and error.text.strip() else ""
    return f"{magic}: {error.msg}{where}{text}"


@magics_class
class JobMagics(Magics):
    """Magics that start, list and kill background jobs."""

    def __init__(self, shell: Any, manager: JobManager) -> None:
        super().__init__(shell)
        self.manager = manager

    @property
    def _shell(self) -> Any:
        assert self.shell is not None  # magics are always registered with a shell
        return self.shell

    @magic_arguments()
    @argument("-n", "--name", help="a name for the job, shown in %%jobs and in the sidebar")
    @argument("--on", help="where %%job runs: thread (the default) or process; not for %%%%job")
    @argument("code", nargs="*", help="%%job: an expression; %%%%job: the cell's statements")
    @line_cell_magic
    def job(self, line: str, cell: str | None = None) -> None:
        """Run code in a background thread and return at once.

        %job [-n NAME] EXPR     evaluates EXPR in the user namespace.
        %job --on process EXPR  evaluates EXPR in a worker process, with the
                                names it uses copied from the namespace now.
        %%job [-n NAME]         runs the whole cell (statements, assignments,
                                prints); the value of a final expression is
                                the job's result.

        What the job prints is kept in `jobs[N].output` and shown under the
        cell that started it. `jobs[N].result` holds the result.
        """
        options, code = split_options(line)
        name, on = options.get("name"), options.get("on")
        shell = self._shell
        user_ns = shell.user_ns
        try:
            if cell is None:
                if not code.strip():
                    raise UsageError("%job needs an expression, e.g. %job sum(range(10))")
                job = self.manager.run_expression(code, user_ns, name=name, start=False, on=on)
            else:
                if on is not None and on != "thread":
                    raise UsageError(
                        f"%%job cannot run --on {on}: a cell's assignments must land in the notebook's namespace, "
                        "and a cell run in another process could not set them. Put the work in a function and run "
                        f"%job --on {on} f(x), or jobs.new(f, x, on={on!r})"
                    )
                if code.strip():
                    raise UsageError(f"%%job takes only -n NAME on its line, not {code.strip()!r}")
                job = self.manager.run_cell(
                    shell.transform_cell(cell), user_ns, name=name, start=False, code=cell.rstrip("\n")
                )
        except (ValueError, TypeError, ImportError) as error:  # an unknown --on, a missing extra, what cannot be sent
            raise UsageError(f"%job: {error}") from None
        except SyntaxError as error:
            if cell is None and _is_statement(code):
                raise UsageError(f"%job runs an expression; for statements use %%job: {code.strip()}") from None
            raise UsageError(_syntax_message("%job" if cell is None else "%%job", error)) from None
        # Announced before it starts: what the job prints comes after this line.
        print(f"Started job {job.number}" + (f" ({job.name})" if job.name else "") + ".")
        job.start()

    @magic_arguments()
    @argument("-v", "--verbose", action="store_true", help="full code and where killed jobs are blocked")
    @line_magic
    def jobs(self, line: str) -> None:
        """Show the background jobs: running, finished and dead."""
        try:
            args = parse_argstring(self.jobs, line)
        except UsageError as error:
            raise UsageError(f"%jobs: {error}") from None
        print(format_table(self.manager.list(), verbose=args.verbose))

    @magic_arguments()
    @argument("-g", "--group", help="kill every running job of this group (a jobs.map)")
    @argument("targets", nargs="*", help="job numbers, or 'all'")
    @line_magic
    def kill(self, line: str) -> None:
        """Kill background jobs: %kill N [N ...], %kill all, %kill -g GROUP.

        Waits up to a second and says how each job ended. A job that cannot
        be killed yet (it waits where no kill can wake it) stays running with
        its kill requested; `%jobs -v` shows where it is blocked.
        """
        try:
            args = parse_argstring(self.kill, line)
        except UsageError as error:
            raise UsageError(f"%kill: {error}") from None
        jobs = self._kill_targets(args.targets, args.group)
        if not jobs:
            print("No running jobs to kill.")
            return
        deadline = time.monotonic() + KILL_WAIT
        for job in jobs:
            job.wait(max(0.0, deadline - time.monotonic()))
        for job in jobs:
            print(_kill_report(job))

    def _kill_targets(self, targets: list[str], group: str | None) -> list[Job]:
        if group is not None:
            if targets:
                raise UsageError("%kill: give either -g GROUP or job numbers, not both")
            try:
                self.manager.group(group)
            except JobError as error:
                raise UsageError(f"%kill: {error}") from None
            return self.manager.kill_all(group=group)
        if not targets:
            raise UsageError("%kill needs job numbers, 'all', or -g GROUP")
        if targets == ["all"]:
            return self.manager.kill_all()
        numbers = []
        for target in targets:
            if not target.isdigit():
                raise UsageError(f"%kill: {target!r} is not a job number (use numbers, 'all' or -g GROUP)")
            numbers.append(int(target))
        try:
            jobs = [self.manager[number] for number in numbers]
            for job in jobs:  # check them all before killing any
                job.killer.check()
        except JobError as error:
            raise UsageError(f"%kill: {error}") from None
        return [job for job in jobs if job.killer.request()]


def _kill_report(job: Job) -> str:
    if job.status == "killed":
        return f"Job {job.number} killed."
    if job.status == "finished":
        if job.killer.caught:
            return f"Job {job.number} caught the kill and finished."
        return f"Job {job.number} finished before the kill took effect."
    if job.done:
        return f"Job {job.number} ended {job.status} before the kill took effect."
    where = f" (blocked in {job.blocked_in})" if job.blocked_in else ""
    return f"Job {job.number}: kill requested, still running{where}."
