/**
 * Remote jobs in the panel (issue 12): a job that runs in a worker process
 * shows where it runs, that place checked against the kernel's own answer
 * and the machine, and the panel's kill ends it `killed`.
 *
 * Each backend is one entry of `BACKENDS`: the cell that starts its job and
 * what its details must say. A dask job goes in as one more entry.
 */
import * as fs from 'fs';

import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';

import { JobsSidebar, SELECTORS } from './jobspanel';
import { askKernel, openNotebook, runInFirstCell } from './notebooks';

/** Where a job runs, as the kernel's record says (`Job.where`). */
interface IWhere {
  backend: string;
  pid: number | null;
  address: string | null;
  worker: string | null;
  dashboard: string | null;
}

/** What the kernel answers about itself and its jobs. */
interface IKernelAnswer {
  kernel_pid: number;
  jobs: Record<string, { number: number; status: string; where: IWhere }>;
}

/** One backend under test. */
interface IBackend {
  /** The job's name (the row's label). */
  name: string;
  /** Code (run after `SETUP`) that starts the job, which runs about a minute. */
  start: string;
  /** What the details say of where it runs, once it runs there. */
  runsOn: RegExp;
  /** Check the row's details against the kernel's record and the machine. */
  check(row: Locator, where: IWhere, kernelPid: number): Promise<void>;
}

/** A task that says where it runs, then waits to be killed. */
const SETUP = [
  'import os, time',
  'def spin(seconds):',
  '    print("worker pid", os.getpid(), flush=True)',
  '    time.sleep(seconds)'
].join('\n');

/** The kernel's answer: its pid, and each named job's number, state and place. */
const ASK = [
  'import json, os',
  'print(json.dumps({"kernel_pid": os.getpid(), "jobs": {',
  '    j.name: {"number": j.number, "status": j.status, "where": j.where}',
  '    for j in jobs.all.values() if j.name}}))'
].join('\n');

const BACKENDS: IBackend[] = [
  {
    name: 'on-process',
    start: '%job -n on-process --on process spin(60)',
    runsOn: /^Runs on: process pid \d+$/,
    async check(row, where, kernelPid) {
      expect(where.backend).toBe('process');
      const pid = where.pid as number;
      await expect(row.locator('.jp-bgjobs-where')).toHaveText(
        `Runs on: process pid ${pid}`
      );
      // The task's own os.getpid(), printed from the worker.
      await expect(row.locator(SELECTORS.output)).toHaveText(
        `worker pid ${pid}\n`
      );
      // A real process of this machine: the kernel's worker, its child.
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      expect(cmdline.split('\0')).toContain(
        'jupyter_bgjobs.kernel.backends.process_worker'
      );
      expect(parentOf(pid)).toBe(kernelPid);
    }
  }
];

/** The parent pid of a process, from /proc. */
function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // "pid (comm) state ppid ...": comm may hold spaces, so cut after its ")".
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

async function startJobs(
  page: IJupyterLabPageFixture,
  backends: IBackend[]
): Promise<void> {
  await runInFirstCell(
    page,
    [SETUP, ...backends.map(backend => backend.start)].join('\n')
  );
}

test('remote jobs show where they run, and the panel kills them', async ({
  page,
  tmpPath
}) => {
  const jobs = new JobsSidebar(page);
  const path = `${tmpPath}/remote.ipynb`;
  await openNotebook(page, path);
  await startJobs(page, BACKENDS);
  await jobs.open();

  for (const backend of BACKENDS) {
    const row = jobs.row(path, backend.name);
    await expect(row).toHaveAttribute('data-status', 'running');
    await jobs.toggle(row);
    // The place is known once a worker has taken the job.
    await expect(row.locator('.jp-bgjobs-where')).toHaveText(backend.runsOn, {
      timeout: 15000
    });
    const answer = await askKernel<IKernelAnswer>(page, ASK);
    const record = answer.jobs[backend.name];
    expect(record.status).toBe('running');
    await expect(row.locator('.jp-bgjobs-number')).toHaveText(
      String(record.number)
    );
    await backend.check(row, record.where, answer.kernel_pid);
  }

  for (const backend of BACKENDS) {
    const row = jobs.row(path, backend.name);
    await jobs.kill(row);
    await expect(row).toHaveAttribute('data-status', 'killed', {
      timeout: 5000
    });
    await expect(row.locator(SELECTORS.badge)).toHaveText('killed');
  }
  const after = await askKernel<IKernelAnswer>(page, ASK);
  expect(
    BACKENDS.map(backend => [backend.name, after.jobs[backend.name].status])
  ).toEqual(BACKENDS.map(backend => [backend.name, 'killed']));
});
