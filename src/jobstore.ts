import { Counts, IJob, isActive, STATUS_GROUP } from './api';
import { compareJobs } from './grouping';

/**
 * The records the browser holds: the jobs (newest first, counted by group,
 * the ended ones trimmed to a number), and what it knows about each beyond
 * the record: when its last report arrived, its full record once loaded,
 * whether this browser asked for its kill, and the notebook paths of each
 * kernel. It decides nothing about which report is newer: the
 * `SnapshotReconciler` hands it the jobs to hold.
 */
export class JobStore {
  constructor(now: () => number) {
    this._now = now;
  }

  /** The jobs by uid. */
  get byUid(): ReadonlyMap<string, IJob> {
    return this._jobs;
  }

  /** The jobs, newest first. */
  get ordered(): readonly IJob[] {
    return this._ordered;
  }

  get counts(): Counts {
    return this._counts;
  }

  getJob(uid: string): IJob | undefined {
    return this._jobs.get(uid);
  }

  /**
   * Hold `jobs` from now on, keeping the `maxEnded` newest ended ones.
   * `received` are the uids whose report arrived now.
   *
   * @returns the jobs held before
   */
  replace(
    jobs: Map<string, IJob>,
    received: Iterable<string>,
    maxEnded: number
  ): ReadonlyMap<string, IJob> {
    const now = this._now();
    for (const uid of received) {
      this._receivedAt.set(uid, now);
    }
    const ended = [...jobs.values()]
      .filter(job => !isActive(job.status))
      .sort(compareJobs);
    for (const job of ended.slice(Math.max(0, maxEnded))) {
      jobs.delete(job.uid);
    }
    for (const uid of [...this._receivedAt.keys()]) {
      if (!jobs.has(uid)) {
        this._receivedAt.delete(uid);
        this._details.delete(uid);
        this._killedHere.delete(uid);
      }
    }
    const before = this._jobs;
    this._jobs = jobs;
    this._ordered = [...jobs.values()].sort(compareJobs);
    const counts: Counts = { running: 0, finished: 0, dead: 0 };
    for (const job of this._ordered) {
      counts[STATUS_GROUP[job.status]] += 1;
      this.rememberPaths(job.kernel_id, job.paths);
    }
    this._counts = counts;
    return before;
  }

  /** The job as `GET jobs/{uid}` returned it, once loaded. */
  getDetails(uid: string): IJob | undefined {
    return this._details.get(uid);
  }

  setDetails(job: IJob): void {
    this._details.set(job.uid, job);
  }

  /** Remember a kernel's notebook paths, for after its session ends. */
  rememberPaths(kernelId: string, paths: readonly string[]): void {
    if (paths.length > 0) {
      this._knownPaths.set(kernelId, paths);
    }
  }

  /** A job's notebook paths, or the last known ones of its kernel. */
  pathsOf(job: IJob): readonly string[] {
    if (job.paths.length > 0) {
      return job.paths;
    }
    return this._knownPaths.get(job.kernel_id) ?? [];
  }

  /** Seconds run, counted on from the last report while the job runs. */
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

  /** Whether this browser asked for the job's kill. */
  killedHere(uid: string): boolean {
    return this._killedHere.has(uid);
  }

  setKilledHere(uid: string, killed: boolean): void {
    if (killed) {
      this._killedHere.add(uid);
    } else {
      this._killedHere.delete(uid);
    }
  }

  private _now: () => number;
  private _jobs = new Map<string, IJob>();
  private _ordered: IJob[] = [];
  private _counts: Counts = { running: 0, finished: 0, dead: 0 };
  private _details = new Map<string, IJob>();
  private _knownPaths = new Map<string, readonly string[]>();
  private _receivedAt = new Map<string, number>();
  private _killedHere = new Set<string>();
}
