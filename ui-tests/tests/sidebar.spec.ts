import { expect, test } from '@jupyterlab/galata';

import { JobsSidebar, SELECTORS } from './jobspanel';
import { openNotebook, runInFirstCell } from './notebooks';

test('jobs of two notebooks are grouped under their notebook names', async ({
  page,
  tmpPath
}) => {
  const jobs = new JobsSidebar(page);
  const first = `${tmpPath}/first.ipynb`;
  const second = `${tmpPath}/second.ipynb`;
  await openNotebook(page, first);
  await runInFirstCell(page, '%job -n alpha sum(range(10))\n%job -n beta 6*7');
  await openNotebook(page, second);
  await runInFirstCell(page, '%job -n gamma "done"');
  await jobs.open();

  await expect(jobs.section(first).locator(SELECTORS.sectionTitle)).toHaveText(
    'first.ipynb'
  );
  await expect(jobs.section(second).locator(SELECTORS.sectionTitle)).toHaveText(
    'second.ipynb'
  );
  // Newest first within a notebook.
  await expect(jobs.section(first).locator(SELECTORS.label)).toHaveText([
    'beta',
    'alpha'
  ]);
  await expect(jobs.section(second).locator(SELECTORS.label)).toHaveText([
    'gamma'
  ]);
  await expect(jobs.row(second, 'gamma')).toHaveAttribute(
    'data-status',
    'finished'
  );

  // The filters narrow the list; a folded section hides its rows.
  await jobs.search('gam');
  await expect(jobs.section(first)).toHaveCount(0);
  await expect(jobs.section(second).locator(SELECTORS.label)).toHaveText([
    'gamma'
  ]);
  await jobs.search('');
  await jobs.panel.locator(SELECTORS.groupButton('running')).click();
  await expect(jobs.panel.locator(SELECTORS.message)).toHaveText(
    'No jobs match the filter.'
  );
  await jobs.panel.locator(SELECTORS.groupButton('all')).click();
  await jobs.section(first).locator(SELECTORS.sectionHeader).click();
  await expect(jobs.section(first).locator(SELECTORS.row)).toHaveCount(0);
  await expect(jobs.section(second).locator(SELECTORS.row)).toHaveCount(1);
});

test('the kill button ends a job that sleeps in time.sleep(60)', async ({
  page,
  tmpPath
}) => {
  const jobs = new JobsSidebar(page);
  const path = `${tmpPath}/kill.ipynb`;
  await openNotebook(page, path);
  await runInFirstCell(page, 'import time\n%job -n sleeper time.sleep(60)');
  await jobs.open();
  const row = jobs.row(path, 'sleeper');
  await expect(row).toHaveAttribute('data-status', 'running');

  await jobs.kill(row);

  await expect(row).toHaveAttribute('data-status', 'killed', { timeout: 5000 });
  await expect(row.locator(SELECTORS.badge)).toHaveText('killed');
  // An ended job can be removed, not killed.
  await expect(row.locator(SELECTORS.kill)).toHaveCount(0);
  await row.hover();
  await row.locator(SELECTORS.remove).click();
  await expect(row).toHaveCount(0);
});

test('a failing job opens to its traceback, with the colours of its output', async ({
  page,
  tmpPath
}) => {
  const jobs = new JobsSidebar(page);
  const path = `${tmpPath}/fail.ipynb`;
  await openNotebook(page, path);
  await runInFirstCell(
    page,
    [
      '%%job -n boom',
      'print("\\x1b[31mred warning\\x1b[0m then plain")',
      'def parse_record(line):',
      '    raise ValueError(f"bad record {line!r}")',
      'parse_record("x;y")'
    ].join('\n')
  );
  await jobs.open();
  const row = jobs.row(path, 'boom');
  await expect(row).toHaveAttribute('data-status', 'failed');

  await jobs.toggle(row);

  const details = row.locator(SELECTORS.details);
  await expect(details.locator(SELECTORS.errorSummary)).toHaveText(
    "ValueError: bad record 'x;y'"
  );
  const traceback = details.locator(SELECTORS.traceback);
  await expect(traceback).toContainText('in parse_record');
  await expect(traceback).toContainText("ValueError: bad record 'x;y'");
  // Rendered as a notebook renders a traceback: JupyterLab's error block.
  await expect(
    traceback.locator(
      '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]'
    )
  ).toBeVisible();
  // ANSI colours became styled text, and the escape codes are gone.
  const output = details.locator(SELECTORS.output);
  await expect(output).toContainText('red warning then plain');
  await expect(output.locator('.ansi-red-fg')).toHaveText('red warning');
  expect(await output.textContent()).not.toContain('[31m');
});

test('a file in a traceback is a link that opens the file, as in a notebook', async ({
  page,
  tmpPath
}) => {
  const jobs = new JobsSidebar(page);
  const path = `${tmpPath}/linked.ipynb`;
  await page.contents.uploadContent(
    'def explode():\n    raise KeyError("no such row")\n',
    'text',
    `${tmpPath}/rows.py`
  );
  await openNotebook(page, path);
  await runInFirstCell(page, 'import rows\n%job -n explode rows.explode()');
  await jobs.open();
  const row = jobs.row(path, 'explode');
  await expect(row).toHaveAttribute('data-status', 'failed');

  await jobs.toggle(row);

  const link = row
    .locator(SELECTORS.traceback)
    .locator('a[href]', { hasText: 'rows.py' });
  await expect(link).toHaveCount(1);
  await expect(link).toHaveAttribute('href', /rows\.py#line=1$/);
  await link.click();
  await expect(page.getByRole('tab', { name: 'rows.py' })).toBeVisible();
});

test('a job that reports progress shows a moving bar', async ({
  page,
  tmpPath
}) => {
  const jobs = new JobsSidebar(page);
  const path = `${tmpPath}/progress.ipynb`;
  await openNotebook(page, path);
  await runInFirstCell(
    page,
    [
      '%%job -n crunch',
      'import time, jupyter_bgjobs',
      'for item in jupyter_bgjobs.progress(range(60), desc="items"):',
      '    time.sleep(0.2)'
    ].join('\n')
  );
  await jobs.open();
  const bar = jobs.row(path, 'crunch').locator(SELECTORS.progressBar);
  await expect(bar).toHaveAttribute('aria-valuemax', '60');

  const done = async () => Number(await bar.getAttribute('aria-valuenow'));
  const width = async () =>
    bar
      .locator('.jp-bgjobs-progress-fill')
      .evaluate(fill => fill.getBoundingClientRect().width);
  const [firstDone, firstWidth] = [await done(), await width()];
  await expect.poll(done, { timeout: 8000 }).toBeGreaterThan(firstDone + 3);
  expect(await width()).toBeGreaterThan(firstWidth);
  await expect(
    jobs.row(path, 'crunch').locator('.jp-bgjobs-progress-text')
  ).toContainText(/^items: \d+ \/ 60 \(\d+%\)$/);
});

test('markup in a job is shown as text and runs no script', async ({
  page,
  tmpPath
}) => {
  const dialogs: string[] = [];
  page.on('dialog', async dialog => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  const hostile = '<img src=x onerror=alert(1)>';
  const jobs = new JobsSidebar(page);
  const path = `${tmpPath}/hostile.ipynb`;
  await openNotebook(page, path);
  await runInFirstCell(
    page,
    `%job print("${hostile}") or "${hostile}"\n%job -n "${hostile}" 1/0`
  );
  await jobs.open();

  const section = jobs.section(path);
  const byCode = jobs.row(path, `print("${hostile}") or "${hostile}"`);
  const byName = jobs.row(path, hostile);
  await expect(byCode).toHaveAttribute('data-status', 'finished');
  await expect(byName).toHaveAttribute('data-status', 'failed');
  await jobs.toggle(byCode);
  const output = byCode.locator(SELECTORS.output);
  await expect(output).toContainText(hostile);
  expect(await output.textContent()).toBe(`${hostile}\n`);
  await expect(byCode.locator(SELECTORS.result)).toHaveText(`'${hostile}'`);
  await expect(byCode.locator('.jp-bgjobs-source pre')).toHaveText(
    `print("${hostile}") or "${hostile}"`
  );
  await jobs.toggle(byName);
  await expect(byName.locator(SELECTORS.errorSummary)).toHaveText(
    'ZeroDivisionError: division by zero'
  );

  // Nothing became an element, nothing ran.
  await expect(section.locator('img')).toHaveCount(0);
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  await page.waitForTimeout(500);
  expect(dialogs).toEqual([]);
});
