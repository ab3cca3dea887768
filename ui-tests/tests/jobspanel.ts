import { IJupyterLabPageFixture } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';

/** Every selector the UI tests use, in one place. */
export const SELECTORS = {
  tab: '.jp-SideBar [data-id="jupyter-bgjobs-sidebar"]',
  panel: '#jupyter-bgjobs-sidebar',
  body: '.jp-bgjobs-body',
  message: '.jp-bgjobs-message',
  banner: '.jp-bgjobs-banner',
  section: '.jp-bgjobs-section',
  sectionHeader: '.jp-bgjobs-section-header',
  sectionTitle: '.jp-bgjobs-section-title',
  clearHistory: '.jp-bgjobs-clear-history',
  dialog: '.jp-Dialog',
  dialogTitle: '.jp-Dialog-header',
  dialogBody: '.jp-Dialog-body',
  dialogAccept: '.jp-Dialog-button.jp-mod-accept',
  dialogCancel: '.jp-Dialog-button.jp-mod-reject',
  kernelNote: '.jp-bgjobs-kernel-note',
  search: '.jp-bgjobs-search input',
  row: '.jp-bgjobs-row',
  rowMain: '.jp-bgjobs-row-main',
  label: '.jp-bgjobs-code',
  badge: '.jp-bgjobs-badge',
  elapsed: '.jp-bgjobs-elapsed',
  progressBar: '.jp-bgjobs-progress-track',
  kill: '.jp-bgjobs-kill',
  remove: '.jp-bgjobs-remove',
  details: '.jp-bgjobs-details',
  errorSummary: '.jp-bgjobs-error-summary',
  traceback: '.jp-bgjobs-traceback',
  output: '.jp-bgjobs-output .jp-bgjobs-stream',
  result: '.jp-bgjobs-result .jp-bgjobs-pre',
  groupButton: (group: string) => `.jp-bgjobs-group[data-group="${group}"]`,
  toolbarButton: (command: string) =>
    `#jupyter-bgjobs-sidebar .jp-Toolbar [data-command="${command}"]`,
  statusItem: '.jp-bgjobs-status-item',
  runningTab: '.jp-SideBar [data-id="jp-running-sessions"]',
  runningItem: '.jp-RunningSessions-item.jp-bgjobs-running-item',
  runningShutdown: '.jp-RunningSessions-itemShutdown'
};

/** The Background Jobs sidebar, as a user sees and uses it. */
export class JobsSidebar {
  constructor(readonly page: IJupyterLabPageFixture) {}

  get panel(): Locator {
    return this.page.locator(SELECTORS.panel);
  }

  get body(): Locator {
    return this.panel.locator(SELECTORS.body);
  }

  /** Open the sidebar (once the jobs have loaded). */
  async open(): Promise<void> {
    if (!(await this.panel.isVisible())) {
      await this.page.click(SELECTORS.tab);
    }
    await this.panel.waitFor({ state: 'visible' });
  }

  /** The section of a notebook. */
  section(path: string): Locator {
    return this.panel.locator(`${SELECTORS.section}[data-path="${path}"]`);
  }

  /** The row of the job with this name (or label) in a notebook's section. */
  row(path: string, label: string): Locator {
    return this.section(path)
      .locator(SELECTORS.row)
      .filter({
        has: this.page.locator(SELECTORS.label, {
          hasText: new RegExp(`^${escapeRegExp(label)}$`)
        })
      });
  }

  /** Type in the filter box (empty: no filter). */
  async search(text: string): Promise<void> {
    await this.panel.locator(SELECTORS.search).fill(text);
  }

  /** Open or close a row. */
  async toggle(row: Locator): Promise<void> {
    await row.locator(SELECTORS.rowMain).click();
  }

  async kill(row: Locator): Promise<void> {
    await row.locator(SELECTORS.kill).click();
  }

  /** The uid of the job a row shows. */
  async uidOf(row: Locator): Promise<string> {
    const uid = await row.getAttribute('data-uid');
    if (!uid) {
      throw new Error('row without a uid');
    }
    return uid;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
