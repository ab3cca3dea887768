import { Event } from '@jupyterlab/services';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import {
  BgJobsClient,
  Counts,
  IJob,
  IKernelSummary,
  isActive,
  lifeStage,
  STATUS_GROUP
} from './api';
import { parseJobsEvent } from './events';
import { compareJobs, timeOf } from './grouping';
import { ApiError } from './request';
import {
  ConnectionState,
  IJobsModel,
  IJobsModelConfig,
  IJobTransition,
  UpdateSource
} from './tokens';

/** The settings a fresh model uses (schema/model.json says the same). */
export const DEFAULT_CONFIG: Readonly<IJobsModelConfig> = Object.freeze({
  pollInterval: 2,
  resyncInterval: 60,
  maxEndedJobs: 100
});

/** The longest wait between two refreshes: one day. */
const MAX_INTERVAL = 24 * 3600 * 1000;

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
 * It hears of changes through the server's push events and merges them; a
 * `Poll` asks the REST API for everything, often while no event has arrived
 * (an older server, or the event socket is down) and rarely once they flow,
 * to resynchronize. Snapshots and events race: a job's life only goes
 * forward (queued, running, ended), and an event newer than the start of a
 * snapshot request wins over that snapshot.
 */
export class JobsModel implements IJobsModel {
  constructor(options: JobsModel.IOptions) {
    this._client = options.client;
    this._now = options.now ?? Date.now;
    this._config = {
      pollInterval: options.pollInterval ?? DEFAULT_CONFIG.pollInterval,
      resyncInterval: options.resyncInterval ?? DEFAULT_CONFIG.resyncInterval,
      maxEndedJobs: options.maxEndedJobs ?? DEFAULT_CONFIG.maxEndedJobs
    };
    this._poll = new Poll({
      auto: false,
      factory: () => this._fetch(),
      frequency: this._frequency(),
      name: 'jupyter-bgjobs:jobs',
      standby: 'when-hidden'
    });
    this._events = options.events ?? null;
    this._events?.connect(this._onEmission, this);
    if (options.autoStart ?? true) {
      this._started = true;
      void this._poll.start();
    }
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get transitioned(): ISignal<this, readonly IJobTransition[]> {
    return this._transitioned;
  }

  get jobs(): readonly IJob[] {
    return this._ordered;
  }

  get kernels(): readonly IKernelSummary[] {
    return this._kernels;
  }

  get counts(): Counts {
    return this._counts;
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
    return this._poll.frequency.interval / 1000;
  }

  get config(): IJobsModelConfig {
    return { ...this._config };
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  getJob(uid: string): IJob | undefined {
    return this._jobs.get(uid);
  }

  getKernel(kernelId: string): IKernelSummary | undefined {
    return this._kernels.find(kernel => kernel.kernel_id === kernelId);
  }

  getDetails(uid: string): IJob | undefined {
    return this._details.get(uid);
  }

  pathsOf(job: IJob): readonly string[] {
    if (job.paths.length > 0) {
      return job.paths;
    }
    return this._knownPaths.get(job.kernel_id) ?? [];
  }

  elapsedOf(job: IJob, now: number = this._now()): number | null {
    if (job.elapsed === null) {
      return null;
    }
    const receivedAt = this._receivedAt.get(job.uid);
    if (job.status !== 'running' || receivedAt === undefined) {
      return job.elapsed;
    }
    return job.elapsed + Math.max(0, now - receivedAt) / 1000;
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
    this._details.set(uid, job);
    this._merge([job], []);
  }

  async kill(uid: string): Promise<void> {
    this._killedHere.add(uid);
    try {
      const job = await this._client.killJob(uid);
      this._merge([job], []);
    } catch (error) {
      this._killedHere.delete(uid);
      // 409: it ended meanwhile; show how.
      this._refreshSoon();
      throw error;
    }
    if (this._updateSource === 'polling') {
      // No event will tell when it dies: ask.
      this._refreshSoon();
    }
  }

  async remove(uid: string): Promise<void> {
    try {
      await this._client.removeJob(uid);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) {
        throw error;
      }
    }
    this._merge([], [uid]);
  }

  async killAll(): Promise<number> {
    const kernelIds = new Set(
      this._ordered.filter(job => isActive(job.status)).map(j => j.kernel_id)
    );
    const outcomes = await settle(
      [...kernelIds].map(id => this._client.killKernelJobs(id))
    );
    const asked: string[] = [];
    for (const outcome of outcomes) {
      if (outcome.ok) {
        asked.push(...(outcome.value.killed ?? []));
      }
    }
    const killed: IJob[] = [];
    for (const uid of asked) {
      this._killedHere.add(uid);
      const job = this._jobs.get(uid);
      if (job && isActive(job.status)) {
        // The kernel took the order: say so until it reports the end.
        killed.push({ ...job, kill_requested: true });
      }
    }
    this._merge(killed, []);
    this._refreshSoon();
    throwFirstFailure(outcomes);
    return asked.length;
  }

  async clearEnded(): Promise<number> {
    const uids = this._ordered
      .filter(job => !isActive(job.status))
      .map(job => job.uid);
    const outcomes: Outcome<string>[] = [];
    for (let i = 0; i < uids.length; i += REMOVE_CONCURRENCY) {
      const batch = uids.slice(i, i + REMOVE_CONCURRENCY);
      outcomes.push(
        ...(await settle(batch.map(uid => this._removeOnServer(uid))))
      );
    }
    const removed: string[] = [];
    for (const outcome of outcomes) {
      if (outcome.ok) {
        removed.push(outcome.value);
      }
    }
    this._merge([], removed);
    throwFirstFailure(outcomes);
    return removed.length;
  }

  configure(config: Partial<IJobsModelConfig>): void {
    const before = this._config;
    this._config = { ...before, ...config };
    if (this._config.maxEndedJobs < before.maxEndedJobs) {
      this._commit(new Map(this._jobs), this._jobs);
      this._changed.emit();
    }
    const shorter = this._frequency().interval < this._poll.frequency.interval;
    this._updateFrequency();
    if (this._config.maxEndedJobs > before.maxEndedJobs || shorter) {
      this._refreshSoon();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._events?.disconnect(this._onEmission, this);
    this._poll.dispose();
    Signal.clearData(this);
  }

  /** One full refresh: every running job, the newest ended ones, the kernels. */
  private async _fetch(): Promise<void> {
    const fetch = ++this._fetchCount;
    const startGeneration = this._generation;
    try {
      const [jobs, kernels] = await Promise.all([
        this._fetchJobs(),
        this._client.listKernels()
      ]);
      // A later refresh may have been applied already: never go back to an older one.
      if (this.isDisposed || fetch < this._appliedFetch) {
        return;
      }
      this._appliedFetch = fetch;
      this._kernels = kernels;
      for (const kernel of kernels) {
        if (kernel.paths.length > 0) {
          this._knownPaths.set(kernel.kernel_id, kernel.paths);
        }
      }
      this._applySnapshot(jobs, startGeneration);
      this._connection = 'ok';
      this._error = '';
    } catch (error) {
      if (this.isDisposed) {
        return;
      }
      this._connection =
        error instanceof ApiError && error.status === 404
          ? 'missing'
          : 'unreachable';
      this._error = describe(error);
      // The event socket is most likely down too: rely on polling until an
      // event proves otherwise.
      this._updateSource = 'polling';
      throw error;
    } finally {
      if (!this.isDisposed) {
        this._updateFrequency();
        this._changed.emit();
      }
    }
  }

  /**
   * Running jobs first, then ended ones: a job can only move from the first
   * set to the second, so asking in this order never misses one.
   */
  private async _fetchJobs(): Promise<IJob[]> {
    const running = await this._client.listAllJobs({ status: 'running' });
    if (this._config.maxEndedJobs <= 0) {
      return running;
    }
    const ended = await this._client.listJobs({
      status: 'finished,dead',
      limit: this._config.maxEndedJobs
    });
    return [...running, ...ended.jobs];
  }

  private _applySnapshot(snapshot: IJob[], startGeneration: number): void {
    const before = this._jobs;
    const next = new Map<string, IJob>();
    const now = this._now();
    let drift = false;
    for (const incoming of snapshot) {
      const { uid } = incoming;
      if ((this._removedAt.get(uid) ?? -1) > startGeneration) {
        continue; // removed by an event after this snapshot was asked for
      }
      const duplicate = next.get(uid);
      if (
        duplicate &&
        lifeStage(duplicate.status) >= lifeStage(incoming.status)
      ) {
        continue;
      }
      const current = before.get(uid);
      const touchedSince = (this._touchedAt.get(uid) ?? -1) > startGeneration;
      if (
        current &&
        touchedSince &&
        lifeStage(current.status) >= lifeStage(incoming.status)
      ) {
        next.set(uid, current); // an event told us something at least as new
        continue;
      }
      if (
        !touchedSince &&
        (current
          ? current.status !== incoming.status
          : isActive(incoming.status))
      ) {
        drift = true;
      }
      const chosen = current ? newerReport(current, incoming) : incoming;
      next.set(uid, chosen ?? (current as IJob));
      if (chosen) {
        this._receivedAt.set(uid, now);
      }
    }
    for (const [uid, job] of before) {
      if (
        !next.has(uid) &&
        (this._touchedAt.get(uid) ?? -1) > startGeneration
      ) {
        next.set(uid, job);
      }
    }
    // Later snapshots start at this generation or after: older marks are spent.
    for (const marks of [this._removedAt, this._touchedAt]) {
      for (const [uid, generation] of marks) {
        if (generation <= startGeneration) {
          marks.delete(uid);
        }
      }
    }
    if (drift && this._loaded) {
      // A change reached us by polling that no event announced.
      this._updateSource = 'polling';
    }
    this._commit(next, before);
    this._loaded = true;
  }

  /** Apply changed and removed jobs: from an event, or from a command's answer. */
  private _merge(changed: IJob[], removed: string[]): void {
    if (this.isDisposed || (changed.length === 0 && removed.length === 0)) {
      return;
    }
    const generation = ++this._generation;
    const before = this._jobs;
    const next = new Map(before);
    const now = this._now();
    let unknownKernel = false;
    for (const report of changed) {
      const current = next.get(report.uid);
      const job = current ? newerReport(current, report) : report;
      if (!job) {
        continue; // older than what we know
      }
      next.set(job.uid, job);
      this._receivedAt.set(job.uid, now);
      this._touchedAt.set(job.uid, generation);
      unknownKernel = unknownKernel || !this.getKernel(job.kernel_id);
    }
    for (const uid of removed) {
      next.delete(uid);
      this._removedAt.set(uid, generation);
    }
    this._commit(next, before);
    this._changed.emit();
    if (unknownKernel) {
      this._refreshSoon();
    }
  }

  private _onEmission(_: unknown, emission: Event.Emission): void {
    const batch = parseJobsEvent(emission);
    if (!batch || this.isDisposed) {
      return;
    }
    if (this._updateSource !== 'events') {
      this._updateSource = 'events';
      this._updateFrequency();
    }
    if (batch.changed.length === 0 && batch.removed.length === 0) {
      this._changed.emit();
      return;
    }
    this._merge(batch.changed, batch.removed);
  }

  /** Make `next` the jobs: trim, order, count, and tell of status changes. */
  private _commit(next: Map<string, IJob>, before: Map<string, IJob>): void {
    const ended = [...next.values()]
      .filter(job => !isActive(job.status))
      .sort(compareJobs);
    for (const job of ended.slice(Math.max(0, this._config.maxEndedJobs))) {
      next.delete(job.uid);
    }
    for (const uid of [...this._receivedAt.keys()]) {
      if (!next.has(uid)) {
        this._receivedAt.delete(uid);
        this._details.delete(uid);
        this._killedHere.delete(uid);
      }
    }
    this._jobs = next;
    this._ordered = [...next.values()].sort(compareJobs);
    const counts: Counts = { running: 0, finished: 0, dead: 0 };
    for (const job of this._ordered) {
      counts[STATUS_GROUP[job.status]] += 1;
      if (job.paths.length > 0) {
        this._knownPaths.set(job.kernel_id, job.paths);
      }
    }
    this._counts = counts;
    this._reportTransitions(before);
  }

  private _reportTransitions(before: Map<string, IJob>): void {
    const newestBefore = this._newestCreated;
    for (const job of this._jobs.values()) {
      this._newestCreated = Math.max(this._newestCreated, timeOf(job.created));
    }
    if (!this._loaded) {
      return; // the first snapshot is the state we start from, not news
    }
    const transitions: IJobTransition[] = [];
    for (const job of this._jobs.values()) {
      const previous = before.get(job.uid);
      // A job first seen now is news only if it is newer than every job seen
      // so far: older ones merely came into the window (after a removal).
      const isNew = !previous && timeOf(job.created) > newestBefore;
      if ((previous && previous.status !== job.status) || isNew) {
        transitions.push({
          job,
          previous: previous ? previous.status : null,
          killedFromHere: this._killedHere.has(job.uid)
        });
      }
    }
    if (transitions.length > 0) {
      this._transitioned.emit(transitions);
    }
  }

  private _frequency(): IPoll.Frequency {
    const fast =
      this._updateSource === 'polling' ||
      this._kernels.some(kernel => kernel.bgjobs === 'connecting');
    const seconds = fast
      ? this._config.pollInterval
      : Math.max(this._config.pollInterval, this._config.resyncInterval);
    // Within what a Poll (and setTimeout) accepts, whatever the settings say.
    const interval = Math.min(Math.max(100, seconds * 1000), MAX_INTERVAL);
    return {
      interval,
      backoff: true,
      max: Math.max(interval, 60 * 1000)
    };
  }

  private _updateFrequency(): void {
    if (!this._poll.isDisposed) {
      this._poll.frequency = this._frequency();
    }
  }

  /** Refresh now, unless a refresh is already on its way. */
  private _refreshSoon(): void {
    if (this._started && !this.isDisposed) {
      void this._poll.refresh();
    }
  }

  private async _removeOnServer(uid: string): Promise<string> {
    try {
      await this._client.removeJob(uid);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) {
        throw error;
      }
    }
    return uid;
  }

  private _client: BgJobsClient;
  private _now: () => number;
  private _config: IJobsModelConfig;
  private _poll: Poll;
  private _started = false;
  private _events: ISignal<unknown, Event.Emission> | null;
  private _jobs = new Map<string, IJob>();
  private _ordered: IJob[] = [];
  private _counts: Counts = { running: 0, finished: 0, dead: 0 };
  private _kernels: IKernelSummary[] = [];
  private _details = new Map<string, IJob>();
  private _knownPaths = new Map<string, readonly string[]>();
  private _receivedAt = new Map<string, number>();
  private _killedHere = new Set<string>();
  /** Counts merges (events, command answers): orders them against snapshots. */
  private _generation = 0;
  private _touchedAt = new Map<string, number>();
  private _removedAt = new Map<string, number>();
  private _fetchCount = 0;
  private _appliedFetch = 0;
  private _loaded = false;
  private _newestCreated = 0;
  private _connection: ConnectionState = 'connecting';
  private _error = '';
  private _updateSource: UpdateSource = 'polling';
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _transitioned = new Signal<this, readonly IJobTransition[]>(this);
}

/**
 * What to hold of a job after a new report of it, or null when the report
 * is older than what is held. A job's life only goes forward, and a kill,
 * once asked for, stays asked for until the job ends: a report that says
 * otherwise was written before the newer one arrived.
 */
export function newerReport(current: IJob, report: IJob): IJob | null {
  const stage = lifeStage(report.status);
  if (stage < lifeStage(current.status)) {
    return null;
  }
  if (
    isActive(report.status) &&
    stage === lifeStage(current.status) &&
    current.kill_requested &&
    !report.kill_requested
  ) {
    return {
      ...report,
      kill_requested: true,
      blocked_in: report.blocked_in ?? current.blocked_in
    };
  }
  return report;
}

function describe(error: unknown): string {
  if (error instanceof ApiError) {
    return `${error.status}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Wait for every promise, keeping each one's value or error. */
function settle<T>(promises: Promise<T>[]): Promise<Outcome<T>[]> {
  return Promise.all(
    promises.map(promise =>
      promise.then(
        (value): Outcome<T> => ({ ok: true, value }),
        (error): Outcome<T> => ({ ok: false, error })
      )
    )
  );
}

function throwFirstFailure(outcomes: Outcome<unknown>[]): void {
  for (const outcome of outcomes) {
    if (!outcome.ok) {
      throw outcome.error;
    }
  }
}
