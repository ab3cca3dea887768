import { BgJobsClient, IJobsPage, IKernelSummary } from '../api';
import { JobsModel } from '../model';
import { ApiError } from '../request';
import { makeJob } from './fixtures';

/** A REST client that answers from memory, or fails the way a server can. */
class MemoryClient extends BgJobsClient {
  page: IJobsPage = {
    jobs: [],
    next_cursor: null,
    counts: { running: 0, finished: 0, dead: 0 }
  };
  kernels: IKernelSummary[] = [];
  failure: Error | null = null;

  async listJobs(): Promise<IJobsPage> {
    if (this.failure) {
      throw this.failure;
    }
    return this.page;
  }

  async listKernels(): Promise<IKernelSummary[]> {
    if (this.failure) {
      throw this.failure;
    }
    return this.kernels;
  }
}

describe('JobsModel', () => {
  let client: MemoryClient;
  let model: JobsModel;

  beforeEach(() => {
    client = new MemoryClient();
    model = new JobsModel({ client, pollInterval: 3600 });
  });

  afterEach(() => {
    model.dispose();
  });

  it('holds the jobs of the last refresh and signals the change', async () => {
    let signals = 0;
    model.changed.connect(() => signals++);
    client.page = {
      jobs: [makeJob({ uid: 'j1', status: 'finished' })],
      next_cursor: null,
      counts: { running: 0, finished: 1, dead: 0 }
    };
    await model.refresh();
    expect(model.connection).toBe('ok');
    expect(model.jobs.map(job => [job.uid, job.status])).toEqual([
      ['j1', 'finished']
    ]);
    expect(signals).toBeGreaterThanOrEqual(1);
  });

  it('says the server extension is missing on a 404', async () => {
    client.failure = new ApiError(404, 'Not Found');
    await expect(model.refresh()).rejects.toThrow('Not Found');
    expect(model.connection).toBe('missing');
    expect(model.error).toBe(
      'The jupyter_bgjobs server extension is not enabled.'
    );
  });

  it('keeps the last jobs when the server becomes unreachable', async () => {
    client.page = {
      jobs: [makeJob({ uid: 'kept' })],
      next_cursor: null,
      counts: { running: 1, finished: 0, dead: 0 }
    };
    await model.refresh();
    client.failure = new TypeError('Failed to fetch');
    await expect(model.refresh()).rejects.toThrow('Failed to fetch');
    expect(model.connection).toBe('unreachable');
    expect(model.jobs.map(job => job.uid)).toEqual(['kept']);
  });
});
