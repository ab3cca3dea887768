import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { CommandToolbarButton, SidePanel } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Panel, Widget } from '@lumino/widgets';

import { CommandIDs } from './commands';
import { matchesFilter } from './filter';
import { sectionKey } from './grouping';
import { IJobActions } from './jobrow';
import { JobsView } from './jobsview';
import { OutputRendering } from './outputview';
import { IJobsModel } from './tokens';
import { JobsViewState } from './viewstate';

/** The "Background Jobs" sidebar: a title, a toolbar of commands, the jobs. */
export class JobsPanel extends SidePanel {
  constructor(options: JobsPanel.IOptions) {
    const translator = options.translator ?? nullTranslator;
    super({ content: new Panel(), translator });
    const trans = translator.load('jupyter_bgjobs');
    const { commands, model } = options;
    this._model = model;
    this.addClass('jp-bgjobs-panel');

    const title = new Widget({ node: document.createElement('h2') });
    title.node.textContent = trans.__('Background Jobs');
    title.addClass('jp-bgjobs-title');
    this.header.addWidget(title);

    for (const [name, id] of [
      ['refresh', CommandIDs.refresh],
      ['clear-finished', CommandIDs.clearFinished],
      ['kill-all', CommandIDs.killAll]
    ]) {
      this.toolbar.addItem(
        name,
        new CommandToolbarButton({ commands, id, label: '' })
      );
    }

    const actions: IJobActions = {
      kill: job => void commands.execute(CommandIDs.kill, { uid: job.uid }),
      remove: job => void commands.execute(CommandIDs.remove, { uid: job.uid }),
      openNotebook: path =>
        void commands.execute(CommandIDs.openNotebook, { path }),
      clearHistory: target =>
        void commands.execute(CommandIDs.clearHistory, { ...target }),
      loadDetails: job =>
        // The row already shows what the list brought; details only add to it.
        void model.loadDetails(job.uid).catch(() => undefined)
    };
    this.addWidget(
      new JobsView({
        model,
        state: this._state,
        actions,
        rendering: options.rendering,
        translator
      })
    );
  }

  /** The panel's filters, folds and open rows. */
  get state(): JobsViewState {
    return this._state;
  }

  /** Show one job: make it pass the filters, open it, scroll to it. */
  reveal(uid: string): void {
    const job = this._model.getJob(uid);
    if (!job) {
      return;
    }
    const paths = this._model.pathsOf(job);
    const visible = matchesFilter(
      job,
      this._state.group,
      this._state.query,
      paths
    );
    this._state.reveal(
      uid,
      sectionKey(paths[0] ?? null, job.kernel_id),
      visible
    );
    requestAnimationFrame(() => {
      const row = this.node.querySelector(
        `.jp-bgjobs-row[data-uid="${CSS.escape(uid)}"]`
      );
      row?.scrollIntoView({ block: 'nearest' });
    });
  }

  private _model: IJobsModel;
  private _state = new JobsViewState();
}

export namespace JobsPanel {
  export interface IOptions {
    model: IJobsModel;
    commands: CommandRegistry;
    /** How the jobs' tracebacks and output are rendered. */
    rendering: OutputRendering;
    translator?: ITranslator;
  }
}
