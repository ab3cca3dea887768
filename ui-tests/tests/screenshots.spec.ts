import { expect, test } from '@jupyterlab/galata';

import { JobsSidebar, SELECTORS } from './jobspanel';
import { openNotebook, runInFirstCell } from './notebooks';

/**
 * The panel in a state worth looking at, in the light and the dark theme.
 * The images land in ui-tests/screenshots/ (ignored by git); the light
 * panel is the one copied to docs/images/sidebar.png for the README.
 */
test('screenshots of the panel in the light and the dark theme', async ({
  page,
  tmpPath
}) => {
  const jobs = new JobsSidebar(page);
  await jobs.open();
  // Jobs of earlier tests would crowd the picture.
  const clear = page.locator(
    SELECTORS.toolbarButton('jupyter-bgjobs:clear-finished')
  );
  if (await clear.isEnabled()) {
    await clear.click();
  }

  const analysis = `${tmpPath}/analysis.ipynb`;
  const report = `${tmpPath}/report.ipynb`;
  await openNotebook(page, report);
  await runInFirstCell(page, '%job -n totals sum(range(10**6))');
  await openNotebook(page, analysis);
  await runInFirstCell(
    page,
    [
      'import time, jupyter_bgjobs',
      'def crunch(rows):',
      '    for _ in jupyter_bgjobs.progress(range(rows), desc="rows"):',
      '        time.sleep(0.05)',
      '    return rows',
      'def stubborn():',
      '    while True:',
      '        try:',
      '            time.sleep(0.5)',
      '        except BaseException:',
      '            pass',
      '%job -n "load prices" int("forty-two")',
      '%job sum(i * i for i in range(10**5))',
      '%job -n watcher stubborn()',
      '%job -n crunch crunch(2000)',
      '%job -n sleeper time.sleep(300)'
    ].join('\n')
  );
  await expect(jobs.row(analysis, 'load prices')).toHaveAttribute(
    'data-status',
    'failed'
  );
  await jobs.kill(jobs.row(analysis, 'sleeper'));
  await expect(jobs.row(analysis, 'sleeper')).toHaveAttribute(
    'data-status',
    'killed'
  );
  await jobs.kill(jobs.row(analysis, 'watcher'));
  await expect(
    jobs.row(analysis, 'watcher').locator(SELECTORS.badge)
  ).toHaveText('kill requested');
  await jobs.toggle(jobs.row(analysis, 'load prices'));
  await expect(
    jobs.row(analysis, 'load prices').locator(SELECTORS.traceback)
  ).toBeVisible();
  await expect(
    jobs.row(analysis, 'crunch').locator(SELECTORS.progressBar)
  ).toBeVisible();
  await page.mouse.move(900, 700);
  // The default width first: what most users see.
  await jobs.panel.screenshot({ path: 'screenshots/sidebar-narrow.png' });
  await page.sidebar.setWidth(420, 'left');

  for (const theme of ['light', 'dark']) {
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    }
    await jobs.panel.screenshot({ path: `screenshots/sidebar-${theme}.png` });
    await page.screenshot({ path: `screenshots/lab-${theme}.png` });
  }
  await page.theme.setLightTheme();
});
