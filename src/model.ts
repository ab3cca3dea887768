import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { BgJobsClient, IJob, IKernelSummary } from './api';
import { ApiError } from './request';

/** Whether the model could reach the server extension. */
export type ConnectionState = 'connecting' | 'ok' | 'missing' | 'unreachable';

export namespace JobsModel {
  export interface IOptions {
    client: BgJobsClient;
    /** Seconds between two refreshes. */
    pollInterval?: number;
    /** How many jobs one refresh asks for. */
    limit?: number;
  }
}

/** The jobs of every kernel, as the server reports them. Views only render it. */
export class JobsModel implements IDisposable {
  constructor(options: JobsModel.IOptions) {
    this._client = options.client;
    this._limit = options.limit ?? 500;
    this._poll = new Poll({
      factory: () => this.refresh(),
      frequency: {
        interval: (options.pollInterval ?? 2) * 1000,
        backoff: true,
        max: 60 * 1000
      },
      name: 'jupyter-bgjobs:jobs',
      standby: 'when-hidden'
    });
  }

  /** Emitted when jobs, kernels or the connection state change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get jobs(): readonly IJob[] {
    return this._jobs;
  }

  get kernels(): readonly IKernelSummary[] {
    return this._kernels;
  }

  get connection(): ConnectionState {
    return this._connection;
  }

  /** The last error message from the server, for the panel to show. */
  get error(): string {
    return this._error;
  }

  get client(): BgJobsClient {
    return this._client;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Fetch jobs and kernels now. Rejects (after recording it) when the server does not answer. */
  async refresh(): Promise<void> {
    try {
      const [page, kernels] = await Promise.all([
        this._client.listJobs({ limit: this._limit }),
        this._client.listKernels()
      ]);
      this._jobs = page.jobs;
      this._kernels = kernels;
      this._setConnection('ok', '');
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this._setConnection(
          'missing',
          'The jupyter_bgjobs server extension is not enabled.'
        );
      } else {
        this._setConnection(
          'unreachable',
          error instanceof Error ? error.message : String(error)
        );
      }
      throw error;
    } finally {
      this._changed.emit();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll.dispose();
    Signal.clearData(this);
  }

  private _setConnection(state: ConnectionState, error: string): void {
    this._connection = state;
    this._error = error;
  }

  private _client: BgJobsClient;
  private _limit: number;
  private _poll: Poll;
  private _jobs: IJob[] = [];
  private _kernels: IKernelSummary[] = [];
  private _connection: ConnectionState = 'connecting';
  private _error = '';
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}
