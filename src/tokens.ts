import { Token } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { ISignal } from '@lumino/signaling';

import { Counts, IHistoryScope, IJob, IKernelSummary, JobStatus } from './api';

/** Whether the model could reach the server extension. */
export type ConnectionState = 'connecting' | 'ok' | 'missing' | 'unreachable';

/**
 * How the model hears of changes: `events` once the server's push events
 * arrive, `polling` while it has to ask.
 */
export type UpdateSource = 'events' | 'polling';

/** A job whose status changed, as seen by this browser. */
export interface IJobTransition {
  job: IJob;
  /** The status before, or null for a job first seen already in this state. */
  previous: JobStatus | null;
  /** Whether this browser asked for the kill that ended it. */
  killedFromHere: boolean;
}

/** The settings of the model (see schema/model.json). */
export interface IJobsModelConfig {
  /** Seconds between two refreshes while push events do not arrive. */
  pollInterval: number;
  /** Seconds between two full refreshes while push events arrive. */
  resyncInterval: number;
  /** How many ended jobs (newest first) to keep. */
  maxEndedJobs: number;
}

/** The jobs of every kernel of the server: the one source of the views. */
export interface IJobsModel extends IDisposable {
  /** Emitted when jobs, kernels, details or the connection state change. */
  readonly changed: ISignal<IJobsModel, void>;
  /** Emitted with the jobs whose status changed, after the first load. */
  readonly transitioned: ISignal<IJobsModel, readonly IJobTransition[]>;
  /** The jobs, newest first. */
  readonly jobs: readonly IJob[];
  readonly kernels: readonly IKernelSummary[];
  /** How many jobs of each group the model holds. */
  readonly counts: Counts;
  readonly connection: ConnectionState;
  /** What went wrong with the last request, for the panel to show. */
  readonly error: string;
  readonly updateSource: UpdateSource;
  readonly config: IJobsModelConfig;

  getJob(uid: string): IJob | undefined;
  /** The kernel summary of an id, if the server listed it. */
  getKernel(kernelId: string): IKernelSummary | undefined;
  /** The job as `GET jobs/{uid}` returned it (full traceback), once loaded. */
  getDetails(uid: string): IJob | undefined;
  /** The notebook paths of a job's kernel (remembered after its session ends). */
  pathsOf(job: IJob): readonly string[];
  /** Seconds the job has run, counted on from the last report while it runs. */
  elapsedOf(job: IJob, now?: number): number | null;

  /** Fetch every job and kernel now. */
  refresh(): Promise<void>;
  /** Fetch the full record of a job. */
  loadDetails(uid: string): Promise<void>;
  kill(uid: string): Promise<void>;
  remove(uid: string): Promise<void>;
  /** Kill every running job of every kernel; resolves to how many were asked to die. */
  killAll(): Promise<number>;
  /** Remove every ended job the model holds; resolves to how many went. */
  clearEnded(): Promise<number>;
  /**
   * How many ended jobs the server holds of a notebook (`{path}`) or of a
   * kernel (`{kernel_id}`): what `clearHistory` of it would remove. It can
   * be more than the model holds (it keeps only the newest ended jobs).
   */
  countHistory(target: IHistoryScope): Promise<number>;
  /**
   * Forget every ended job of a notebook or kernel, on the server and here;
   * running and queued jobs stay. Resolves to how many the server removed.
   */
  clearHistory(target: IHistoryScope): Promise<number>;
  configure(config: Partial<IJobsModelConfig>): void;
}

/** The jobs model, for plugins that show jobs elsewhere. */
export const IJobsModel = new Token<IJobsModel>(
  'jupyter-bgjobs:IJobsModel',
  'The background jobs of every kernel of the server, with live updates.'
);
