import { PromiseDelegate } from '@lumino/coreutils';

import { JobsModel } from '../model';
import { at, makeJob } from './fixtures';
import { MemoryClient } from './memoryclient';
import { jobsEvent, IModelUnderTest, makeModel } from './modelsetup';

describe('JobsModel: events', () => {
  let client: MemoryClient;
  let events: IModelUnderTest['events'];
  let model: JobsModel;

  beforeEach(() => {
    ({ client, events, model } = makeModel(() => 1_000_000));
  });

  afterEach(() => {
    model.dispose();
  });

  it('merges changed jobs and removals from the event stream', async () => {
    client.jobs = [
      makeJob({ uid: 'a', status: 'running', created: at(0) }),
      makeJob({ uid: 'b', status: 'finished', created: at(1) })
    ];
    await model.refresh();
    let signals = 0;
    model.changed.connect(() => signals++);

    events.emit(
      jobsEvent(
        [
          makeJob({ uid: 'a', status: 'finished', result_repr: '42' }),
          makeJob({ uid: 'c', status: 'queued', created: at(2) })
        ],
        ['b']
      )
    );

    expect(model.jobs.map(job => [job.uid, job.status])).toEqual([
      ['c', 'queued'],
      ['a', 'finished']
    ]);
    expect(model.getJob('a')?.result_repr).toBe('42');
    expect(model.counts).toEqual({ running: 1, finished: 1, dead: 0 });
    expect(model.updateSource).toBe('events');
    expect(signals).toBe(1);
    // No REST call was needed for any of it.
    expect(client.calls.sort()).toEqual([
      'GET jobs {"status":"finished,dead","limit":100}',
      'GET jobs {"status":"running","limit":1000}',
      'GET kernels'
    ]);
  });

  it('ignores emissions of other schemas and malformed jobs', async () => {
    await model.refresh();
    events.emit({
      schema_id: 'https://events.jupyter.org/jupyter_server/kernel_actions/v1',
      changed: [makeJob({ uid: 'x' })]
    } as any);
    events.emit(
      jobsEvent([
        { ...makeJob({ uid: 'bad' }), status: 'exploded' },
        { ...makeJob({ uid: 'worse' }), paths: '<img>' },
        makeJob({ uid: 'good' })
      ])
    );
    expect(model.jobs.map(job => job.uid)).toEqual(['good']);
  });

  it('does not let a late event take a job back to an earlier state', async () => {
    client.jobs = [makeJob({ uid: 'a', status: 'finished' })];
    await model.refresh();
    events.emit(jobsEvent([makeJob({ uid: 'a', status: 'running' })]));
    expect(model.getJob('a')?.status).toBe('finished');
  });

  it('keeps a kill asked for until the job ends, whatever older reports say', async () => {
    client.jobs = [makeJob({ uid: 'a', status: 'running' })];
    await model.refresh();
    await model.kill('a');
    // The server's list lags behind the kernel's answer to the kill.
    client.jobs[0].kill_requested = false;
    await model.refresh();
    expect(model.getJob('a')?.kill_requested).toBe(true);
    events.emit(
      jobsEvent([
        makeJob({ uid: 'a', kill_requested: false, blocked_in: 'x.py:3' })
      ])
    );
    expect(model.getJob('a')).toMatchObject({
      kill_requested: true,
      blocked_in: 'x.py:3'
    });
    events.emit(jobsEvent([makeJob({ uid: 'a', status: 'killed' })]));
    expect(model.getJob('a')).toMatchObject({
      status: 'killed',
      kill_requested: false
    });
  });

  it('keeps what events said while a snapshot was on its way', async () => {
    client.jobs = [
      makeJob({ uid: 'a', status: 'running', created: at(0) }),
      makeJob({ uid: 'gone', status: 'finished', created: at(1) })
    ];
    await model.refresh();
    // The server answers from its state when asked...
    const held = new PromiseDelegate<void>();
    client.gate = held.promise;
    const refreshing = model.refresh();
    // ...then these changes happen, and their events arrive first.
    events.emit(
      jobsEvent(
        [
          makeJob({ uid: 'a', status: 'finished' }),
          makeJob({ uid: 'new', status: 'running', created: at(5) })
        ],
        ['gone']
      )
    );
    held.resolve();
    await refreshing;
    expect(model.jobs.map(job => [job.uid, job.status])).toEqual([
      ['new', 'running'],
      ['a', 'finished']
    ]);
  });

  it('asks again when an event names a kernel it does not know', async () => {
    const started = new JobsModel({ client, events, pollInterval: 3600 });
    try {
      await started.refresh();
      client.calls = [];
      events.emit(jobsEvent([makeJob({ uid: 'k', kernel_id: 'kernel-z' })]));
      await new Promise(resolve => setTimeout(resolve, 50));
      expect(client.calls).toContain('GET kernels');
    } finally {
      started.dispose();
    }
  });
});
