import { IJob, IJobProgress } from './api';

/**
 * A duration for a row: `4.2 s` under ten seconds, `42 s` under a minute,
 * then `m:ss` and `h:mm:ss`. Empty for an unknown duration.
 */
export function formatElapsed(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '';
  }
  const value = Math.max(0, seconds);
  if (value < 10) {
    // Floor, not round: a live clock must not show 10.0 s before 10 s.
    return `${(Math.floor(value * 10) / 10).toFixed(1)} s`;
  }
  if (value < 60) {
    return `${Math.floor(value)} s`;
  }
  const whole = Math.floor(value);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = whole % 60;
  const ss = String(secs).padStart(2, '0');
  if (hours === 0) {
    return `${minutes}:${ss}`;
  }
  return `${hours}:${String(minutes).padStart(2, '0')}:${ss}`;
}

/** What a row calls a job: its name, or else the first line of its code. */
export function jobLabel(job: Pick<IJob, 'name' | 'code'>): string {
  if (job.name) {
    return job.name;
  }
  const lines = job.code.split('\n').filter(line => line.trim() !== '');
  if (lines.length === 0) {
    return '';
  }
  return lines.length > 1 ? `${lines[0].trim()} …` : lines[0].trim();
}

/** Done / total between 0 and 1, or null when the total is unknown. */
export function progressFraction(progress: IJobProgress): number | null {
  const { done, total } = progress;
  if (total === null || !(total > 0)) {
    return null;
  }
  return Math.min(1, Math.max(0, done / total));
}

/** `3 / 10 (30%)`, or `3` when the total is unknown. */
export function formatProgress(progress: IJobProgress): string {
  const fraction = progressFraction(progress);
  const done = formatCount(progress.done);
  if (fraction === null) {
    return done;
  }
  return `${done} / ${formatCount(progress.total as number)} (${Math.floor(
    fraction * 100
  )}%)`;
}

function formatCount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** The file name of a notebook path. */
export function baseName(path: string): string {
  const parts = path.split('/');
  return parts[parts.length - 1] || path;
}
