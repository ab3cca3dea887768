import { ServerConnection } from '@jupyterlab/services';

import {
  BgJobsClient,
  IHistoryScope,
  IJob,
  IJobsPage,
  IJobsQuery,
  IKernelSummary,
  STATUS_GROUP
} from '../api';
import { compareJobs } from '../grouping';

/**
 * A REST client that answers from memory the way the server does (filters,
 * newest first, cursors), records what it was asked, and can fail or hold
 * its answers back. The model under test is real; only the network is not.
 */
export class MemoryClient extends BgJobsClient {
  jobs: IJob[] = [];
  kernels: IKernelSummary[] = [];
  /** When set, every call rejects with it. */
  failure: Error | null = null;
  /** Every call, as `verb path`. */
  calls: string[] = [];
  /** Answers of `listJobs` wait for this promise when it is set. */
  gate: Promise<void> | null = null;
  /** Uids whose DELETE answers 404 (already gone). */
  gone = new Set<string>();
  /** Answers of `clearHistory` wait for this promise (after the removal) when set. */
  clearGate: Promise<void> | null = null;

  async listJobs(query: IJobsQuery = {}): Promise<IJobsPage> {
    this.calls.push(`GET jobs ${JSON.stringify(query)}`);
    // Copy now: the answer reflects the server at the time it was asked.
    const all = this.jobs.map(job => ({ ...job })).sort(compareJobs);
    await this.gate;
    this._check();
    const words = query.status ? query.status.split(',') : null;
    // As the server: counts of every filter but the statuses.
    const base = all.filter(
      job =>
        (!query.kernel_id || job.kernel_id === query.kernel_id) &&
        (!query.path || job.paths.includes(query.path))
    );
    const counts = { running: 0, finished: 0, dead: 0 };
    base.forEach(job => (counts[STATUS_GROUP[job.status]] += 1));
    const matching = base.filter(
      job =>
        !words ||
        words.includes(job.status) ||
        words.includes(STATUS_GROUP[job.status])
    );
    const start = query.cursor ? Number(query.cursor) : 0;
    const limit = query.limit ?? 100;
    const page = matching.slice(start, start + limit);
    const more = start + limit < matching.length;
    return {
      jobs: page,
      next_cursor: more ? String(start + limit) : null,
      counts
    };
  }

  async getJob(uid: string): Promise<IJob> {
    this.calls.push(`GET jobs/${uid}`);
    this._check();
    const job = this.jobs.find(j => j.uid === uid);
    if (!job) {
      throw responseError(404, `no job with uid ${uid}`);
    }
    return { ...job };
  }

  async killJob(uid: string): Promise<IJob> {
    this.calls.push(`POST jobs/${uid}/kill`);
    this._check();
    const job = this.jobs.find(j => j.uid === uid);
    if (!job) {
      throw responseError(404, `no job with uid ${uid}`);
    }
    if (STATUS_GROUP[job.status] !== 'running') {
      throw responseError(409, `job ${uid} is not running`);
    }
    job.kill_requested = true;
    return { ...job };
  }

  async removeJob(uid: string): Promise<void> {
    this.calls.push(`DELETE jobs/${uid}`);
    this._check();
    if (this.gone.has(uid)) {
      throw responseError(404, `no job with uid ${uid}`);
    }
    this.jobs = this.jobs.filter(job => job.uid !== uid);
  }

  async clearHistory(scope: IHistoryScope): Promise<number> {
    this.calls.push(`DELETE jobs ${JSON.stringify(scope)}`);
    this._check();
    if (!scope.kernel_id && !scope.path) {
      throw responseError(400, 'give kernel_id or path (or both)');
    }
    // The server removes at once; its answer may take a while to arrive.
    const kept = this.jobs.filter(
      job =>
        STATUS_GROUP[job.status] === 'running' ||
        (scope.kernel_id !== undefined && job.kernel_id !== scope.kernel_id) ||
        (scope.path !== undefined && !job.paths.includes(scope.path))
    );
    const removed = this.jobs.length - kept.length;
    this.jobs = kept;
    await this.clearGate;
    return removed;
  }

  async listKernels(): Promise<IKernelSummary[]> {
    this.calls.push('GET kernels');
    this._check();
    return this.kernels.map(kernel => ({ ...kernel }));
  }

  async killKernelJobs(kernelId: string): Promise<{ killed: string[] }> {
    this.calls.push(`POST kernels/${kernelId}/kill`);
    this._check();
    const killed = this.jobs.filter(
      job =>
        job.kernel_id === kernelId && STATUS_GROUP[job.status] === 'running'
    );
    return { killed: killed.map(job => job.uid) };
  }

  private _check(): void {
    if (this.failure) {
      throw this.failure;
    }
  }
}

/** The error `requestAPI` throws for an error answer of the server. */
export function responseError(
  status: number,
  message: string
): ServerConnection.ResponseError {
  return new ServerConnection.ResponseError(
    new Response(JSON.stringify({ message }), { status }),
    message
  );
}
