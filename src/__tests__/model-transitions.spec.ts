import { JobsModel } from '../model';
import { IJobTransition } from '../tokens';
import { at, makeJob } from './fixtures';
import { MemoryClient } from './memoryclient';
import { jobsEvent, IModelUnderTest, makeModel } from './modelsetup';

describe('JobsModel: transitions', () => {
  let client: MemoryClient;
  let events: IModelUnderTest['events'];
  let model: JobsModel;

  beforeEach(() => {
    ({ client, events, model } = makeModel(() => 1_000_000));
  });

  afterEach(() => {
    model.dispose();
  });

  let transitions: IJobTransition[];

  beforeEach(() => {
    transitions = [];
    model.transitioned.connect((_, batch) => transitions.push(...batch));
  });

  it('reports none for the jobs of the first load', async () => {
    client.jobs = [makeJob({ uid: 'a', status: 'failed' })];
    await model.refresh();
    expect(transitions).toEqual([]);
  });

  it('reports status changes with the status before', async () => {
    client.jobs = [makeJob({ uid: 'a', status: 'running' })];
    await model.refresh();
    events.emit(jobsEvent([makeJob({ uid: 'a', status: 'failed' })]));
    expect(transitions.map(t => [t.job.uid, t.previous, t.job.status])).toEqual(
      [['a', 'running', 'failed']]
    );
  });

  it('reports a new job that ended between two polls, not older ones coming into view', async () => {
    model.configure({ maxEndedJobs: 1 });
    client.jobs = [
      makeJob({ uid: 'older', status: 'finished', created: at(0) }),
      makeJob({ uid: 'shown', status: 'finished', created: at(10) })
    ];
    await model.refresh();
    client.jobs = [
      makeJob({ uid: 'older', status: 'finished', created: at(0) }),
      makeJob({ uid: 'quick', status: 'failed', created: at(20) })
    ];
    await model.refresh();
    expect(transitions.map(t => [t.job.uid, t.previous])).toEqual([
      ['quick', null]
    ]);
    client.jobs = [
      makeJob({ uid: 'older', status: 'finished', created: at(0) })
    ];
    transitions = [];
    await model.refresh();
    expect(transitions).toEqual([]);
  });

  it('says when the kill came from this browser', async () => {
    client.jobs = [makeJob({ uid: 'a', status: 'running' })];
    await model.refresh();
    await model.kill('a');
    expect(model.getJob('a')?.kill_requested).toBe(true);
    events.emit(jobsEvent([makeJob({ uid: 'a', status: 'killed' })]));
    expect(transitions.map(t => [t.job.status, t.killedFromHere])).toEqual([
      ['killed', true]
    ]);
  });
});
