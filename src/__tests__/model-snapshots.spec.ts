import { PromiseDelegate } from '@lumino/coreutils';

import { JobsModel } from '../model';
import { at, makeJob } from './fixtures';
import { MemoryClient } from './memoryclient';
import { makeModel } from './modelsetup';

describe('JobsModel: snapshots', () => {
  let client: MemoryClient;
  let model: JobsModel;

  beforeEach(() => {
    ({ client, model } = makeModel(() => 1_000_000));
  });

  afterEach(() => {
    model.dispose();
  });

  it('holds running and ended jobs, newest first, with counts', async () => {
    client.jobs = [
      makeJob({ uid: 'old', number: 0, status: 'finished', created: at(0) }),
      makeJob({ uid: 'new', number: 2, status: 'running', created: at(20) }),
      makeJob({ uid: 'mid', number: 1, status: 'failed', created: at(10) })
    ];
    let signals = 0;
    model.changed.connect(() => signals++);
    await model.refresh();
    expect(model.connection).toBe('ok');
    expect(model.jobs.map(job => job.uid)).toEqual(['new', 'mid', 'old']);
    expect(model.counts).toEqual({ running: 1, finished: 1, dead: 1 });
    expect(signals).toBe(1);
  });

  it('orders by time, not by the text of the time', async () => {
    // As strings, "10:00:00Z" sorts after "10:00:00.500000Z".
    client.jobs = [
      makeJob({ uid: 'whole', created: '2026-11-27T10:00:00Z' }),
      makeJob({ uid: 'later', created: '2026-11-27T10:00:00.500000Z' })
    ];
    await model.refresh();
    expect(model.jobs.map(job => job.uid)).toEqual(['later', 'whole']);
  });

  it('asks for every running job (all pages) and the newest ended ones', async () => {
    model.configure({ maxEndedJobs: 2 });
    client.jobs = [
      ...Array.from({ length: 1500 }, (_, i) =>
        makeJob({ uid: `run-${i}`, number: i, created: at(i) })
      ),
      ...Array.from({ length: 5 }, (_, i) =>
        makeJob({ uid: `end-${i}`, status: 'finished', created: at(i) })
      )
    ];
    await model.refresh();
    expect(model.counts).toEqual({ running: 1500, finished: 2, dead: 0 });
    expect(
      model.jobs.filter(job => job.status === 'finished').map(job => job.uid)
    ).toEqual(['end-4', 'end-3']);
    expect(client.calls.filter(call => call.startsWith('GET jobs'))).toEqual([
      'GET jobs {"status":"running","limit":1000}',
      'GET jobs {"status":"running","limit":1000,"cursor":"1000"}',
      'GET jobs {"status":"finished,dead","limit":2}'
    ]);
  });

  it('drops jobs that the server no longer has', async () => {
    client.jobs = [makeJob({ uid: 'a' }), makeJob({ uid: 'b' })];
    await model.refresh();
    client.jobs = [makeJob({ uid: 'b' })];
    await model.refresh();
    expect(model.jobs.map(job => job.uid)).toEqual(['b']);
  });

  it('never applies an older snapshot over a newer one', async () => {
    client.jobs = [makeJob({ uid: 'a', status: 'running' })];
    const slow = new PromiseDelegate<void>();
    client.gate = slow.promise;
    const first = model.refresh();
    client.gate = null;
    client.jobs = [makeJob({ uid: 'a', status: 'finished' })];
    await model.refresh();
    slow.resolve();
    await first;
    expect(model.getJob('a')?.status).toBe('finished');
  });
});
