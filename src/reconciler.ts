import { IJob, isActive, lifeStage } from './api';

/**
 * Puts snapshots (`GET jobs`, asked for in full now and then) and pushed
 * changes (events, and the answers of commands) together in the order the
 * server made them, though they arrive in any order.
 *
 * ## The race it settles
 *
 * A snapshot answers with the server's state at the time it was *asked*
 * for; events that the server emits after that can arrive *before* the
 * snapshot's answer. Applied blindly, the snapshot would bring back a job an
 * event removed, or a state an event moved past.
 *
 * ## Generation marks
 *
 * Each merge of pushed changes is one *generation* (a counter). A merge
 * marks every job it changed (`touchedAt`) or removed (`removedAt`) with
 * its generation. A snapshot records the generation current when it was
 * asked for (its ticket). When its answer is applied, for each job:
 *
 * - removed at a later generation: the removal wins, the job stays out;
 * - touched at a later generation: what is held wins unless the snapshot
 *   shows the job further along its life (queued, running, ended: a job
 *   never goes back);
 * - held, touched later, and missing from the snapshot: kept (it is newer
 *   than the snapshot);
 * - otherwise the snapshot wins, and a job whose state it changed without
 *   any event having said so is *drift*: events are being missed.
 *
 * Marks at or before the ticket's generation are then spent: every later
 * snapshot was asked for after them. Snapshots are also numbered, and one
 * that answers after a later one was applied is dropped whole.
 *
 * Within one source, `newerReport` keeps a job from going back: an older
 * state, or a kill request that a report written before it forgot.
 */
export class SnapshotReconciler {
  /** Number a snapshot request about to be sent. */
  begin(): SnapshotReconciler.ITicket {
    return { fetch: ++this._fetchCount, generation: this._generation };
  }

  /**
   * Whether the answer of this request may be applied: no later request
   * was applied already. Accepting it makes it the latest applied.
   */
  accept(ticket: SnapshotReconciler.ITicket): boolean {
    if (ticket.fetch < this._appliedFetch) {
      return false;
    }
    this._appliedFetch = ticket.fetch;
    return true;
  }

  /** The jobs to hold after a snapshot that `accept` took. */
  applySnapshot(
    held: ReadonlyMap<string, IJob>,
    snapshot: readonly IJob[],
    ticket: SnapshotReconciler.ITicket
  ): SnapshotReconciler.IResult {
    const since = ticket.generation;
    const next = new Map<string, IJob>();
    const received: string[] = [];
    let drift = false;
    for (const incoming of snapshot) {
      const { uid } = incoming;
      if ((this._removedAt.get(uid) ?? -1) > since) {
        continue; // removed by an event after this snapshot was asked for
      }
      const duplicate = next.get(uid);
      if (
        duplicate &&
        lifeStage(duplicate.status) >= lifeStage(incoming.status)
      ) {
        continue; // a job that moved between two pages of one snapshot
      }
      const current = held.get(uid);
      const touchedSince = (this._touchedAt.get(uid) ?? -1) > since;
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
        received.push(uid);
      }
    }
    for (const [uid, job] of held) {
      if (!next.has(uid) && (this._touchedAt.get(uid) ?? -1) > since) {
        next.set(uid, job);
      }
    }
    // Later snapshots start at this generation or after: older marks are spent.
    for (const marks of [this._removedAt, this._touchedAt]) {
      for (const [uid, generation] of marks) {
        if (generation <= since) {
          marks.delete(uid);
        }
      }
    }
    return { jobs: next, received, drift };
  }

  /** The jobs to hold after pushed changes: one new generation. */
  applyChanges(
    held: ReadonlyMap<string, IJob>,
    changed: readonly IJob[],
    removed: readonly string[]
  ): SnapshotReconciler.IResult {
    const generation = ++this._generation;
    const next = new Map(held);
    const received: string[] = [];
    for (const report of changed) {
      const current = next.get(report.uid);
      const job = current ? newerReport(current, report) : report;
      if (!job) {
        continue; // older than what we know
      }
      next.set(job.uid, job);
      received.push(job.uid);
      this._touchedAt.set(job.uid, generation);
    }
    for (const uid of removed) {
      next.delete(uid);
      this._removedAt.set(uid, generation);
    }
    return { jobs: next, received, drift: false };
  }

  private _generation = 0;
  private _touchedAt = new Map<string, number>();
  private _removedAt = new Map<string, number>();
  private _fetchCount = 0;
  private _appliedFetch = 0;
}

export namespace SnapshotReconciler {
  /** What a snapshot request was asked at. */
  export interface ITicket {
    /** The request's number: a later one applied first makes it stale. */
    readonly fetch: number;
    /** The generation of pushed changes when it was asked for. */
    readonly generation: number;
  }

  export interface IResult {
    /** Every job to hold now. */
    jobs: Map<string, IJob>;
    /** The uids whose report was taken (their elapsed time restarts now). */
    received: string[];
    /** Whether a snapshot changed a job that no event had announced. */
    drift: boolean;
  }
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
