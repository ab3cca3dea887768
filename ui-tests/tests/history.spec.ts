/**
 * Clearing the history of one notebook from its header in the panel (issue
 * 13): a dialog names the notebook and the server's count of its ended
 * jobs; those go, on the server too; running jobs and other notebooks' jobs
 * stay.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';

import { JobsSidebar, SELECTORS } from './jobspanel';
import { openNotebook, runInFirstCell } from './notebooks';

/** The name and status of each job of a notebook, as the REST API lists them. */
async function jobsOnServer(
  page: IJupyterLabPageFixture,
  path: string
): Promise<[string, string][]> {
  return page.evaluate(async path => {
    const { baseUrl } = window.jupyterapp.serviceManager.serverSettings;
    const query = new URLSearchParams({ path });
    const response = await fetch(`${baseUrl}jupyter-bgjobs/jobs?${query}`);
    const page = await response.json();
    return page.jobs.map((job: any) => [job.name, job.status]);
  }, path);
}

test('the Clear history button of a notebook removes its ended jobs, and only those', async ({
  page,
  tmpPath
}) => {
  const jobs = new JobsSidebar(page);
  const kept = `${tmpPath}/kept.ipynb`;
  const cleared = `${tmpPath}/cleared.ipynb`;
  await openNotebook(page, kept);
  await runInFirstCell(page, '%job -n other 2 + 2');
  await openNotebook(page, cleared);
  await runInFirstCell(
    page,
    [
      'import time',
      '%job -n done 6 * 7',
      '%job -n broken 1 / 0',
      '%job -n sleeper time.sleep(60)'
    ].join('\n')
  );
  await jobs.open();
  await expect(jobs.row(cleared, 'done')).toHaveAttribute(
    'data-status',
    'finished'
  );
  await expect(jobs.row(cleared, 'broken')).toHaveAttribute(
    'data-status',
    'failed'
  );
  await expect(jobs.row(cleared, 'sleeper')).toHaveAttribute(
    'data-status',
    'running'
  );
  await expect(jobs.row(kept, 'other')).toHaveAttribute(
    'data-status',
    'finished'
  );
  const button = jobs.section(cleared).locator(SELECTORS.clearHistory);
  await expect(button).toHaveAttribute(
    'aria-label',
    'Clear the history of cleared.ipynb'
  );
  await expect(button).toHaveAttribute('aria-disabled', 'false');

  // Cancel: nothing goes.
  await jobs.section(cleared).locator(SELECTORS.sectionHeader).hover();
  await button.click();
  const dialog = page.locator(SELECTORS.dialog);
  await expect(dialog.locator(SELECTORS.dialogTitle)).toHaveText(
    'Clear the history of cleared.ipynb?'
  );
  await expect(dialog.locator(SELECTORS.dialogBody)).toHaveText(
    `2 ended jobs (finished, failed, killed or lost) of ${cleared} will be removed from the server for good. Running jobs stay.`
  );
  // Enter cancels: what goes cannot come back.
  await page.keyboard.press('Enter');
  await expect(dialog).toHaveCount(0);
  await expect(jobs.section(cleared).locator(SELECTORS.label)).toHaveText([
    'sleeper',
    'broken',
    'done'
  ]);

  // Clear: the ended jobs go, here and on the server; the section stays
  // open, not folded by the click.
  await button.click();
  await dialog.locator(SELECTORS.dialogAccept).click();
  await expect(jobs.section(cleared).locator(SELECTORS.label)).toHaveText([
    'sleeper'
  ]);
  expect(await jobsOnServer(page, cleared)).toEqual([['sleeper', 'running']]);
  // The other notebook keeps its history.
  await expect(jobs.section(kept).locator(SELECTORS.label)).toHaveText([
    'other'
  ]);
  expect(await jobsOnServer(page, kept)).toEqual([['other', 'finished']]);
  // Nothing ended is left to clear.
  await expect(button).toHaveAttribute('aria-disabled', 'true');
  await expect(button).toHaveAttribute(
    'title',
    'cleared.ipynb has no ended jobs to clear'
  );

  // A full refresh asks the server afresh: nothing comes back.
  await page.click(SELECTORS.toolbarButton('jupyter-bgjobs:refresh'));
  await expect(jobs.section(cleared).locator(SELECTORS.label)).toHaveText([
    'sleeper'
  ]);
  await expect(jobs.section(kept).locator(SELECTORS.label)).toHaveText([
    'other'
  ]);
});

test('the palette command clears the history of the notebook on screen', async ({
  page,
  tmpPath
}) => {
  const jobs = new JobsSidebar(page);
  const path = `${tmpPath}/palette.ipynb`;
  await openNotebook(page, path);
  await runInFirstCell(page, '%job -n one 1\n%job -n two 2\n%job -n three 3');
  await jobs.open();
  await expect(jobs.row(path, 'three')).toHaveAttribute(
    'data-status',
    'finished'
  );
  await page.notebook.activate('palette.ipynb');

  await page.keyboard.press('Control+Shift+C');
  const palette = page.locator('#command-palette');
  await palette.locator('input').fill('Clear Background Jobs History');
  const item = palette.locator('.lm-CommandPalette-item', {
    hasText: 'Clear Background Jobs History of palette.ipynb…'
  });
  await item.click();
  const dialog = page.locator(SELECTORS.dialog);
  await expect(dialog.locator(SELECTORS.dialogBody)).toHaveText(
    `3 ended jobs (finished, failed, killed or lost) of ${path} will be removed from the server for good. Running jobs stay.`
  );
  await dialog.locator(SELECTORS.dialogAccept).click();
  // A section without jobs is not shown.
  await expect(jobs.section(path)).toHaveCount(0);
  expect(await jobsOnServer(page, path)).toEqual([]);
});
