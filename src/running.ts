import { IRunningSessionManagers, IRunningSessions } from '@jupyterlab/running';
import { TranslationBundle } from '@jupyterlab/translation';
import { notebookIcon, stopIcon } from '@jupyterlab/ui-components';
import { IDisposable } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';

import { IJob, isActive } from './api';
import { baseName, jobLabel } from './format';
import { groupJobs } from './grouping';
import { jobsIcon } from './icons';
import { IJobsModel } from './tokens';

export namespace RunningJobs {
  export interface IOptions {
    model: IJobsModel;
    trans: TranslationBundle;
    /** Show a job in the sidebar. */
    reveal: (uid: string) => void;
    /** Kill one job, reporting a failure to the user. */
    kill: (uid: string) => void;
    /** Kill every running job (the Running panel asked for confirmation). */
    killAll: () => void;
    openNotebook: (path: string) => void;
  }
}

/**
 * A "Background Jobs" section in JupyterLab's Running panel: the running
 * jobs, flat or under their notebooks, each with a kill button.
 */
export function addRunningJobs(
  managers: IRunningSessionManagers,
  options: RunningJobs.IOptions
): IDisposable {
  const { model, trans } = options;
  const owner = {};
  const runningChanged = new Signal<object, void>(owner);

  // The Running panel rebuilds its list on each signal: only signal when
  // what it shows (running jobs, their labels, their notebooks) changed.
  let shown = '';
  const onChanged = () => {
    const now = JSON.stringify(
      running().map(job => [
        job.uid,
        jobLabel(job),
        job.kill_requested,
        model.pathsOf(job)
      ])
    );
    if (now !== shown) {
      shown = now;
      runningChanged.emit();
    }
  };
  model.changed.connect(onChanged);

  function running(): IJob[] {
    return model.jobs.filter(job => isActive(job.status));
  }

  function jobItem(
    job: IJob,
    withNotebook: boolean
  ): IRunningSessions.IRunningItem {
    const path = model.pathsOf(job)[0] ?? null;
    return {
      className: 'jp-bgjobs-running-item',
      context: job.uid,
      icon: () => jobsIcon,
      label: () => `${job.number}: ${jobLabel(job)}`,
      labelTitle: () =>
        path
          ? trans.__('Job %1 in %2\n\n%3', job.number, path, job.code)
          : trans.__('Job %1\n\n%2', job.number, job.code),
      detail: () =>
        job.kill_requested
          ? trans.__('kill requested')
          : withNotebook && path
            ? baseName(path)
            : '',
      open: () => options.reveal(job.uid),
      shutdown: () => options.kill(job.uid)
    };
  }

  const manager: IRunningSessions.IManager = {
    name: trans.__('Background Jobs'),
    supportsMultipleViews: true,
    running: ({ mode }) => {
      if (mode === 'list') {
        return running().map(job => jobItem(job, true));
      }
      return groupJobs(running(), [], job => model.pathsOf(job)).map(
        section => ({
          className: 'jp-bgjobs-running-notebook',
          icon: () => notebookIcon,
          label: () =>
            section.path
              ? baseName(section.path)
              : trans.__('Kernel %1', section.kernelIds[0].slice(0, 8)),
          labelTitle: () => section.path ?? section.kernelIds.join(', '),
          open: () => {
            if (section.path) {
              options.openNotebook(section.path);
            }
          },
          children: section.jobs.map(job => jobItem(job, false))
        })
      );
    },
    shutdownAll: () => options.killAll(),
    refreshRunning: () => void model.refresh().catch(() => undefined),
    runningChanged,
    shutdownLabel: trans.__('Kill Job'),
    shutdownAllLabel: trans.__('Kill All'),
    shutdownAllConfirmationText: () =>
      trans._n(
        'Kill the %1 running background job?',
        'Kill all %1 running background jobs?',
        running().length
      ),
    shutdownItemIcon: stopIcon
  };
  const added = managers.add(manager);

  return {
    get isDisposed() {
      return added.isDisposed;
    },
    dispose() {
      model.changed.disconnect(onChanged);
      Signal.clearData(owner);
      added.dispose();
    }
  };
}
