import { expect, test } from '@jupyterlab/galata';

import { JobsSidebar, SELECTORS } from './jobspanel';
import { openNotebook, runInFirstCell } from './notebooks';

const REFRESH = SELECTORS.toolbarButton('jupyter-bgjobs:refresh');

test("a control comm closed by the notebook's own code is opened again, and kill still works", async ({
  page
}) => {
  const path = 'closer.ipynb';
  const jobs = new JobsSidebar(page);
  await openNotebook(page, path);
  await jobs.open();
  await runInFirstCell(
    page,
    [
      'import time',
      '%job -n sleeper time.sleep(600)',
      "for _c in [c for c in get_ipython().kernel.comm_manager.comms.values() if c.target_name == 'jupyter_bgjobs.control']:",
      '    _c.close()'
    ].join('\n')
  );
  const row = jobs.row(path, 'sleeper');
  await expect(row).toHaveAttribute('data-status', 'running');
  await page.click(REFRESH);
  await expect(jobs.section(path).locator(SELECTORS.kernelNote)).toHaveText(
    /^Kernel python3: the kernel closed the relay's control comm at \d\d:\d\d:\d\d \(code running in the kernel can\); another was opened$/
  );
  await jobs.kill(row);
  await expect(row).toHaveAttribute('data-status', 'killed');
});
