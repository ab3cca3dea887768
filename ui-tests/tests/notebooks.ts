import { IJupyterLabPageFixture } from '@jupyterlab/galata';

/** A notebook file with the python3 kernel (so no kernel dialog) and one empty cell. */
export function emptyNotebook(): string {
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
  // Through the command rather than the file browser, which may be hidden
  // behind another sidebar.
  await page.evaluate(async path => {
    await window.jupyterapp.commands.execute('docmanager:open', { path });
  }, path);
  await page.notebook.activate(path.split('/').pop() as string);
  // Other notebooks' (hidden) indicators do not count.
  await page
    .locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]:visible')
    .first()
    .waitFor();
}

/**
 * Put `code` in the first cell of the notebook on screen and run it. The
 * source is set on the cell's model, not typed: typing would let the editor
 * indent the lines of a block a second time. The notebook is activated
 * first, since a click in a sidebar takes the focus away from it.
 */
export async function runInFirstCell(
  page: IJupyterLabPageFixture,
  code: string
): Promise<void> {
  const name = await page.evaluate(async code => {
    for (const widget of window.jupyterapp.shell.widgets('main')) {
      const panel = widget as any;
      if (panel.isVisible && panel.context && panel.content?.widgets) {
        // Until the file is loaded, its content would replace this source.
        await panel.context.ready;
        panel.content.widgets[0].model.sharedModel.setSource(code);
        return panel.title.label as string;
      }
    }
    throw new Error('no notebook on screen');
  }, code);
  await page.notebook.activate(name);
  // A click on the cell puts the keyboard focus in the notebook.
  await page.notebook.selectCells(0);
  if (!(await page.notebook.runCell(0, true))) {
    throw new Error(`could not run the first cell of ${name}`);
  }
}

/**
 * Run `code` in the first cell of the notebook on screen and return what it
 * printed, as JSON: the kernel's own answer, for a test to check the panel
 * against.
 */
export async function askKernel<T>(
  page: IJupyterLabPageFixture,
  code: string
): Promise<T> {
  await runInFirstCell(page, code);
  const output = (await page.notebook.getCellTextOutput(0)) ?? [];
  const text = output.join('').trim();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`the kernel did not answer JSON: ${text}`);
  }
}
