import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';

import { baseName, formatElapsed, jobLabel } from './format';
import { DEFAULT_SETTINGS } from './settings';
import { IJobsModel, IJobTransition } from './tokens';

/** Which endings are worth a notification (see schema/model.json). */
export interface INotifierSettings {
  notifyOnFailed: boolean;
  notifyOnKilled: boolean;
  notifyOnLongFinished: boolean;
  /** Seconds a job must have run for its finish to be news. */
  longJobThreshold: number;
}

/** More notifications than this for one batch become one summary. */
const MAX_SEPARATE = 3;

/**
 * Tells the user, through JupyterLab's notifications, when a job fails, is
 * killed (by someone else than this browser), or finishes after a long run.
 */
export class JobNotifier implements IDisposable {
  constructor(options: JobNotifier.IOptions) {
    this._model = options.model;
    this._trans = options.trans;
    this._show = options.show;
    this._model.transitioned.connect(this._onTransitioned, this);
  }

  /** Starts from the defaults of schema/model.json. */
  settings: INotifierSettings = {
    notifyOnFailed: DEFAULT_SETTINGS.notifyOnFailed,
    notifyOnKilled: DEFAULT_SETTINGS.notifyOnKilled,
    notifyOnLongFinished: DEFAULT_SETTINGS.notifyOnLongFinished,
    longJobThreshold: DEFAULT_SETTINGS.longJobThreshold
  };

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._model.transitioned.disconnect(this._onTransitioned, this);
  }

  private _onTransitioned(
    _: IJobsModel,
    transitions: readonly IJobTransition[]
  ): void {
    const failed: IJobTransition[] = [];
    const killed: IJobTransition[] = [];
    const finished: IJobTransition[] = [];
    const { settings } = this;
    for (const transition of transitions) {
      const { job, killedFromHere } = transition;
      if (job.status === 'failed' && settings.notifyOnFailed) {
        failed.push(transition);
      } else if (
        job.status === 'killed' &&
        settings.notifyOnKilled &&
        !killedFromHere
      ) {
        killed.push(transition);
      } else if (
        job.status === 'finished' &&
        settings.notifyOnLongFinished &&
        (this._model.elapsedOf(job) ?? 0) >= settings.longJobThreshold
      ) {
        finished.push(transition);
      }
    }
    this._notify(failed, 'error', (job, where) =>
      job.error
        ? this._trans.__(
            'Job %1 %2 failed: %3',
            job.number,
            where,
            job.error.evalue
              ? `${job.error.ename}: ${job.error.evalue}`
              : job.error.ename
          )
        : this._trans.__('Job %1 %2 failed.', job.number, where)
    );
    this._notify(killed, 'warning', (job, where) =>
      this._trans.__('Job %1 %2 was killed.', job.number, where)
    );
    this._notify(finished, 'success', (job, where) =>
      this._trans.__(
        'Job %1 %2 finished after %3.',
        job.number,
        where,
        formatElapsed(this._model.elapsedOf(job))
      )
    );
  }

  private _notify(
    transitions: IJobTransition[],
    type: 'error' | 'warning' | 'success',
    message: (job: IJobTransition['job'], where: string) => string
  ): void {
    const trans = this._trans;
    // Closed toasts stay in JupyterLab's notification list.
    const autoClose = type === 'error' ? 10000 : 6000;
    if (transitions.length > MAX_SEPARATE) {
      const summary =
        type === 'error'
          ? trans._n('%1 job failed.', '%1 jobs failed.', transitions.length)
          : type === 'warning'
            ? trans._n(
                '%1 job was killed.',
                '%1 jobs were killed.',
                transitions.length
              )
            : trans._n(
                '%1 long job finished.',
                '%1 long jobs finished.',
                transitions.length
              );
      Notification.emit(summary, type, {
        autoClose,
        actions: [{ label: trans.__('Show'), callback: () => this._show(null) }]
      });
      return;
    }
    for (const { job } of transitions) {
      const path = this._model.pathsOf(job)[0];
      const where = path
        ? trans.__('(%1) in %2', jobLabel(job), baseName(path))
        : trans.__('(%1)', jobLabel(job));
      Notification.emit(message(job, where), type, {
        autoClose,
        actions: [
          { label: trans.__('Show'), callback: () => this._show(job.uid) }
        ]
      });
    }
  }

  private _model: IJobsModel;
  private _trans: TranslationBundle;
  private _show: (uid: string | null) => void;
  private _isDisposed = false;
}

export namespace JobNotifier {
  export interface IOptions {
    model: IJobsModel;
    trans: TranslationBundle;
    /** Show the sidebar, with one job open when given. */
    show: (uid: string | null) => void;
  }
}
