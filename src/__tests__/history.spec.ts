import { PromiseDelegate } from '@lumino/coreutils';

import { endedBySection, endedShownIn } from '../history';
import { IJob } from '../api';
import { JobsModel } from '../model';
import { at, makeJob } from './fixtures';
import { MemoryClient, responseError } from './memoryclient';
import { jobsEvent, IModelUnderTest, makeModel } from './modelsetup';

describe('JobsModel: clearing the history of a notebook or kernel', () => {
  let client: MemoryClient;
  let events: IModelUnderTest['events'];
  let model: JobsModel;

  beforeEach(() => {
    ({ client, events, model } = makeModel(() => 1_000_000));
  });

  afterEach(() => {
    model.dispose();
  });

  const uids = () => model.jobs.map(job => job.uid);
  const onServer = () => client.jobs.map(job => job.uid).sort();

  it("removes a notebook's ended jobs, on the server and here, and nothing else", async () => {
    client.jobs = [
      makeJob({ uid: 'run', status: 'running', created: at(4) }),
      makeJob({ uid: 'wait', status: 'queued', created: at(3) }),
      makeJob({ uid: 'ok', status: 'finished', created: at(2) }),
      makeJob({ uid: 'bad', status: 'failed', created: at(1) }),
      makeJob({ uid: 'dead', status: 'killed', created: at(0) }),
      makeJob({
        uid: 'other',
        kernel_id: 'kernel-b',
        status: 'finished',
        paths: ['other.ipynb']
      })
    ];
    await model.refresh();
    expect(await model.countHistory({ path: 'analysis.ipynb' })).toBe(3);
    let signals = 0;
    model.changed.connect(() => signals++);

    await expect(model.clearHistory({ path: 'analysis.ipynb' })).resolves.toBe(
      3
    );

    expect(uids()).toEqual(['run', 'wait', 'other']);
    expect(model.counts).toEqual({ running: 2, finished: 1, dead: 0 });
    expect(onServer()).toEqual(['other', 'run', 'wait']);
    expect(signals).toBe(1);
    expect(client.calls.filter(call => !call.includes('status'))).toEqual([
      'GET kernels',
      'GET jobs {"path":"analysis.ipynb","limit":1}',
      'DELETE jobs {"path":"analysis.ipynb"}'
    ]);
  });

  it('clears a kernel that has no notebook by its id', async () => {
    client.jobs = [
      makeJob({ uid: 'k1', kernel_id: 'kernel-x', status: 'lost', paths: [] }),
      makeJob({
        uid: 'k2',
        kernel_id: 'kernel-x',
        status: 'running',
        paths: []
      }),
      makeJob({ uid: 'nb', status: 'finished' })
    ];
    await model.refresh();
    expect(await model.countHistory({ kernel_id: 'kernel-x' })).toBe(1);

    await expect(model.clearHistory({ kernel_id: 'kernel-x' })).resolves.toBe(
      1
    );

    expect(uids().sort()).toEqual(['k2', 'nb']);
    expect(client.calls).toContain('DELETE jobs {"kernel_id":"kernel-x"}');
  });

  it('also clears the jobs shown under the notebook by a remembered path', async () => {
    // kernel-a served x.ipynb; its session ended, the kernel runs on: the
    // server lists its jobs with no path, the panel still shows them there.
    client.jobs = [
      makeJob({ uid: 'a1', status: 'finished', paths: ['x.ipynb'] })
    ];
    await model.refresh();
    client.jobs = [
      makeJob({ uid: 'a1', status: 'finished', paths: [], created: at(1) }),
      makeJob({ uid: 'a2', status: 'failed', paths: [], created: at(2) }),
      makeJob({ uid: 'a3', status: 'running', paths: [], created: at(3) }),
      makeJob({
        uid: 'b1',
        kernel_id: 'kernel-b',
        status: 'killed',
        paths: ['x.ipynb']
      }),
      makeJob({
        uid: 'c1',
        kernel_id: 'kernel-c',
        status: 'finished',
        paths: ['y.ipynb']
      })
    ];
    await model.refresh();
    expect(model.pathsOf(model.getJob('a2')!)).toEqual(['x.ipynb']);
    expect(await model.countHistory({ path: 'x.ipynb' })).toBe(3);

    await expect(model.clearHistory({ path: 'x.ipynb' })).resolves.toBe(3);

    expect(client.calls.filter(call => call.startsWith('DELETE'))).toEqual([
      'DELETE jobs {"path":"x.ipynb"}',
      'DELETE jobs {"kernel_id":"kernel-a"}'
    ]);
    expect(uids()).toEqual(['a3', 'c1']);
    expect(onServer()).toEqual(['a3', 'c1']);
  });

  it("agrees with the server's own removal events, whichever comes first", async () => {
    client.jobs = [
      makeJob({ uid: 'ok', status: 'finished', created: at(1) }),
      makeJob({ uid: 'bad', status: 'failed', created: at(0) })
    ];
    await model.refresh();
    const answer = new PromiseDelegate<void>();
    client.clearGate = answer.promise;
    const clearing = model.clearHistory({ path: 'analysis.ipynb' });
    // The bus announces one removal before the answer, one after it.
    events.emit(jobsEvent([], ['ok']));
    expect(uids()).toEqual(['bad']);
    answer.resolve();
    await expect(clearing).resolves.toBe(2);
    expect(uids()).toEqual([]);
    events.emit(jobsEvent([], ['bad']));
    expect(uids()).toEqual([]);
    expect(model.counts).toEqual({ running: 0, finished: 0, dead: 0 });
  });

  it('keeps a job that ended after the server was asked, as the server does', async () => {
    client.jobs = [
      makeJob({ uid: 'late', status: 'running', created: at(1) }),
      makeJob({ uid: 'ok', status: 'finished', created: at(0) })
    ];
    await model.refresh();
    const answer = new PromiseDelegate<void>();
    client.clearGate = answer.promise;
    const clearing = model.clearHistory({ path: 'analysis.ipynb' });
    // The server removed 'ok' and kept 'late', which ends only now.
    client.jobs[0].status = 'finished';
    events.emit(jobsEvent([makeJob({ uid: 'late', status: 'finished' })]));
    answer.resolve();
    await expect(clearing).resolves.toBe(1);
    expect(uids()).toEqual(['late']);
    await model.refresh();
    expect(uids()).toEqual(['late']);
  });

  it('does not bring cleared jobs back from a snapshot asked for before', async () => {
    client.jobs = [makeJob({ uid: 'ok', status: 'finished' })];
    await model.refresh();
    const held = new PromiseDelegate<void>();
    client.gate = held.promise;
    const refreshing = model.refresh(); // answers with 'ok' still there
    client.gate = null;
    await model.clearHistory({ path: 'analysis.ipynb' });
    held.resolve();
    await refreshing;
    expect(uids()).toEqual([]);
  });

  it('removes nothing here when the server refuses, and says why', async () => {
    client.jobs = [makeJob({ uid: 'ok', status: 'finished' })];
    await model.refresh();
    client.failure = responseError(403, 'Forbidden');
    await expect(
      model.clearHistory({ path: 'analysis.ipynb' })
    ).rejects.toThrow('Forbidden');
    expect(uids()).toEqual(['ok']);
  });

  it('keeps what one request cleared when the other fails', async () => {
    client.jobs = [
      makeJob({ uid: 'a1', status: 'finished', paths: ['x.ipynb'] })
    ];
    await model.refresh();
    client.jobs = [
      makeJob({ uid: 'a1', status: 'finished', paths: [] }),
      makeJob({
        uid: 'b1',
        kernel_id: 'kernel-b',
        status: 'failed',
        paths: ['x.ipynb']
      })
    ];
    await model.refresh();
    const clearHistory = client.clearHistory.bind(client);
    client.clearHistory = async scope => {
      if (scope.kernel_id) {
        throw responseError(404, 'no kernel kernel-a');
      }
      return clearHistory(scope);
    };
    await expect(model.clearHistory({ path: 'x.ipynb' })).rejects.toThrow(
      'no kernel kernel-a'
    );
    expect(uids()).toEqual(['a1']);
  });
});

describe('endedShownIn', () => {
  const remembered: Record<string, string[]> = { 'kernel-r': ['x.ipynb'] };
  const pathsOf = (job: IJob) =>
    job.paths.length > 0 ? job.paths : (remembered[job.kernel_id] ?? []);
  const jobs = [
    makeJob({ uid: '1', status: 'finished', paths: ['x.ipynb'] }),
    makeJob({ uid: '2', status: 'running', paths: ['x.ipynb'] }),
    makeJob({ uid: '3', status: 'lost', kernel_id: 'kernel-r', paths: [] }),
    // Shown under its first path only.
    makeJob({ uid: '4', status: 'failed', paths: ['y.ipynb', 'x.ipynb'] }),
    makeJob({ uid: '5', status: 'killed', kernel_id: 'kernel-n', paths: [] }),
    makeJob({ uid: '6', status: 'queued', kernel_id: 'kernel-n', paths: [] })
  ];

  it('counts the ended jobs of the section a notebook or kernel has', () => {
    expect(endedShownIn({ path: 'x.ipynb' }, jobs, pathsOf)).toBe(2);
    expect(endedShownIn({ path: 'y.ipynb' }, jobs, pathsOf)).toBe(1);
    expect(endedShownIn({ kernel_id: 'kernel-n' }, jobs, pathsOf)).toBe(1);
    // kernel-r's jobs show under x.ipynb, not in a section of the kernel.
    expect(endedShownIn({ kernel_id: 'kernel-r' }, jobs, pathsOf)).toBe(0);
    expect(endedShownIn({ path: 'z.ipynb' }, jobs, pathsOf)).toBe(0);
  });

  it('counts them for every section at once, by section key', () => {
    expect([...endedBySection(jobs, pathsOf)].sort()).toEqual([
      ['kernel:kernel-n', 1],
      ['x.ipynb', 2],
      ['y.ipynb', 1]
    ]);
  });
});
