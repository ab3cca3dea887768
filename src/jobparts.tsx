import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IJob, isActive, JobStatus } from './api';
import { ticker } from './clock';
import { formatElapsed, formatProgress, progressFraction } from './format';

/** The translated name of each state. */
export function statusLabel(
  status: JobStatus,
  trans: TranslationBundle
): string {
  switch (status) {
    case 'queued':
      return trans.__('queued');
    case 'running':
      return trans.__('running');
    case 'finished':
      return trans.__('finished');
    case 'failed':
      return trans.__('failed');
    case 'killed':
      return trans.__('killed');
    case 'lost':
      return trans.__('lost');
  }
}

/** Where a kill is stuck, in words. */
export function blockedText(job: IJob, trans: TranslationBundle): string {
  return job.blocked_in
    ? trans.__('Kill requested; the job is blocked in %1', job.blocked_in)
    : trans.__('Kill requested; waiting for the job to stop');
}

/** The state of a job, or "kill requested" while a kill has not landed. */
export function StatusBadge(props: {
  job: IJob;
  trans: TranslationBundle;
}): JSX.Element {
  const { job, trans } = props;
  const pendingKill = job.kill_requested && isActive(job.status);
  const kind = pendingKill ? 'kill-requested' : job.status;
  return (
    <span
      className={`jp-bgjobs-badge jp-bgjobs-badge-${kind}`}
      title={pendingKill ? blockedText(job, trans) : undefined}
    >
      {pendingKill
        ? trans.__('kill requested')
        : statusLabel(job.status, trans)}
    </span>
  );
}

/** How long a job has run; ticks every second while it runs. */
export function ElapsedTime(props: {
  job: IJob;
  elapsedOf: (job: IJob, now?: number) => number | null;
}): JSX.Element {
  const { job, elapsedOf } = props;
  const [, setTick] = React.useState(0);
  const live = job.status === 'running';
  React.useEffect(() => {
    if (!live) {
      return;
    }
    return ticker.subscribe(() => setTick(tick => tick + 1));
  }, [live]);
  return (
    <span className="jp-bgjobs-elapsed">{formatElapsed(elapsedOf(job))}</span>
  );
}

/** A bar of done / total, or a moving stripe when the total is unknown. */
export function ProgressBar(props: {
  job: IJob;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { progress } = props.job;
  if (!progress) {
    return null;
  }
  const fraction = progressFraction(progress);
  const text = progress.desc
    ? `${progress.desc}: ${formatProgress(progress)}`
    : formatProgress(progress);
  return (
    <div className="jp-bgjobs-progress" title={text}>
      <div
        className={`jp-bgjobs-progress-track${
          fraction === null ? ' jp-mod-indeterminate' : ''
        }`}
        role="progressbar"
        aria-label={props.trans.__('Progress')}
        aria-valuemin={0}
        aria-valuemax={progress.total ?? undefined}
        aria-valuenow={progress.done}
        aria-valuetext={text}
      >
        <div
          className="jp-bgjobs-progress-fill"
          style={
            fraction === null ? undefined : { width: `${fraction * 100}%` }
          }
        />
      </div>
      <span className="jp-bgjobs-progress-text">{text}</span>
    </div>
  );
}
