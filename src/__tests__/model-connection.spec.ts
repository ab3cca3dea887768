import { JobsModel } from '../model';
import { makeJob } from './fixtures';
import { MemoryClient, responseError } from './memoryclient';
import { jobsEvent, IModelUnderTest, makeModel } from './modelsetup';

describe('JobsModel: connection', () => {
  let client: MemoryClient;
  let events: IModelUnderTest['events'];
  let model: JobsModel;

  beforeEach(() => {
    ({ client, events, model } = makeModel(() => 1_000_000));
  });

  afterEach(() => {
    model.dispose();
  });

  it('says the server extension is missing on a 404', async () => {
    client.failure = responseError(404, 'Not Found');
    await expect(model.refresh()).rejects.toThrow('Not Found');
    expect(model.connection).toBe('missing');
  });

  it('keeps the last jobs when the server becomes unreachable, and recovers', async () => {
    client.jobs = [makeJob({ uid: 'kept' })];
    await model.refresh();
    events.emit(jobsEvent([]));
    client.failure = new TypeError('Failed to fetch');
    await expect(model.refresh()).rejects.toThrow('Failed to fetch');
    expect(model.connection).toBe('unreachable');
    expect(model.error).toBe('Failed to fetch');
    expect(model.jobs.map(job => job.uid)).toEqual(['kept']);
    // The event socket went down with the server: poll until events return.
    expect(model.updateSource).toBe('polling');

    client.failure = null;
    await model.refresh();
    expect(model.connection).toBe('ok');
    expect(model.error).toBe('');
  });

  it('reports a server error with its status', async () => {
    client.failure = responseError(500, 'store broke');
    await expect(model.refresh()).rejects.toThrow('store broke');
    expect(model.connection).toBe('unreachable');
    expect(model.error).toBe('500: store broke');
  });
});
