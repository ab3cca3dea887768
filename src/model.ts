import { Event } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import {
  BgJobsClient,
  Counts,
  IHistoryScope,
  IJob,
  IKernelSummary,
  isActive
} from './api';
import { parseJobsEvent } from './events';
import { clearedBy, historyScopes } from './history';
import { describeError, isErrorStatus } from './request';
import { SnapshotReconciler } from './reconciler';
import { RefreshSchedule } from './schedule';
import { fulfilled, settleInBatches, throwFirstFailure } from './settled';
import { DEFAULT_SETTINGS } from './settings';
import { JobStore } from './jobstore';
import { TransitionTracker } from './transitions';
import {
  ConnectionState,
  IJobsModel,
  IJobsModelConfig,
  IJobTransition,
  UpdateSource
} from './tokens';

/** Requests at once when many jobs are removed. */
const REMOVE_CONCURRENCY = 4;

export namespace JobsModel {
  export interface IOptions extends Partial<IJobsModelConfig> {
    client: BgJobsClient;
    /**
     * The server's event bus as JupyterLab receives it
     * (`serviceManager.events.stream`); without it the model only polls.
     */
    events?: ISignal<unknown, Event.Emission> | null;
    /** Start polling at once (default true); tests drive `refresh` themselves. */
    autoStart?: boolean;
    /** The clock in milliseconds (default `Date.now`). */
    now?: () => number;
  }
}

/**
 * The jobs of every kernel of the server. Views only render it.
 *
 * It hears of changes through the server's push events; a `RefreshSchedule`
 * asks the REST API for everything, often while no event has arrived (an
 * older server, or the event socket is down) and rarely once they flow.
 * Both go through the `SnapshotReconciler`, which orders them (see there),
 * into the `JobStore`; the `TransitionTracker` tells the notifier what is
 * news. This class wires them, runs the commands and keeps the connection
 * state.
 */
export class JobsModel implements IJobsModel {
  constructor(options: JobsModel.IOptions) {
    this._client = options.client;
    this._store = new JobStore(options.now ?? Date.now);
    this._config = {
      pollInterval: options.pollInterval ?? DEFAULT_SETTINGS.pollInterval,
      resyncInterval: options.resyncInterval ?? DEFAULT_SETTINGS.resyncInterval,
      maxEndedJobs: options.maxEndedJobs ?? DEFAULT_SETTINGS.maxEndedJobs
    };
    this._schedule = new RefreshSchedule({
      refresh: () => this._fetch(),
      config: () => this._config
    });
    this._events = options.events ?? null;
    this._events?.connect(this._onEmission, this);
    if (options.autoStart ?? true) {
      this._schedule.start();
    }
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get transitioned(): ISignal<this, readonly IJobTransition[]> {
    return this._transitioned;
  }

  get jobs(): readonly IJob[] {
    return this._store.ordered;
  }

  get kernels(): readonly IKernelSummary[] {
    return this._kernels;
  }

  get counts(): Counts {
    return this._store.counts;
  }

  get connection(): ConnectionState {
    return this._connection;
  }

  get error(): string {
    return this._error;
  }

  get updateSource(): UpdateSource {
    return this._updateSource;
  }

  /** Seconds until the next refresh while all goes well. */
  get refreshInterval(): number {
    return this._schedule.interval;
  }

  get config(): IJobsModelConfig {
    return { ...this._config };
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  getJob(uid: string): IJob | undefined {
    return this._store.getJob(uid);
  }

  getKernel(kernelId: string): IKernelSummary | undefined {
    return this._kernels.find(kernel => kernel.kernel_id === kernelId);
  }

  getDetails(uid: string): IJob | undefined {
    return this._store.getDetails(uid);
  }

  pathsOf(job: IJob): readonly string[] {
    return this._store.pathsOf(job);
  }

  elapsedOf(job: IJob, now?: number): number | null {
    return this._store.elapsedOf(job, now);
  }

  /** Fetch every job and kernel now; rejects (after recording why) on failure. */
  refresh(): Promise<void> {
    return this._fetch();
  }

  async loadDetails(uid: string): Promise<void> {
    const job = await this._client.getJob(uid);
    if (this.isDisposed) {
      return;
    }
    this._store.setDetails(job);
    this._merge([job], []);
  }

  async kill(uid: string): Promise<void> {
    this._store.setKilledHere(uid, true);
    try {
      const job = await this._client.killJob(uid);
      this._merge([job], []);
    } catch (error) {
      this._store.setKilledHere(uid, false);
      // 409: it ended meanwhile; show how.
      this._schedule.refreshSoon();
      throw error;
    }
    if (this._updateSource === 'polling') {
      // No event will tell when it dies: ask.
      this._schedule.refreshSoon();
    }
  }

  async remove(uid: string): Promise<void> {
    await this._client.forgetJob(uid);
    this._merge([], [uid]);
  }

  async killAll(): Promise<number> {
    const kernelIds = new Set(
      this.jobs.filter(job => isActive(job.status)).map(job => job.kernel_id)
    );
    const outcomes = await Promise.allSettled(
      [...kernelIds].map(id => this._client.killKernelJobs(id))
    );
    const asked = fulfilled(outcomes).flatMap(answer => answer.killed ?? []);
    const killed: IJob[] = [];
    for (const uid of asked) {
      this._store.setKilledHere(uid, true);
      const job = this._store.getJob(uid);
      if (job && isActive(job.status)) {
        // The kernel took the order: say so until it reports the end.
        killed.push({ ...job, kill_requested: true });
      }
    }
    this._merge(killed, []);
    this._schedule.refreshSoon();
    throwFirstFailure(outcomes);
    return asked.length;
  }

  async clearEnded(): Promise<number> {
    const uids = this.jobs
      .filter(job => !isActive(job.status))
      .map(job => job.uid);
    const outcomes = await settleInBatches(uids, REMOVE_CONCURRENCY, uid =>
      this._client.forgetJob(uid)
    );
    const removed = fulfilled(outcomes);
    this._merge([], removed);
    throwFirstFailure(outcomes);
    return removed.length;
  }

  async countHistory(target: IHistoryScope): Promise<number> {
    const counts = await Promise.all(
      this._historyScopes(target).map(scope => this._client.countHistory(scope))
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  async clearHistory(target: IHistoryScope): Promise<number> {
    const scopes = this._historyScopes(target);
    // Only what had ended when the server was asked is surely gone there; a
    // job that ends meanwhile stays or goes as the server's events say.
    const ended = this.jobs.filter(job => !isActive(job.status));
    const outcomes = await Promise.allSettled(
      scopes.map(scope => this._client.clearHistory(scope))
    );
    const cleared = scopes.filter((_, i) => outcomes[i].status === 'fulfilled');
    const removed = ended.filter(job =>
      cleared.some(scope => clearedBy(job, scope))
    );
    this._merge(
      [],
      removed.map(job => job.uid)
    );
    throwFirstFailure(outcomes);
    return fulfilled(outcomes).reduce((sum, count) => sum + count, 0);
  }

  configure(config: Partial<IJobsModelConfig>): void {
    const before = this._config;
    this._config = { ...before, ...config };
    if (this._config.maxEndedJobs < before.maxEndedJobs) {
      this._hold({ jobs: new Map(this._store.byUid), received: [] });
      this._changed.emit();
    }
    const shorter = this._updateSchedule();
    if (this._config.maxEndedJobs > before.maxEndedJobs || shorter) {
      this._schedule.refreshSoon();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._events?.disconnect(this._onEmission, this);
    this._schedule.dispose();
    Signal.clearData(this);
  }

  /** One full refresh: every running job, the newest ended ones, the kernels. */
  private async _fetch(): Promise<void> {
    const ticket = this._reconciler.begin();
    try {
      const [jobs, kernels] = await Promise.all([
        this._client.listSnapshot(this._config.maxEndedJobs),
        this._client.listKernels()
      ]);
      // A later refresh may have been applied already: never go back to an older one.
      if (this.isDisposed || !this._reconciler.accept(ticket)) {
        return;
      }
      this._kernels = kernels;
      for (const kernel of kernels) {
        this._store.rememberPaths(kernel.kernel_id, kernel.paths);
      }
      const result = this._reconciler.applySnapshot(
        this._store.byUid,
        jobs,
        ticket
      );
      if (result.drift && this._transitions.loaded) {
        // A change reached us by polling that no event announced.
        this._updateSource = 'polling';
      }
      this._hold(result);
      this._transitions.markLoaded();
      this._connection = 'ok';
      this._error = '';
    } catch (error) {
      if (this.isDisposed) {
        return;
      }
      this._connection = isErrorStatus(error, 404) ? 'missing' : 'unreachable';
      this._error = describeError(error);
      // The event socket is most likely down too: rely on polling until an
      // event proves otherwise.
      this._updateSource = 'polling';
      throw error;
    } finally {
      if (!this.isDisposed) {
        this._updateSchedule();
        this._changed.emit();
      }
    }
  }

  /** Apply changed and removed jobs: from an event, or from a command's answer. */
  private _merge(changed: IJob[], removed: string[]): void {
    if (this.isDisposed || (changed.length === 0 && removed.length === 0)) {
      return;
    }
    const result = this._reconciler.applyChanges(
      this._store.byUid,
      changed,
      removed
    );
    this._hold(result);
    this._changed.emit();
    const unknownKernel = result.received.some(
      uid => !this.getKernel(this._store.getJob(uid)?.kernel_id ?? '')
    );
    if (unknownKernel) {
      this._schedule.refreshSoon();
    }
  }

  /** Hold these jobs from now on, and tell of the transitions. */
  private _hold(result: Pick<SnapshotReconciler.IResult, 'jobs' | 'received'>) {
    const before = this._store.replace(
      result.jobs,
      result.received,
      this._config.maxEndedJobs
    );
    const transitions = this._transitions.compare(
      before,
      this._store.byUid,
      uid => this._store.killedHere(uid)
    );
    if (transitions.length > 0) {
      this._transitioned.emit(transitions);
    }
  }

  private _onEmission(_: unknown, emission: Event.Emission): void {
    const batch = parseJobsEvent(emission);
    if (!batch || this.isDisposed) {
      return;
    }
    if (this._updateSource !== 'events') {
      this._updateSource = 'events';
      this._updateSchedule();
    }
    if (batch.changed.length === 0 && batch.removed.length === 0) {
      this._changed.emit();
      return;
    }
    this._merge(batch.changed, batch.removed);
  }

  private _historyScopes(target: IHistoryScope): IHistoryScope[] {
    return historyScopes(target, this.jobs, job => this.pathsOf(job));
  }

  /** Poll often while changes are not pushed or a kernel is still connecting. */
  private _updateSchedule(): boolean {
    return this._schedule.update(
      this._updateSource === 'polling' ||
        this._kernels.some(kernel => kernel.bgjobs === 'connecting')
    );
  }

  private _client: BgJobsClient;
  private _config: IJobsModelConfig;
  private _events: ISignal<unknown, Event.Emission> | null;
  private _store: JobStore;
  private _reconciler = new SnapshotReconciler();
  private _transitions = new TransitionTracker();
  private _schedule: RefreshSchedule;
  private _kernels: IKernelSummary[] = [];
  private _connection: ConnectionState = 'connecting';
  private _error = '';
  private _updateSource: UpdateSource = 'polling';
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _transitioned = new Signal<this, readonly IJobTransition[]>(this);
}
