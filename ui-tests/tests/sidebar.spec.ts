import { expect, test } from '@jupyterlab/galata';

import { openNotebook, runInFirstCell } from './notebooks';

const SIDEBAR_TAB = '[data-id="jupyter-bgjobs-sidebar"]';
const SIDEBAR = '#jupyter-bgjobs-sidebar';

test('a job started with %job appears in the sidebar under its notebook', async ({
  page,
  tmpPath
}) => {
  const path = `${tmpPath}/sidebar-demo.ipynb`;
  await openNotebook(page, path);
  await runInFirstCell(page, '%job sum(range(10))');

  await page.click(SIDEBAR_TAB);
  const row = page.locator(`${SIDEBAR} .jp-bgjobs-row`).first();
  await expect(row).toBeVisible({ timeout: 15000 });
  await expect(row.locator('.jp-bgjobs-code')).toHaveText('sum(range(10))');
  await expect(row).toHaveAttribute('data-status', 'finished');
  await expect(page.locator(`${SIDEBAR} .jp-bgjobs-section-title`)).toHaveText(
    'sidebar-demo.ipynb'
  );

  await page.screenshot({ path: 'screenshots/sidebar.png' });
});
