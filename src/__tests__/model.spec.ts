import { Event } from '@jupyterlab/services';
import { PromiseDelegate } from '@lumino/coreutils';
import { Stream } from '@lumino/signaling';

import { JOBS_EVENT_SCHEMA } from '../events';
import { JobsModel } from '../model';
import { IJobTransition } from '../tokens';
import { at, makeJob, makeKernel } from './fixtures';
import { MemoryClient, responseError } from './memoryclient';

/** The event bus as JupyterLab's EventManager hands it out. */
function makeEventStream(): Stream<object, Event.Emission> {
  return new Stream<object, Event.Emission>({});
}

function jobsEvent(
  changed: object[] = [],
  removed: string[] = []
): Event.Emission {
  return { schema_id: JOBS_EVENT_SCHEMA, changed, removed } as any;
}

describe('JobsModel', () => {
  let client: MemoryClient;
  let events: Stream<object, Event.Emission>;
  let clock: number;
  let model: JobsModel;

  beforeEach(() => {
    client = new MemoryClient();
    events = makeEventStream();
    clock = 1_000_000;
    model = new JobsModel({
      client,
      events,
      autoStart: false,
      now: () => clock
    });
  });

  afterEach(() => {
    model.dispose();
  });

  describe('snapshots', () => {
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

  describe('events', () => {
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
        schema_id:
          'https://events.jupyter.org/jupyter_server/kernel_actions/v1',
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

  describe('update source and polling', () => {
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

  describe('connection', () => {
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

  describe('transitions', () => {
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
      expect(
        transitions.map(t => [t.job.uid, t.previous, t.job.status])
      ).toEqual([['a', 'running', 'failed']]);
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

  describe('commands', () => {
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

  describe('derived values', () => {
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
});

const DEFAULT_POLL = 2;
