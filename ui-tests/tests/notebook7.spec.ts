/**
 * The panel in Jupyter Notebook 7, served by the same test server as
 * JupyterLab (`/notebooks/<path>`). galata's fixtures drive JupyterLab's
 * page (`/lab`), so this test uses Playwright's own `page` and the REST API.
 */
import { APIRequestContext, expect, test } from '@playwright/test';

import { SELECTORS } from './jobspanel';
import { emptyNotebook } from './notebooks';

test.use({ baseURL: process.env.TARGET_URL ?? 'http://localhost:8888' });

interface IJob {
  uid: string;
  name: string;
  code: string;
  status: string;
  paths: string[];
}

/** The jobs of a notebook, as the REST API lists them. */
async function jobsOf(
  request: APIRequestContext,
  path: string
): Promise<IJob[]> {
  const response = await request.get('/jupyter-bgjobs/jobs', {
    params: { path }
  });
  expect(response.status()).toBe(200);
  return (await response.json()).jobs;
}

test('in Notebook 7, View → Show Background Jobs lists the notebook’s job, kills it and clears it', async ({
  page,
  request
}) => {
  // Notebook 7 is served by its own server extension: its tree page answers.
  const tree = await request.get('/tree');
  expect(tree.status()).toBe(200);
  expect(await tree.text()).toContain('"appName": "Jupyter Notebook"');

  const folder = `notebook7-${test.info().repeatEachIndex}-${Date.now()}`;
  const path = `${folder}/jobs.ipynb`;
  const made = await request.put(`/api/contents/${folder}`, {
    data: { type: 'directory' }
  });
  expect(made.status()).toBe(201);
  const saved = await request.put(`/api/contents/${path}`, {
    data: {
      type: 'notebook',
      format: 'json',
      content: JSON.parse(emptyNotebook())
    }
  });
  expect(saved.status()).toBe(201);

  try {
    await page.goto(`/notebooks/${path}`);
    // Notebook 7's own shell, not JupyterLab's.
    await expect(page.locator('#main-panel .jp-NotebookPanel')).toBeVisible();
    await expect(page.locator('#top-panel')).toBeVisible();

    // Until the notebook's session has its kernel, a run is dropped (the
    // cell is left unrun), and the kernel status shown reads "idle" from the
    // start: wait on the session itself.
    await page.waitForFunction(() => {
      const kernel = (window as any).jupyterapp?.shell.currentWidget
        ?.sessionContext?.session?.kernel;
      return (
        kernel?.connectionStatus === 'connected' && kernel.status === 'idle'
      );
    });
    // Type the code into the first cell and run it, as a user would.
    const editor = page.locator('.jp-Cell .cm-content').first();
    await editor.click();
    await page.keyboard.type('import time\n%job -n sleeper time.sleep(60)');
    await expect(editor).toHaveText(
      'import time%job -n sleeper time.sleep(60)'
    );
    await page.keyboard.press('Shift+Enter');
    await expect(
      page.locator('.jp-Cell .jp-InputArea-prompt').first()
    ).toHaveText('[1]:', { timeout: 15000 });

    await page.getByRole('menuitem', { name: 'View', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Show Background Jobs' }).click();
    const panel = page.locator(SELECTORS.panel);
    await expect(panel).toBeVisible();

    // One row, of exactly this notebook's one job: the uid the REST API
    // gives for the notebook's job once the server has heard of it.
    const section = panel.locator(`${SELECTORS.section}[data-path="${path}"]`);
    await expect(section.locator(SELECTORS.sectionTitle)).toHaveText(
      'jobs.ipynb'
    );
    const rows = section.locator(SELECTORS.row);
    await expect(rows).toHaveCount(1);
    const row = rows.first();
    await expect(row.locator(SELECTORS.label)).toHaveText('sleeper');
    await expect(row).toHaveAttribute('data-status', 'running');
    const jobs = await jobsOf(request, path);
    expect(
      jobs.map(job => [job.name, job.code, job.status, job.paths])
    ).toEqual([['sleeper', 'time.sleep(60)', 'running', [path]]]);
    await expect(row).toHaveAttribute('data-uid', jobs[0].uid);

    await row.locator(SELECTORS.kill).click();

    await expect(row).toHaveAttribute('data-status', 'killed', {
      timeout: 5000
    });
    await expect(row.locator(SELECTORS.badge)).toHaveText('killed');
    expect(
      (await jobsOf(request, path)).map(job => [job.uid, job.status])
    ).toEqual([[jobs[0].uid, 'killed']]);

    // The notebook's header clears its history, through the same dialog.
    await section.locator(SELECTORS.clearHistory).click();
    const dialog = page.locator(SELECTORS.dialog);
    await expect(dialog.locator(SELECTORS.dialogBody)).toHaveText(
      `1 ended job (finished, failed, killed or lost) of ${path} will be removed from the server for good. Running jobs stay.`
    );
    await dialog.locator(SELECTORS.dialogAccept).click();
    await expect(section).toHaveCount(0);
    expect(await jobsOf(request, path)).toEqual([]);
  } finally {
    // The kernel goes with its session; the folder with its notebook.
    const sessions = await (await request.get('/api/sessions')).json();
    for (const session of sessions) {
      if (session.path === path) {
        await request.delete(`/api/sessions/${session.id}`);
      }
    }
    await request.delete(`/api/contents/${path}`);
    await request.delete(`/api/contents/${folder}`);
  }
});
