import {
  expect,
  galata,
  IJupyterLabPageFixture,
  test
} from '@jupyterlab/galata';

import { JobsSidebar, SELECTORS } from './jobspanel';
import { openNotebook, runInFirstCell } from './notebooks';
import {
  fetchJob,
  injectJobsEvent,
  kernelIdOf,
  serverEmitsJobEvents
} from './server';

/** The settings of the extension for a test (schema/model.json). */
function withSettings(settings: Record<string, unknown>) {
  return {
    mockSettings: {
      ...galata.DEFAULT_SETTINGS,
      'jupyter-bgjobs:model': settings
    }
  };
}

/**
 * Start a job that runs two seconds, with the sidebar open and nobody
 * touching it; return how long after the job's start and end (server
 * clock, same machine) the row showed each state (browser clock).
 */
async function lagOfAJob(
  page: IJupyterLabPageFixture,
  path: string
): Promise<{ appeared: number; finished: number; source: string }> {
  const jobs = new JobsSidebar(page);
  await openNotebook(page, path);
  await jobs.open();
  await expect(jobs.body).toHaveAttribute('data-connection', 'ok');
  const section = jobs.section(path);

  await runInFirstCell(page, 'import time\n%job -n nap time.sleep(2)');

  const rowSelector = `${SELECTORS.panel} ${SELECTORS.section}[data-path="${path}"] ${SELECTORS.row}`;
  // Timestamps taken in the page, at the frame where the state shows.
  const appearedAt = await (
    await page.waitForFunction(
      selector => (document.querySelector(selector) ? Date.now() : false),
      rowSelector,
      { polling: 'raf', timeout: 10000 }
    )
  ).jsonValue();
  const finishedAt = await (
    await page.waitForFunction(
      selector =>
        document.querySelector(selector)?.getAttribute('data-status') ===
        'finished'
          ? Date.now()
          : false,
      rowSelector,
      { polling: 'raf', timeout: 10000 }
    )
  ).jsonValue();
  const uid = await new JobsSidebar(page).uidOf(section.locator(SELECTORS.row));
  const job = await fetchJob(page, uid);
  const source =
    (await jobs.body.getAttribute('data-update-source')) ?? 'unknown';
  return {
    appeared: (appearedAt as number) - Date.parse(job.created),
    finished: (finishedAt as number) - Date.parse(job.ended as string),
    source
  };
}

/** Keep the measured lags in the report and in the run's output. */
function report(lag: { appeared: number; finished: number; source: string }) {
  const description = `appeared ${lag.appeared} ms and finished ${lag.finished} ms after the change, by ${lag.source}`;
  test.info().annotations.push({ type: 'lag', description });
  console.log(`${test.info().title}: ${description}`);
}

test.describe('by the fallback poll', () => {
  test.use(withSettings({ pollInterval: 0.25 }));

  test('a job appears and turns finished within 1 s, without reload or click', async ({
    page,
    tmpPath
  }) => {
    const lag = await lagOfAJob(page, `${tmpPath}/live.ipynb`);
    report(lag);
    expect(lag.appeared).toBeLessThan(1000);
    expect(lag.finished).toBeLessThan(1000);
    expect(lag.finished).toBeGreaterThanOrEqual(0);
  });
});

test.describe('by push events', () => {
  // Polling alone could not make it in time: the events must.
  test.use(withSettings({ pollInterval: 60, resyncInterval: 600 }));

  test('a job appears and turns finished within 1 s, by events alone', async ({
    page,
    tmpPath
  }) => {
    test.skip(
      !(await serverEmitsJobEvents(page)),
      'the server does not register the jobs event schema (yet)'
    );
    const lag = await lagOfAJob(page, `${tmpPath}/events.ipynb`);
    report(lag);
    expect(lag.source).toBe('events');
    expect(lag.appeared).toBeLessThan(1000);
    expect(lag.finished).toBeLessThan(1000);
  });

  test("the sidebar merges the event stream's changes and removals", async ({
    page,
    tmpPath
  }) => {
    const jobs = new JobsSidebar(page);
    const path = `${tmpPath}/stream.ipynb`;
    await openNotebook(page, path);
    await runInFirstCell(page, '%job -n real 1 + 1');
    await jobs.open();
    // Polling is slow here, and events may not exist yet: ask.
    await page.click(SELECTORS.toolbarButton('jupyter-bgjobs:refresh'));
    const real = jobs.row(path, 'real');
    await expect(real).toHaveAttribute('data-status', 'finished');
    const kernelId = await kernelIdOf(page, path);

    // A job the REST API never listed: only the event stream can show it.
    const injected = {
      uid: 'injected-by-the-test',
      kernel_id: kernelId,
      number: 99,
      name: 'from-the-bus',
      code: 'pass',
      kind: 'expr',
      status: 'running',
      group: null,
      created: new Date().toISOString(),
      started: new Date().toISOString(),
      ended: null,
      elapsed: 0.5,
      result_repr: null,
      error: null,
      output_tail: '',
      progress: { done: 1, total: 4, desc: null },
      kill_requested: false,
      blocked_in: null,
      where: {
        backend: 'thread',
        pid: null,
        address: null,
        worker: null,
        dashboard: null
      },
      paths: [path]
    };
    await injectJobsEvent(page, [injected]);
    const row = jobs.row(path, 'from-the-bus');
    await expect(row).toHaveAttribute('data-status', 'running');
    await expect(row.locator(SELECTORS.progressBar)).toHaveAttribute(
      'aria-valuenow',
      '1'
    );
    await expect(jobs.body).toHaveAttribute('data-update-source', 'events');

    await injectJobsEvent(page, [
      { ...injected, kill_requested: true, blocked_in: 'demo.py:12 in wait()' }
    ]);
    await expect(row.locator(SELECTORS.badge)).toHaveText('kill requested');
    await expect(row.locator('.jp-bgjobs-blocked')).toHaveText(
      'Kill requested; the job is blocked in demo.py:12 in wait()'
    );

    await injectJobsEvent(page, [
      { ...injected, status: 'killed', ended: new Date().toISOString() }
    ]);
    await expect(row).toHaveAttribute('data-status', 'killed');

    await injectJobsEvent(page, [], [injected.uid, await jobs.uidOf(real)]);
    await expect(row).toHaveCount(0);
    await expect(real).toHaveCount(0);
  });
});
