import { IJob, IJobError, IJobProgress, JOB_STATUSES, JobStatus } from './api';

/** The id of the schema of the server's job events (jupyter_events). */
export const JOBS_EVENT_SCHEMA = 'https://events.jupyter-bgjobs.org/jobs/v1';

/** One batch of job changes, as the server emits it on its event bus. */
export interface IJobsEvent {
  /** Jobs that appeared or changed, each exactly as the REST API returns it. */
  changed: IJob[];
  /** The uids of jobs that were removed. */
  removed: string[];
}

/**
 * The job changes in an emission of the event bus, or null when the emission
 * is of another schema or not a batch of job changes.
 *
 * Jobs that do not have the shape of a Job are dropped rather than trusted:
 * the views must never meet a field of an unexpected type.
 */
export function parseJobsEvent(emission: {
  schema_id?: unknown;
  changed?: unknown;
  removed?: unknown;
}): IJobsEvent | null {
  if (emission.schema_id !== JOBS_EVENT_SCHEMA) {
    return null;
  }
  const { changed, removed } = emission;
  if (
    (changed !== undefined && !Array.isArray(changed)) ||
    (removed !== undefined && !Array.isArray(removed))
  ) {
    return null;
  }
  const jobs: IJob[] = [];
  for (const value of changed ?? []) {
    const job = parseJob(value);
    if (job) {
      jobs.push(job);
    }
  }
  const uids = (removed ?? []).filter(
    (uid): uid is string => typeof uid === 'string' && uid.length > 0
  );
  return { changed: jobs, removed: uids };
}

/** A Job from untrusted JSON, or null when a field has the wrong type. */
export function parseJob(value: unknown): IJob | null {
  if (!isObject(value)) {
    return null;
  }
  const job = value as Record<string, unknown>;
  if (
    !isNonEmptyString(job.uid) ||
    !isNonEmptyString(job.kernel_id) ||
    typeof job.number !== 'number' ||
    typeof job.code !== 'string' ||
    typeof job.created !== 'string' ||
    !JOB_STATUSES.includes(job.status as JobStatus) ||
    !isStringOrNull(job.name) ||
    !isStringOrNull(job.group) ||
    !isStringOrNull(job.started) ||
    !isStringOrNull(job.ended) ||
    !isNumberOrNull(job.elapsed) ||
    !isStringOrNull(job.result_repr) ||
    !isStringOrNull(job.blocked_in) ||
    typeof job.output_tail !== 'string' ||
    typeof job.kill_requested !== 'boolean' ||
    !Array.isArray(job.paths) ||
    !job.paths.every(path => typeof path === 'string')
  ) {
    return null;
  }
  const error = job.error === null ? null : parseError(job.error);
  const progress = job.progress === null ? null : parseProgress(job.progress);
  if (error === undefined || progress === undefined) {
    return null;
  }
  return { ...(job as unknown as IJob), error, progress };
}

function parseError(value: unknown): IJobError | undefined {
  if (
    !isObject(value) ||
    typeof value.ename !== 'string' ||
    typeof value.evalue !== 'string' ||
    !Array.isArray(value.traceback) ||
    !value.traceback.every(line => typeof line === 'string')
  ) {
    return undefined;
  }
  return value as unknown as IJobError;
}

function parseProgress(value: unknown): IJobProgress | undefined {
  if (
    !isObject(value) ||
    typeof value.done !== 'number' ||
    !isNumberOrNull(value.total) ||
    !isStringOrNull(value.desc ?? null)
  ) {
    return undefined;
  }
  return {
    done: value.done,
    total: value.total as number | null,
    desc: (value.desc ?? null) as string | null
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isStringOrNull(value: unknown): boolean {
  return value === null || typeof value === 'string';
}

function isNumberOrNull(value: unknown): boolean {
  return value === null || (typeof value === 'number' && isFinite(value));
}
