import { IJob, IKernelSummary } from '../api';

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
    where: {
      backend: 'thread',
      pid: null,
      address: null,
      worker: null,
      dashboard: null
    },
    paths: ['analysis.ipynb'],
    ...overrides
  };
}

/** A kernel as `GET kernels` describes it. */
export function makeKernel(
  overrides: Partial<IKernelSummary> = {}
): IKernelSummary {
  return {
    kernel_id: 'kernel-a',
    kernel_name: 'python3',
    paths: ['analysis.ipynb'],
    execution_state: 'idle',
    bgjobs: 'ready',
    reason: '',
    counts: { running: 0, finished: 0, dead: 0 },
    ...overrides
  };
}

/** A time `seconds` after the fixtures' reference instant, as the server writes it. */
export function at(seconds: number): string {
  return new Date(Date.UTC(2026, 10, 27, 10, 0, 0) + seconds * 1000)
    .toISOString()
    .replace('.000Z', 'Z');
}
