"""Tests for pylab tools module."""

# Origin: IPython's own tests of its BackgroundJobManager, `tests/test_backgroundjobs.py`
# in https://github.com/ipython/ipython (commit 03f449514005740ff2b493e12121536f42a6ae2a;
# the same four tests as IPython 8.12's `IPython/lib/tests/test_backgroundjobs.py`).
# IPython is distributed under the BSD 3-Clause License ("Modified BSD License"); its
# copyright notice is kept below. The one change: `bg.BackgroundJobManager()` is
# `JobManager()`, the class behind `jobs` (the import of `bg` became that of JobManager).
# Everything else is IPython's text as it is, hence the noqa for this project's linters.
# ruff: noqa: UP031

# -----------------------------------------------------------------------------
# Copyright (c) 2011, the IPython Development Team.
#
# Distributed under the terms of the Modified BSD License.
#
# The full license is in the file COPYING.txt, distributed with this software.
# -----------------------------------------------------------------------------

# -----------------------------------------------------------------------------
# Imports
# -----------------------------------------------------------------------------

# Stdlib imports
import time

# Our own imports
from jupyter_bgjobs.kernel import JobManager

# -----------------------------------------------------------------------------
# Globals and constants
# -----------------------------------------------------------------------------
t_short = 0.0001  # very short interval to wait on jobs


# -----------------------------------------------------------------------------
# Local utilities
# -----------------------------------------------------------------------------
def sleeper(interval=t_short, *a, **kw):
    args = dict(interval=interval, other_args=a, kw_args=kw)
    time.sleep(interval)
    return args


def crasher(interval=t_short, *a, **kw):
    time.sleep(interval)
    raise Exception("Dead job with interval %s" % interval)


# -----------------------------------------------------------------------------
# Classes and functions
# -----------------------------------------------------------------------------


def test_result():
    """Test job submission and result retrieval"""
    jobs = JobManager()
    j = jobs.new(sleeper)
    j.join()
    assert j.result["interval"] == t_short


def test_flush():
    """Test job control"""
    jobs = JobManager()
    j = jobs.new(sleeper)
    j.join()
    assert len(jobs.completed) == 1
    assert len(jobs.dead) == 0
    jobs.flush()
    assert len(jobs.completed) == 0


def test_dead():
    """Test control of dead jobs"""
    jobs = JobManager()
    j = jobs.new(crasher)
    j.join()
    assert len(jobs.completed) == 0
    assert len(jobs.dead) == 1
    jobs.flush()
    assert len(jobs.dead) == 0


def test_longer():
    """Test control of longer-running jobs"""
    jobs = JobManager()
    # Sleep for long enough for the following two checks to still report the
    # job as running, but not so long that it makes the test suite noticeably
    # slower.
    j = jobs.new(sleeper, 0.1)
    assert len(jobs.running) == 1
    assert len(jobs.completed) == 0
    j.join()
    assert len(jobs.running) == 0
    assert len(jobs.completed) == 1
