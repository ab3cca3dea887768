import { expect, test } from '@jupyterlab/galata';

import { JobsSidebar, SELECTORS } from './jobspanel';
import { openNotebook, runInFirstCell } from './notebooks';

test('the status bar counts the running jobs and the Running panel lists and kills them', async ({
  page,
  tmpPath
}) => {
  const jobs = new JobsSidebar(page);
  const path = `${tmpPath}/elsewhere.ipynb`;
  await openNotebook(page, path);
  await runInFirstCell(
    page,
    'import time\n%job -n first time.sleep(60)\n%job -n second time.sleep(60)\n%job -n quick 1'
  );

  const status = page.locator(SELECTORS.statusItem);
  await expect(status).toHaveText('2 jobs running');

  // The Running panel lists both, under their notebook.
  await page.click(SELECTORS.runningTab);
  const section = page.getByRole('region', {
    name: 'Background Jobs Section'
  });
  const items = section.locator(SELECTORS.runningItem);
  await expect(items).toHaveCount(2);
  await expect(items.locator('.jp-RunningSessions-itemLabel')).toHaveText([
    /^\d+: second$/,
    /^\d+: first$/
  ]);

  // Kill one from there.
  const second = items.filter({ hasText: 'second' });
  await second.hover();
  await second.locator(SELECTORS.runningShutdown).click();
  await expect(items).toHaveCount(1);
  await expect(status).toHaveText('1 job running');

  // The sidebar agrees, and a click on the status bar item opens it.
  await status.click();
  await expect(jobs.panel).toBeVisible();
  await expect(jobs.row(path, 'second')).toHaveAttribute(
    'data-status',
    'killed'
  );
  await expect(jobs.row(path, 'first')).toHaveAttribute(
    'data-status',
    'running'
  );
  await expect(
    jobs.panel.locator(`${SELECTORS.row}[data-status="running"]`)
  ).toHaveCount(1);

  // Kill all, after a confirmation; the status bar item goes away.
  await page.click(SELECTORS.toolbarButton('jupyter-bgjobs:kill-all'));
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('1 running job will be killed');
  await dialog.getByRole('button', { name: 'Kill All' }).click();
  await expect(jobs.row(path, 'first')).toHaveAttribute(
    'data-status',
    'killed'
  );
  await expect(status).toBeHidden();
});
