import { IDisposable } from '@lumino/disposable';
import { IPoll, Poll } from '@lumino/polling';

import { IJobsModelConfig } from './tokens';

/** The longest wait between two refreshes: one day. */
const MAX_INTERVAL = 24 * 3600 * 1000;

/**
 * When the model asks the server for everything: a `Poll` that runs often
 * (`pollInterval`) while changes must be polled for, and rarely
 * (`resyncInterval`) while push events bring them; it backs off on
 * failures and stands by while the page is hidden.
 */
export class RefreshSchedule implements IDisposable {
  constructor(options: RefreshSchedule.IOptions) {
    this._config = options.config;
    this._poll = new Poll({
      auto: false,
      factory: options.refresh,
      frequency: this._frequency(),
      name: 'jupyter-bgjobs:jobs',
      standby: 'when-hidden'
    });
  }

  /** Seconds until the next refresh while all goes well. */
  get interval(): number {
    return this._poll.frequency.interval / 1000;
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /** Start refreshing (tests drive refreshes themselves instead). */
  start(): void {
    this._started = true;
    void this._poll.start();
  }

  /** Refresh now, unless a refresh is already on its way or it never started. */
  refreshSoon(): void {
    if (this._started && !this._poll.isDisposed) {
      void this._poll.refresh();
    }
  }

  /**
   * Poll often (`fast`) or only resynchronize; the intervals are read from
   * the configuration again.
   *
   * @returns whether the interval became shorter
   */
  update(fast: boolean): boolean {
    if (this._poll.isDisposed) {
      return false;
    }
    this._fast = fast;
    const frequency = this._frequency();
    const shorter = frequency.interval < this._poll.frequency.interval;
    this._poll.frequency = frequency;
    return shorter;
  }

  dispose(): void {
    this._poll.dispose();
  }

  private _frequency(): IPoll.Frequency {
    const { pollInterval, resyncInterval } = this._config();
    const seconds = this._fast
      ? pollInterval
      : Math.max(pollInterval, resyncInterval);
    // Within what a Poll (and setTimeout) accepts, whatever the settings say.
    const interval = Math.min(Math.max(100, seconds * 1000), MAX_INTERVAL);
    return {
      interval,
      backoff: true,
      max: Math.max(interval, 60 * 1000)
    };
  }

  private _config: () => IJobsModelConfig;
  private _poll: Poll;
  private _started = false;
  private _fast = true;
}

export namespace RefreshSchedule {
  export interface IOptions {
    /** One full refresh; a rejection makes the poll back off. */
    refresh: () => Promise<void>;
    /** The model's current configuration. */
    config: () => IJobsModelConfig;
  }
}
