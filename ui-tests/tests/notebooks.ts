import { IJupyterLabPageFixture } from '@jupyterlab/galata';

/** A notebook file with the python3 kernel (so no kernel dialog) and one empty cell. */
function emptyNotebook(): string {
  return JSON.stringify({
    cells: [
      {
        cell_type: 'code',
        execution_count: null,
        metadata: {},
        outputs: [],
        source: ''
      }
    ],
    metadata: {
      kernelspec: {
        display_name: 'Python 3 (ipykernel)',
        language: 'python',
        name: 'python3'
      }
    },
    nbformat: 4,
    nbformat_minor: 5
  });
}

/** Create `path` on the server and open it with a running kernel. */
export async function openNotebook(
  page: IJupyterLabPageFixture,
  path: string
): Promise<void> {
  await page.contents.uploadContent(emptyNotebook(), 'text', path);
  await page.notebook.openByPath(path);
  await page.notebook.activate(path);
  await page.waitForSelector(
    '.jp-Notebook-ExecutionIndicator[data-status="idle"]'
  );
}

/** Put `code` in the first cell and run it. */
export async function runInFirstCell(
  page: IJupyterLabPageFixture,
  code: string
): Promise<void> {
  await page.notebook.setCell(0, 'code', code);
  await page.notebook.runCell(0, true);
}
