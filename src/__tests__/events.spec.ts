import { JOBS_EVENT_SCHEMA, parseJob, parseJobsEvent } from '../events';
import { makeJob } from './fixtures';

describe('parseJobsEvent', () => {
  it('reads a batch of changed and removed jobs', () => {
    const job = makeJob({
      uid: 'a',
      progress: { done: 1, total: 4, desc: 'x' }
    });
    expect(
      parseJobsEvent({
        schema_id: JOBS_EVENT_SCHEMA,
        changed: [job],
        removed: ['b']
      })
    ).toEqual({ changed: [job], removed: ['b'] });
  });

  it('is null for another schema or a batch of the wrong shape', () => {
    expect(parseJobsEvent({ schema_id: 'other', changed: [] })).toBeNull();
    expect(
      parseJobsEvent({ schema_id: JOBS_EVENT_SCHEMA, changed: 'nope' })
    ).toBeNull();
    expect(
      parseJobsEvent({ schema_id: JOBS_EVENT_SCHEMA, removed: {} })
    ).toBeNull();
  });

  it('drops removed uids that are not strings', () => {
    expect(
      parseJobsEvent({
        schema_id: JOBS_EVENT_SCHEMA,
        removed: ['a', 3, '', null]
      })
    ).toEqual({ changed: [], removed: ['a'] });
  });
});

describe('parseJob', () => {
  it('accepts a job as the REST API returns it', () => {
    const job = makeJob({
      error: { ename: 'E', evalue: 'v', traceback: ['t'] },
      progress: { done: 2, total: null, desc: null }
    });
    expect(parseJob(job)).toEqual(job);
  });

  it('accepts where a job runs: a worker process, or null from an older kernel', () => {
    const where = {
      backend: 'process',
      pid: 4242,
      address: null,
      worker: null,
      dashboard: null
    };
    expect(parseJob(makeJob({ where }))?.where).toEqual(where);
    expect(parseJob(makeJob({ where: null }))?.where).toBeNull();
  });

  it.each([
    ['an unknown status', { status: 'exploded' }],
    ['a code that is not text', { code: { toString: 'x' } }],
    ['paths that are not strings', { paths: [1] }],
    [
      'a traceback that is not lines',
      { error: { ename: 'E', evalue: '', traceback: [{}] } }
    ],
    ['a progress without done', { progress: { total: 3 } }],
    // The schema requires both; parseJob let them through before.
    ['an unknown kind', { kind: 'thread' }],
    ['a progress without desc', { progress: { done: 1, total: 3 } }],
    ['an empty uid', { uid: '' }],
    ['a where without its backend', { where: { pid: 1 } }],
    [
      'a where with a pid that is text',
      {
        where: {
          backend: 'process',
          pid: '1',
          address: null,
          worker: null,
          dashboard: null
        }
      }
    ],
    ['a name that is markup in an object', { name: { __html: '<b>' } }]
  ])('rejects %s', (_, override) => {
    expect(parseJob({ ...makeJob(), ...override })).toBeNull();
  });

  it('keeps hostile text as it is: rendering makes it harmless, not parsing', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    expect(parseJob(makeJob({ code: hostile, name: hostile }))?.code).toBe(
      hostile
    );
  });
});
