import { IJob } from '../api';
import { newerReport, SnapshotReconciler } from '../reconciler';
import { makeJob } from './fixtures';

function held(...jobs: IJob[]): Map<string, IJob> {
  return new Map(jobs.map(job => [job.uid, job]));
}

function statuses(jobs: Map<string, IJob>): [string, string][] {
  return [...jobs.values()].map(job => [job.uid, job.status]);
}

describe('SnapshotReconciler', () => {
  let reconciler: SnapshotReconciler;

  beforeEach(() => {
    reconciler = new SnapshotReconciler();
  });

  it('takes a snapshot whole when no change was pushed while it was on its way', () => {
    const ticket = reconciler.begin();
    expect(reconciler.accept(ticket)).toBe(true);
    const result = reconciler.applySnapshot(
      held(makeJob({ uid: 'gone' })),
      [makeJob({ uid: 'a', status: 'finished' })],
      ticket
    );
    expect(statuses(result.jobs)).toEqual([['a', 'finished']]);
    expect(result.received).toEqual(['a']);
  });

  it('lets changes pushed after the request win over the snapshot', () => {
    let jobs = held(
      makeJob({ uid: 'a', status: 'running' }),
      makeJob({ uid: 'removed', status: 'finished' })
    );
    const ticket = reconciler.begin();
    jobs = reconciler.applyChanges(
      jobs,
      [
        makeJob({ uid: 'a', status: 'failed' }),
        makeJob({ uid: 'new', status: 'queued' })
      ],
      ['removed']
    ).jobs;
    // The snapshot was written before those changes.
    const result = reconciler.applySnapshot(
      jobs,
      [
        makeJob({ uid: 'a', status: 'running' }),
        makeJob({ uid: 'removed', status: 'finished' })
      ],
      ticket
    );
    expect(statuses(result.jobs)).toEqual([
      ['a', 'failed'],
      ['new', 'queued']
    ]);
    expect(result.drift).toBe(false);
  });

  it('spends the marks: a snapshot asked for after a change wins again', () => {
    let jobs = reconciler.applyChanges(
      held(),
      [makeJob({ uid: 'a', status: 'running' })],
      []
    ).jobs;
    const first = reconciler.begin();
    jobs = reconciler.applySnapshot(jobs, [], first).jobs;
    expect(statuses(jobs)).toEqual([]);
  });

  it('lets a snapshot move a job further along its life, and calls it drift when no event did', () => {
    const jobs = held(makeJob({ uid: 'a', status: 'running' }));
    const ticket = reconciler.begin();
    const result = reconciler.applySnapshot(
      jobs,
      [makeJob({ uid: 'a', status: 'killed' })],
      ticket
    );
    expect(statuses(result.jobs)).toEqual([['a', 'killed']]);
    expect(result.drift).toBe(true);
  });

  it('drops the answer of a request when a later one was applied first', () => {
    const older = reconciler.begin();
    const newer = reconciler.begin();
    expect(reconciler.accept(newer)).toBe(true);
    expect(reconciler.accept(older)).toBe(false);
  });

  it('never takes a pushed report of an earlier state', () => {
    const result = reconciler.applyChanges(
      held(makeJob({ uid: 'a', status: 'finished' })),
      [makeJob({ uid: 'a', status: 'running' })],
      []
    );
    expect(statuses(result.jobs)).toEqual([['a', 'finished']]);
    expect(result.received).toEqual([]);
  });
});

describe('newerReport', () => {
  it('keeps a kill asked for while the job runs on', () => {
    const current = makeJob({ kill_requested: true, blocked_in: 'x.py:3' });
    expect(
      newerReport(current, makeJob({ kill_requested: false, elapsed: 9 }))
    ).toMatchObject({ kill_requested: true, blocked_in: 'x.py:3', elapsed: 9 });
    expect(
      newerReport(current, makeJob({ status: 'killed' }))?.kill_requested
    ).toBe(false);
  });
});
