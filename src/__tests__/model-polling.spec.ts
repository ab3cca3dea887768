import { JobsModel } from '../model';
import { makeJob, makeKernel } from './fixtures';
import { MemoryClient } from './memoryclient';
import { jobsEvent, IModelUnderTest, makeModel } from './modelsetup';

/** The fallback poll interval by default (schema/model.json), in seconds. */
const DEFAULT_POLL = 2;

describe('JobsModel: update source and polling', () => {
  let client: MemoryClient;
  let events: IModelUnderTest['events'];
  let model: JobsModel;

  beforeEach(() => {
    ({ client, events, model } = makeModel(() => 1_000_000));
  });

  afterEach(() => {
    model.dispose();
  });

  it('polls often until events arrive, then only resynchronizes', async () => {
    model.configure({ pollInterval: 2, resyncInterval: 60 });
    await model.refresh();
    expect(model.updateSource).toBe('polling');
    expect(model.refreshInterval).toBe(2);
    events.emit(jobsEvent([]));
    expect(model.updateSource).toBe('events');
    expect(model.refreshInterval).toBe(60);
  });

  it('polls often again when a resync finds a change no event announced', async () => {
    client.jobs = [makeJob({ uid: 'a', status: 'running' })];
    await model.refresh();
    events.emit(jobsEvent([]));
    expect(model.updateSource).toBe('events');
    client.jobs = [makeJob({ uid: 'a', status: 'finished' })];
    await model.refresh();
    expect(model.getJob('a')?.status).toBe('finished');
    expect(model.updateSource).toBe('polling');
    expect(model.refreshInterval).toBe(DEFAULT_POLL);
  });

  it('polls often while a kernel is still connecting', async () => {
    events.emit(jobsEvent([]));
    client.kernels = [makeKernel({ bgjobs: 'connecting' })];
    await model.refresh();
    expect(model.updateSource).toBe('events');
    expect(model.refreshInterval).toBe(DEFAULT_POLL);
    client.kernels = [makeKernel({ bgjobs: 'ready' })];
    await model.refresh();
    expect(model.refreshInterval).toBe(60);
  });
});
