import { ServerConnection } from '@jupyterlab/services';

import { enumOf } from './jobschema';
import { isErrorStatus, requestAPI } from './request';

/** The states of a job (see docs/protocol.md). */
export type JobStatus =
  'queued' | 'running' | 'finished' | 'failed' | 'killed' | 'lost';

/** How a job was started. */
export type JobKind = 'expr' | 'func' | 'cell' | 'map';

/** The user-facing groups of states. */
export type JobGroupName = 'running' | 'finished' | 'dead';

/** The states, as the job schema lists them. */
export const JOB_STATUSES = enumOf<JobStatus>('status');

/** The kinds, as the job schema lists them. */
export const JOB_KINDS = enumOf<JobKind>('kind');

export const STATUS_GROUP: Record<JobStatus, JobGroupName> = {
  queued: 'running',
  running: 'running',
  finished: 'finished',
  failed: 'dead',
  killed: 'dead',
  lost: 'dead'
};

/** Whether a job in this state has not ended yet. */
export function isActive(status: JobStatus): boolean {
  return STATUS_GROUP[status] === 'running';
}

/**
 * How far along its life a job is: queued, then running, then ended. A job
 * never goes back, so of two reports of one job the one with the higher
 * stage is the newer.
 */
export function lifeStage(status: JobStatus): number {
  return status === 'queued' ? 0 : status === 'running' ? 1 : 2;
}

export interface IJobError {
  ename: string;
  evalue: string;
  traceback: string[];
}

export interface IJobProgress {
  done: number;
  total: number | null;
  desc: string | null;
}

/**
 * A job as the REST API returns it: the record of
 * `jupyter_bgjobs/job.schema.json`. `parseJob` checks every field of it, and
 * the jest test `jobschema.spec.ts` fails when the schema and these two part.
 */
export interface IJob {
  uid: string;
  kernel_id: string;
  number: number;
  name: string | null;
  code: string;
  kind: JobKind;
  status: JobStatus;
  group: string | null;
  created: string;
  started: string | null;
  ended: string | null;
  elapsed: number | null;
  result_repr: string | null;
  error: IJobError | null;
  output_tail: string;
  progress: IJobProgress | null;
  kill_requested: boolean;
  blocked_in: string | null;
  where: IJobWhere | null;
  paths: string[];
}

/** Where a job runs: a kernel thread, a worker process, a dask worker (null from older kernels). */
export interface IJobWhere {
  backend: string;
  pid: number | null;
  address: string | null;
  worker: string | null;
  dashboard: string | null;
}

export type Counts = Record<JobGroupName, number>;

export interface IJobsPage {
  jobs: IJob[];
  next_cursor: string | null;
  counts: Counts;
}

/** A kernel as `GET kernels` describes it. */
export interface IKernelSummary {
  kernel_id: string;
  kernel_name: string;
  paths: string[];
  execution_state: string | null;
  bgjobs: 'ready' | 'unavailable' | 'connecting';
  reason: string;
  counts: Counts;
}

export interface IJobsQuery {
  status?: string;
  kernel_id?: string;
  path?: string;
  q?: string;
  limit?: number;
  cursor?: string;
}

/**
 * Whose history `DELETE jobs` clears: the ended jobs of a kernel, of a
 * notebook path, or (both given) of that kernel at that path.
 */
export interface IHistoryScope {
  kernel_id?: string;
  path?: string;
}

/** The largest `limit` the server accepts for `GET jobs`. */
export const MAX_PAGE_SIZE = 1000;

/** The typed client of the REST API; nothing else builds its URLs. */
export class BgJobsClient {
  constructor(readonly serverSettings?: ServerConnection.ISettings) {}

  /** One page of jobs, newest first. */
  listJobs(query: IJobsQuery = {}): Promise<IJobsPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') {
        params.set(key, String(value));
      }
    }
    const search = params.toString();
    return this._request<IJobsPage>(`jobs${search ? `?${search}` : ''}`);
  }

  /**
   * Every job that matches `query`, following the pages' cursors (at most
   * `maxPages` pages of the largest size the server allows).
   */
  async listAllJobs(
    query: Omit<IJobsQuery, 'cursor' | 'limit'> = {},
    maxPages = 20
  ): Promise<IJob[]> {
    const jobs: IJob[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const answer = await this.listJobs({
        ...query,
        limit: MAX_PAGE_SIZE,
        cursor
      });
      jobs.push(...answer.jobs);
      if (!answer.next_cursor) {
        break;
      }
      cursor = answer.next_cursor;
    }
    return jobs;
  }

  /**
   * What the panel shows after a full refresh: every running job, then the
   * `maxEnded` newest ended ones. A job can only move from the first set to
   * the second, so asking in this order never misses one.
   */
  async listSnapshot(maxEnded: number): Promise<IJob[]> {
    const running = await this.listAllJobs({ status: 'running' });
    if (maxEnded <= 0) {
      return running;
    }
    const ended = await this.listJobs({
      status: 'finished,dead',
      limit: maxEnded
    });
    return [...running, ...ended.jobs];
  }

  /** One job, with its full traceback and output tail. */
  getJob(uid: string): Promise<IJob> {
    return this._request<IJob>(`jobs/${encodeURIComponent(uid)}`);
  }

  /** Ask the job's kernel to kill it (202: the answer may still say running). */
  killJob(uid: string): Promise<IJob> {
    return this._request<IJob>(`jobs/${encodeURIComponent(uid)}/kill`, {
      method: 'POST'
    });
  }

  /** Forget an ended job (409 if it is still running). */
  removeJob(uid: string): Promise<void> {
    return this._request<void>(`jobs/${encodeURIComponent(uid)}`, {
      method: 'DELETE'
    });
  }

  /** Forget an ended job; one the server no longer has (404) is as good. */
  async forgetJob(uid: string): Promise<string> {
    try {
      await this.removeJob(uid);
    } catch (error) {
      if (!isErrorStatus(error, 404)) {
        throw error;
      }
    }
    return uid;
  }

  /**
   * Forget every ended job (finished, failed, killed, lost) of a kernel
   * and/or notebook path; running and queued ones stay. The server announces
   * the removals on the event bus too.
   *
   * @returns how many jobs the server removed
   */
  async clearHistory(scope: IHistoryScope): Promise<number> {
    const answer = await this._request<{ removed: number }>(
      `jobs?${scopeParams(scope)}`,
      { method: 'DELETE' }
    );
    return answer.removed;
  }

  /** How many ended jobs the server holds of a kernel and/or notebook path. */
  async countHistory(scope: IHistoryScope): Promise<number> {
    // The counts answer for every status, whatever the page holds.
    const page = await this.listJobs({ ...scope, limit: 1 });
    return page.counts.finished + page.counts.dead;
  }

  /** Every kernel of the server, with whether background jobs work there. */
  listKernels(): Promise<IKernelSummary[]> {
    return this._request<IKernelSummary[]>('kernels');
  }

  /** Kill every running job of a kernel (or of one group of it). */
  killKernelJobs(
    kernelId: string,
    group?: string
  ): Promise<{ killed: string[] }> {
    return this._request<{ killed: string[] }>(
      `kernels/${encodeURIComponent(kernelId)}/kill`,
      {
        method: 'POST',
        body: JSON.stringify(group ? { group } : {})
      }
    );
  }

  private _request<T>(endPoint: string, init: RequestInit = {}): Promise<T> {
    return requestAPI<T>(endPoint, init, this.serverSettings);
  }
}

/** The query of a history scope; a scope that names nothing is a mistake. */
function scopeParams(scope: IHistoryScope): string {
  const params = new URLSearchParams();
  if (scope.kernel_id) {
    params.set('kernel_id', scope.kernel_id);
  }
  if (scope.path) {
    params.set('path', scope.path);
  }
  const query = params.toString();
  if (!query) {
    // The server would refuse it (400); a whole-server clear is not this call.
    throw new Error('a history scope needs a kernel_id or a path');
  }
  return query;
}
