/**
 * Remote jobs in the panel (issue 12): a job that runs in a worker process
 * shows where it runs, that place checked against the kernel's own answer
 * and the machine, and the panel's kill ends it `killed`.
 *
 * Each backend is one entry of `BACKENDS`: the cell that starts its job and
 * what its details must say, checked against the kernel's record and what
 * the machine says (the process's parent, the dask dashboard's answer).
 */
import * as fs from 'fs';

import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { APIRequestContext, Locator } from '@playwright/test';

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
  check(row: Locator, where: IWhere, machine: IMachine): Promise<void>;
}

/** What a check can ask besides the panel. */
interface IMachine {
  kernelPid: number;
  request: APIRequestContext;
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
    async check(row, where, { kernelPid }) {
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
  },
  {
    name: 'on-dask',
    // No Client in the session: the kernel's embedded LocalCluster.
    start: [
      'def spin_on_dask(seconds):',
      '    from distributed import get_worker',
      '    worker = get_worker()',
      '    print("worker", worker.address, "scheduler", worker.scheduler.address, flush=True)',
      '    time.sleep(seconds)',
      '%job -n on-dask --on dask spin_on_dask(60)'
    ].join('\n'),
    runsOn: /^Runs on: dask worker tcp:\/\/\S+ of scheduler tcp:\/\/\S+$/,
    async check(row, where, { request }) {
      expect(where.backend).toBe('dask');
      const { worker, address, dashboard } = where;
      await expect(row.locator('.jp-bgjobs-where-text')).toHaveText(
        `Runs on: dask worker ${worker} of scheduler ${address}`
      );
      // The task's own worker and scheduler, printed on the worker.
      await expect(row.locator(SELECTORS.output)).toHaveText(
        `worker ${worker} scheduler ${address}\n`
      );
      // The embedded cluster serves a dashboard: linked, and it answers.
      expect(dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/status$/);
      const link = row.locator('a.jp-bgjobs-dashboard');
      await expect(link).toHaveText('Dashboard');
      await expect(link).toHaveAttribute('href', dashboard as string);
      await expect(link).toHaveAttribute('target', '_blank');
      expect((await request.get(dashboard as string)).status()).toBe(200);
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
    // A dask job waits for the embedded cluster's first start (about 1 s).
    await expect(row).toHaveAttribute('data-status', 'running', {
      timeout: 20000
    });
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
    await backend.check(row, record.where, {
      kernelPid: answer.kernel_pid,
      request: page.request
    });
  }

  for (const backend of BACKENDS) {
    const row = jobs.row(path, backend.name);
    const uid = await jobs.uidOf(row);
    // Clicked and seen killed in the page, by the page's clock.
    const took = await page.evaluate(
      uid =>
        new Promise<number>((resolve, reject) => {
          const selector = `.jp-bgjobs-row[data-uid="${uid}"]`;
          const row = document.querySelector(selector);
          const kill = row?.querySelector('.jp-bgjobs-kill') as HTMLElement;
          const clicked = performance.now();
          kill.click();
          const watch = () => {
            const now = document.querySelector(selector);
            if (now?.getAttribute('data-status') === 'killed') {
              resolve(performance.now() - clicked);
            } else if (performance.now() - clicked > 5000) {
              // Say what the server holds: a kill that did not land, or a
              // panel that did not hear of it.
              const { baseUrl } =
                window.jupyterapp.serviceManager.serverSettings;
              void fetch(`${baseUrl}jupyter-bgjobs/jobs/${uid}`)
                .then(response => response.text())
                .then(record =>
                  reject(
                    new Error(
                      `not shown killed 5 s after the click (panel: ${now?.getAttribute('data-status')}); the server says ${record}`
                    )
                  )
                );
            } else {
              requestAnimationFrame(watch);
            }
          };
          watch();
        }),
      uid
    );
    const description = `${backend.name}: click to 'killed' shown in ${Math.round(took)} ms`;
    test.info().annotations.push({ type: 'kill', description });
    console.log(description);
    await expect(row).toHaveAttribute('data-status', 'killed');
    await expect(row.locator(SELECTORS.badge)).toHaveText('killed');
  }
  const after = await askKernel<IKernelAnswer>(page, ASK);
  expect(
    BACKENDS.map(backend => [backend.name, after.jobs[backend.name].status])
  ).toEqual(BACKENDS.map(backend => [backend.name, 'killed']));
});
