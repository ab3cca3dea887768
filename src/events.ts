import {
  IJob,
  IJobError,
  IJobProgress,
  IJobWhere,
  JOB_KINDS,
  JOB_STATUSES,
  JobKind,
  JobStatus
} from './api';

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

type FieldCheck = (value: unknown) => boolean;

/**
 * What each field of a job must hold, as `jupyter_bgjobs/job.schema.json`
 * says. A `Record` over the fields of `IJob`: the compiler refuses a field
 * of the type without its check, and `jobschema.spec.ts` a field of the
 * schema without either.
 */
const JOB_CHECKS: Readonly<Record<keyof IJob, FieldCheck>> = {
  uid: isNonEmptyString,
  kernel_id: isNonEmptyString,
  number: isNumber,
  name: isStringOrNull,
  code: isString,
  kind: value => JOB_KINDS.includes(value as JobKind),
  status: value => JOB_STATUSES.includes(value as JobStatus),
  group: isStringOrNull,
  created: isString,
  started: isStringOrNull,
  ended: isStringOrNull,
  elapsed: isNumberOrNull,
  result_repr: isStringOrNull,
  error: value => value === null || isError(value),
  output_tail: isString,
  progress: value => value === null || isProgress(value),
  kill_requested: value => typeof value === 'boolean',
  blocked_in: isStringOrNull,
  where: value => value === null || isWhere(value),
  paths: value =>
    Array.isArray(value) && value.every(path => typeof path === 'string')
};

/** The fields of a job, in the order of `IJob`. */
export const JOB_FIELDS = Object.keys(JOB_CHECKS) as readonly (keyof IJob)[];

/** A Job from untrusted JSON, or null when a field is missing or has the wrong type. */
export function parseJob(value: unknown): IJob | null {
  if (!isObject(value)) {
    return null;
  }
  for (const field of JOB_FIELDS) {
    if (!(field in value) || !JOB_CHECKS[field](value[field])) {
      return null;
    }
  }
  return value as unknown as IJob;
}

function isError(value: unknown): value is IJobError {
  return (
    isObject(value) &&
    typeof value.ename === 'string' &&
    typeof value.evalue === 'string' &&
    Array.isArray(value.traceback) &&
    value.traceback.every(line => typeof line === 'string')
  );
}

function isWhere(value: unknown): value is IJobWhere {
  return (
    isObject(value) &&
    isNonEmptyString(value.backend) &&
    isNumberOrNull(value.pid) &&
    ['address', 'worker', 'dashboard'].every(
      key => key in value && isStringOrNull(value[key])
    )
  );
}

function isProgress(value: unknown): value is IJobProgress {
  return (
    isObject(value) &&
    isNumber(value.done) &&
    isNumberOrNull(value.total) &&
    'desc' in value &&
    isStringOrNull(value.desc)
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && isFinite(value);
}

function isStringOrNull(value: unknown): boolean {
  return value === null || typeof value === 'string';
}

function isNumberOrNull(value: unknown): boolean {
  return value === null || (typeof value === 'number' && isFinite(value));
}
