import { expect, test } from '@jupyterlab/galata';

import { JobsSidebar, SELECTORS } from './jobspanel';

const REFRESH = SELECTORS.toolbarButton('jupyter-bgjobs:refresh');

test('the panel says so when the server extension is missing', async ({
  page
}) => {
  const jobs = new JobsSidebar(page);
  await jobs.open();
  await expect(jobs.body).toHaveAttribute('data-connection', 'ok');
  // A server without the extension answers 404 on its routes.
  await page.route('**/jupyter-bgjobs/**', route =>
    route.fulfill({
      status: 404,
      contentType: 'application/json',
      body: '{"message": "Not Found"}'
    })
  );
  await page.click(REFRESH);
  await expect(jobs.body).toHaveAttribute('data-connection', 'missing');
  await expect(jobs.panel.locator(SELECTORS.message)).toContainText(
    'The jupyter_bgjobs server extension is not running on this Jupyter server'
  );
});

test('the panel says so when the server cannot be reached, and recovers', async ({
  page
}) => {
  const jobs = new JobsSidebar(page);
  await jobs.open();
  await expect(jobs.body).toHaveAttribute('data-connection', 'ok');
  await page.route('**/jupyter-bgjobs/**', route =>
    route.abort('connectionrefused')
  );
  await page.click(REFRESH);
  await expect(jobs.body).toHaveAttribute('data-connection', 'unreachable');
  await expect(jobs.panel.locator(SELECTORS.message)).toContainText(
    'Cannot reach the Jupyter server'
  );

  await page.unroute('**/jupyter-bgjobs/**');
  await page.click(REFRESH);
  await expect(jobs.body).toHaveAttribute('data-connection', 'ok');
  await expect(
    jobs.panel.locator(SELECTORS.message, { hasText: 'Cannot reach' })
  ).toHaveCount(0);
});

test('a kernel where background jobs are unavailable says why', async ({
  page
}) => {
  const jobs = new JobsSidebar(page);
  // A server's answer for a kernel whose environment lacks jupyter_bgjobs.
  // (JupyterLab adds a cache-busting query to GET requests.)
  const kernelsRoute = (url: URL) =>
    url.pathname.endsWith('/jupyter-bgjobs/kernels');
  await page.route(kernelsRoute, route =>
    route.fulfill({
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify([
        {
          kernel_id: 'f00dfeed-0000-4000-8000-000000000000',
          kernel_name: 'python3',
          paths: ['elsewhere/plain.ipynb'],
          execution_state: 'idle',
          bgjobs: 'unavailable',
          reason: 'jupyter_bgjobs is not installed in the kernel environment',
          counts: { running: 0, finished: 0, dead: 0 }
        }
      ])
    })
  );
  await jobs.open();
  await page.click(REFRESH);
  const section = jobs.section('elsewhere/plain.ipynb');
  await expect(section.locator(SELECTORS.sectionTitle)).toHaveText(
    'plain.ipynb'
  );
  await expect(section.locator(SELECTORS.kernelNote)).toHaveText(
    'Background jobs are unavailable in kernel python3: jupyter_bgjobs is not installed in the kernel environment'
  );
});
