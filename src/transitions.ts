import { IJob } from './api';
import { timeOf } from './grouping';
import { IJobTransition } from './tokens';

/**
 * Tells which changes between two sets of held jobs are news for the user
 * (the notifier): a job whose status changed, or a job newer than every job
 * seen so far. The first load is the state the browser starts from, not
 * news; a job that merely comes into view (an older one, after a removal
 * made room) is not news either.
 */
export class TransitionTracker {
  /** Whether the first full load happened. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** From now on, changes are news. */
  markLoaded(): void {
    this._loaded = true;
  }

  /** The transitions from `before` to `after`, none before the first load. */
  compare(
    before: ReadonlyMap<string, IJob>,
    after: ReadonlyMap<string, IJob>,
    killedHere: (uid: string) => boolean
  ): IJobTransition[] {
    const newestBefore = this._newestCreated;
    for (const job of after.values()) {
      this._newestCreated = Math.max(this._newestCreated, timeOf(job.created));
    }
    if (!this._loaded) {
      return [];
    }
    const transitions: IJobTransition[] = [];
    for (const job of after.values()) {
      const previous = before.get(job.uid);
      const isNew = !previous && timeOf(job.created) > newestBefore;
      if ((previous && previous.status !== job.status) || isNew) {
        transitions.push({
          job,
          previous: previous ? previous.status : null,
          killedFromHere: killedHere(job.uid)
        });
      }
    }
    return transitions;
  }

  private _loaded = false;
  private _newestCreated = 0;
}
