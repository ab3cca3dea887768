import { JobsModel } from '../model';
import { at, makeJob } from './fixtures';
import { MemoryClient } from './memoryclient';
import { makeModel } from './modelsetup';

describe('JobsModel: derived values', () => {
  let client: MemoryClient;
  let clock: number;
  let model: JobsModel;

  beforeEach(() => {
    clock = 1_000_000;
    ({ client, model } = makeModel(() => clock));
  });

  afterEach(() => {
    model.dispose();
  });

  it('counts elapsed time on from the last report while a job runs', async () => {
    client.jobs = [
      makeJob({ uid: 'run', status: 'running', elapsed: 3 }),
      makeJob({ uid: 'done', status: 'finished', elapsed: 7 }),
      makeJob({ uid: 'wait', status: 'queued', elapsed: null })
    ];
    await model.refresh();
    clock += 2500;
    const elapsed = (uid: string) => model.elapsedOf(model.getJob(uid)!);
    expect(elapsed('run')).toBeCloseTo(5.5);
    expect(elapsed('done')).toBe(7);
    expect(elapsed('wait')).toBeNull();
  });

  it("remembers a kernel's notebook after its session ended", async () => {
    client.jobs = [makeJob({ uid: 'a', paths: ['x.ipynb'] })];
    await model.refresh();
    client.jobs = [makeJob({ uid: 'a', status: 'lost', paths: [] })];
    await model.refresh();
    expect(model.pathsOf(model.getJob('a')!)).toEqual(['x.ipynb']);
  });

  it('keeps fewer ended jobs when the setting shrinks', async () => {
    client.jobs = [0, 1, 2].map(i =>
      makeJob({ uid: `e${i}`, status: 'finished', created: at(i) })
    );
    await model.refresh();
    model.configure({ maxEndedJobs: 1 });
    expect(model.jobs.map(job => job.uid)).toEqual(['e2']);
  });
});
