import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from './request';

/** The states of a job (see docs/protocol.md). */
export type JobStatus =
  'queued' | 'running' | 'finished' | 'failed' | 'killed' | 'lost';

/** The user-facing groups of states. */
export type JobGroupName = 'running' | 'finished' | 'dead';

export const STATUS_GROUP: Record<JobStatus, JobGroupName> = {
  queued: 'running',
  running: 'running',
  finished: 'finished',
  failed: 'dead',
  killed: 'dead',
  lost: 'dead'
};

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

/** A job as the REST API returns it. */
export interface IJob {
  uid: string;
  kernel_id: string;
  number: number;
  name: string | null;
  code: string;
  kind: 'expr' | 'func' | 'cell' | 'map';
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
  paths: string[];
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

/** The typed client of the REST API; nothing else builds its URLs. */
export class BgJobsClient {
  constructor(readonly serverSettings?: ServerConnection.ISettings) {}

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

  getJob(uid: string): Promise<IJob> {
    return this._request<IJob>(`jobs/${encodeURIComponent(uid)}`);
  }

  killJob(uid: string): Promise<IJob> {
    return this._request<IJob>(`jobs/${encodeURIComponent(uid)}/kill`, {
      method: 'POST'
    });
  }

  removeJob(uid: string): Promise<void> {
    return this._request<void>(`jobs/${encodeURIComponent(uid)}`, {
      method: 'DELETE'
    });
  }

  listKernels(): Promise<IKernelSummary[]> {
    return this._request<IKernelSummary[]>('kernels');
  }

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
