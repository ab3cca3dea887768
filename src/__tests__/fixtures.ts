import { IJob } from '../api';

/** A job as the REST API returns it, with the fields a test cares about overridden. */
export function makeJob(overrides: Partial<IJob> = {}): IJob {
  return {
    uid: 'uid-0',
    kernel_id: 'kernel-a',
    number: 0,
    name: null,
    code: '6*7',
    kind: 'expr',
    status: 'running',
    group: null,
    created: '2026-11-27T10:00:00Z',
    started: '2026-11-27T10:00:00Z',
    ended: null,
    elapsed: 1.5,
    result_repr: null,
    error: null,
    output_tail: '',
    progress: null,
    kill_requested: false,
    blocked_in: null,
    paths: ['analysis.ipynb'],
    ...overrides
  };
}
