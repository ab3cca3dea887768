import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { clearIcon, refreshIcon, stopIcon } from '@jupyterlab/ui-components';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';

import { IHistoryScope, isActive } from './api';
import { baseName, jobLabel } from './format';
import { endedShownIn } from './history';
import { jobsIcon } from './icons';
import { IJobsModel } from './tokens';

/** The commands of the extension. */
export namespace CommandIDs {
  /** Show the sidebar; with `uid`, open that job's row. */
  export const open = 'jupyter-bgjobs:open';
  export const refresh = 'jupyter-bgjobs:refresh';
  export const killAll = 'jupyter-bgjobs:kill-all';
  export const clearFinished = 'jupyter-bgjobs:clear-finished';
  /** Kill the job `uid`. */
  export const kill = 'jupyter-bgjobs:kill';
  /** Remove the ended job `uid`. */
  export const remove = 'jupyter-bgjobs:remove';
  /**
   * Clear the history (the ended jobs) of the notebook at `path`, or of the
   * kernel `kernel_id`; with neither, of the notebook in the main area.
   */
  export const clearHistory = 'jupyter-bgjobs:clear-history';
  /** Open the notebook at `path`. */
  export const openNotebook = 'jupyter-bgjobs:open-notebook';
}

/** The commands that take no arguments, for the palette. */
export const PALETTE_COMMANDS = [
  CommandIDs.open,
  CommandIDs.refresh,
  CommandIDs.killAll,
  CommandIDs.clearFinished,
  CommandIDs.clearHistory
];

/**
 * Add the commands. `reveal` shows the sidebar (and a job in it). Failures
 * become error notifications that say what was tried and what went wrong.
 */
export function addCommands(
  app: JupyterFrontEnd,
  model: IJobsModel,
  trans: TranslationBundle,
  reveal: (uid: string | null) => void
): IDisposable {
  const { commands } = app;
  const failed = (what: string) => (error: unknown) => {
    Notification.error(
      trans.__('%1: %2', what, error instanceof Error ? error.message : error)
    );
  };
  const uidOf = (args: ReadonlyPartialJSONObject) =>
    typeof args.uid === 'string' ? args.uid : '';
  const describe = (uid: string) => {
    const job = model.getJob(uid);
    return job ? trans.__('job %1 (%2)', job.number, jobLabel(job)) : uid;
  };
  const historyOf = (args: ReadonlyPartialJSONObject): IHistoryScope | null => {
    const target: IHistoryScope = {};
    if (typeof args.path === 'string' && args.path) {
      target.path = args.path;
    }
    if (typeof args.kernel_id === 'string' && args.kernel_id) {
      target.kernel_id = args.kernel_id;
    }
    if (target.path || target.kernel_id) {
      return target;
    }
    const path = documentPath(app);
    return path ? { path } : null;
  };
  /** A notebook by its file name, a kernel by its name and short id. */
  const nameOf = (target: IHistoryScope) => {
    if (target.path) {
      return baseName(target.path);
    }
    const id = target.kernel_id ?? '';
    const kernel = model.getKernel(id);
    return kernel
      ? trans.__('kernel %1 (%2)', kernel.kernel_name, id.slice(0, 8))
      : trans.__('kernel %1', id.slice(0, 8));
  };
  const endedIn = (target: IHistoryScope) =>
    endedShownIn(target, model.jobs, job => model.pathsOf(job));

  const registered = [
    commands.addCommand(CommandIDs.open, {
      label: trans.__('Show Background Jobs'),
      caption: trans.__('Open the Background Jobs sidebar'),
      icon: args => (args.isPalette ? undefined : jobsIcon),
      execute: args => reveal(uidOf(args) || null)
    }),
    commands.addCommand(CommandIDs.refresh, {
      label: trans.__('Refresh Background Jobs'),
      caption: trans.__('Ask the server for every job now'),
      icon: args => (args.isPalette ? undefined : refreshIcon),
      execute: () =>
        model.refresh().catch(failed(trans.__('Could not refresh the jobs')))
    }),
    commands.addCommand(CommandIDs.killAll, {
      label: trans.__('Kill All Background Jobs…'),
      caption: trans.__('Kill every running background job of every kernel'),
      icon: args => (args.isPalette ? undefined : stopIcon),
      isEnabled: () => model.counts.running > 0,
      execute: async () => {
        const running = model.jobs.filter(job => isActive(job.status));
        const kernels = new Set(running.map(job => job.kernel_id)).size;
        const answer = await showDialog({
          title: trans.__('Kill all background jobs?'),
          body:
            trans._n(
              '%1 running job will be killed',
              '%1 running jobs will be killed',
              running.length
            ) +
            ' ' +
            trans._n('(in %1 kernel).', '(in %1 kernels).', kernels),
          buttons: [
            Dialog.cancelButton(),
            Dialog.warnButton({ label: trans.__('Kill All') })
          ]
        });
        if (answer.button.accept) {
          await model
            .killAll()
            .catch(failed(trans.__('Could not kill every job')));
        }
      }
    }),
    commands.addCommand(CommandIDs.clearFinished, {
      label: trans.__('Clear Finished Background Jobs'),
      caption: trans.__(
        'Remove every ended job (finished, failed, killed or lost) from the list'
      ),
      icon: args => (args.isPalette ? undefined : clearIcon),
      isEnabled: () => model.counts.finished + model.counts.dead > 0,
      execute: () =>
        model
          .clearEnded()
          .catch(failed(trans.__('Could not remove every ended job')))
    }),
    commands.addCommand(CommandIDs.clearHistory, {
      label: args => {
        const target = historyOf(args);
        return target
          ? trans.__('Clear Background Jobs History of %1…', nameOf(target))
          : trans.__('Clear Background Jobs History of This Notebook…');
      },
      caption: trans.__(
        'Remove the ended jobs of a notebook from the server for good; running jobs stay'
      ),
      icon: args => (args.isPalette ? undefined : clearIcon),
      isEnabled: args => {
        const target = historyOf(args);
        return target !== null && endedIn(target) > 0;
      },
      execute: async args => {
        const target = historyOf(args);
        if (!target) {
          return;
        }
        const name = nameOf(target);
        let count: number;
        try {
          // The server's count: the panel holds only the newest ended jobs.
          count = await model.countHistory(target);
        } catch (error) {
          return failed(trans.__('Could not count the ended jobs of %1', name))(
            error
          );
        }
        if (count === 0) {
          Notification.info(trans.__('%1 has no ended jobs to clear.', name), {
            autoClose: 4000
          });
          return;
        }
        const answer = await showDialog({
          title: trans.__('Clear the history of %1?', name),
          body: trans._n(
            '%1 ended job (finished, failed, killed or lost) of %2 will be removed from the server for good. Running jobs stay.',
            '%1 ended jobs (finished, failed, killed or lost) of %2 will be removed from the server for good. Running jobs stay.',
            count,
            target.path ?? name
          ),
          buttons: [
            Dialog.cancelButton(),
            Dialog.warnButton({ label: trans.__('Clear History') })
          ],
          // What goes cannot come back: Enter cancels.
          defaultButton: 0
        });
        if (answer.button.accept) {
          await model
            .clearHistory(target)
            .catch(failed(trans.__('Could not clear the history of %1', name)));
        }
      }
    }),
    commands.addCommand(CommandIDs.kill, {
      label: args => trans.__('Kill %1', describe(uidOf(args))),
      icon: stopIcon,
      execute: args => {
        const uid = uidOf(args);
        return model
          .kill(uid)
          .catch(failed(trans.__('Could not kill %1', describe(uid))));
      }
    }),
    commands.addCommand(CommandIDs.remove, {
      label: args => trans.__('Remove %1', describe(uidOf(args))),
      execute: args => {
        const uid = uidOf(args);
        return model
          .remove(uid)
          .catch(failed(trans.__('Could not remove %1', describe(uid))));
      }
    }),
    commands.addCommand(CommandIDs.openNotebook, {
      label: args => trans.__('Open %1', String(args.path ?? '')),
      execute: args =>
        commands.execute('docmanager:open', { path: String(args.path ?? '') })
    })
  ];

  // Toolbar buttons and menus grey out when there is nothing to kill or clear.
  let enabled = '';
  const onChanged = () => {
    const now = `${model.counts.running > 0}:${
      model.counts.finished + model.counts.dead > 0
    }`;
    if (now !== enabled) {
      enabled = now;
      commands.notifyCommandChanged(CommandIDs.killAll);
      commands.notifyCommandChanged(CommandIDs.clearFinished);
      commands.notifyCommandChanged(CommandIDs.clearHistory);
    }
  };
  model.changed.connect(onChanged);

  return {
    get isDisposed() {
      return registered.length === 0;
    },
    dispose() {
      model.changed.disconnect(onChanged);
      registered.splice(0).forEach(item => item.dispose());
    }
  };
}

/**
 * The path of the document in the main area (a notebook's, in JupyterLab and
 * Notebook 7), or null. Document widgets carry their context's path.
 */
function documentPath(app: JupyterFrontEnd): string | null {
  const widget = app.shell.currentWidget as {
    context?: { path?: unknown };
  } | null;
  const path = widget?.context?.path;
  return typeof path === 'string' && path ? path : null;
}
