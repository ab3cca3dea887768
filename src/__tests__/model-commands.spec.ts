import { JobsModel } from '../model';
import { makeJob } from './fixtures';
import { MemoryClient } from './memoryclient';
import { makeModel } from './modelsetup';

describe('JobsModel: commands', () => {
  let client: MemoryClient;
  let model: JobsModel;

  beforeEach(() => {
    ({ client, model } = makeModel(() => 1_000_000));
  });

  afterEach(() => {
    model.dispose();
  });

  it('kills every running job, kernel by kernel', async () => {
    client.jobs = [
      makeJob({ uid: 'a1', kernel_id: 'kernel-a', status: 'running' }),
      makeJob({ uid: 'a2', kernel_id: 'kernel-a', status: 'queued' }),
      makeJob({ uid: 'b1', kernel_id: 'kernel-b', status: 'running' }),
      makeJob({ uid: 'c1', kernel_id: 'kernel-c', status: 'finished' })
    ];
    await model.refresh();
    await expect(model.killAll()).resolves.toBe(3);
    expect(client.calls.filter(call => call.startsWith('POST'))).toEqual([
      'POST kernels/kernel-a/kill',
      'POST kernels/kernel-b/kill'
    ]);
    expect(
      model.jobs.filter(job => job.kill_requested).map(job => job.uid)
    ).toEqual(['a1', 'a2', 'b1']);
  });

  it('clears ended jobs and leaves running ones', async () => {
    client.jobs = [
      makeJob({ uid: 'run', status: 'running' }),
      makeJob({ uid: 'ok', status: 'finished' }),
      makeJob({ uid: 'bad', status: 'failed' }),
      makeJob({ uid: 'already-gone', status: 'killed' })
    ];
    client.gone.add('already-gone');
    await model.refresh();
    await expect(model.clearEnded()).resolves.toBe(3);
    expect(model.jobs.map(job => job.uid)).toEqual(['run']);
  });

  it('removes one job, and reports a refused kill', async () => {
    client.jobs = [
      makeJob({ uid: 'done', status: 'finished' }),
      makeJob({ uid: 'run', status: 'running' })
    ];
    await model.refresh();
    await model.remove('done');
    expect(model.getJob('done')).toBeUndefined();
    client.jobs[0].status = 'finished'; // 'run' ended on the server meanwhile
    await expect(model.kill('run')).rejects.toThrow('not running');
  });

  it('loads the full record of a job', async () => {
    client.jobs = [makeJob({ uid: 'a', status: 'failed' })];
    await model.refresh();
    client.jobs[0].error = {
      ename: 'ValueError',
      evalue: 'bad',
      traceback: ['line 1', 'line 2']
    };
    await model.loadDetails('a');
    expect(model.getDetails('a')?.error?.traceback).toEqual([
      'line 1',
      'line 2'
    ]);
  });
});
