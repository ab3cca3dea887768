import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IJob, IJobWhere } from './api';
import { ErrorOutput, StreamOutput } from './outputview';

/**
 * What an open row shows: the error with its traceback, the output tail,
 * the result and the whole code. All of it is text from the job, so all of
 * it is rendered as text: the traceback and the output as a notebook
 * renders a cell's (see `outputview.tsx`), the rest as plain text.
 */
export function JobDetails(props: {
  job: IJob;
  rendermime: IRenderMimeRegistry;
  trans: TranslationBundle;
}): JSX.Element {
  const { job, rendermime, trans } = props;
  return (
    <div className="jp-bgjobs-details">
      {job.error && (
        <DetailBlock title={trans.__('Traceback')} className="jp-bgjobs-error">
          <div className="jp-bgjobs-error-summary">
            {job.error.evalue
              ? `${job.error.ename}: ${job.error.evalue}`
              : job.error.ename}
          </div>
          {job.error.traceback.some(line => line !== '') && (
            <ErrorOutput
              error={job.error}
              rendermime={rendermime}
              className="jp-bgjobs-traceback"
            />
          )}
        </DetailBlock>
      )}
      {job.output_tail && (
        <DetailBlock title={trans.__('Output')} className="jp-bgjobs-output">
          <StreamOutput
            text={job.output_tail}
            rendermime={rendermime}
            className="jp-bgjobs-stream"
          />
        </DetailBlock>
      )}
      {job.result_repr !== null && (
        <DetailBlock title={trans.__('Result')} className="jp-bgjobs-result">
          <pre className="jp-bgjobs-pre">{job.result_repr}</pre>
        </DetailBlock>
      )}
      {job.where && job.where.backend !== 'thread' && (
        <JobWhere where={job.where} trans={trans} />
      )}
      <DetailBlock title={trans.__('Code')} className="jp-bgjobs-source">
        <pre className="jp-bgjobs-pre">{job.code}</pre>
      </DetailBlock>
      {!job.error && !job.output_tail && job.result_repr === null && (
        <div className="jp-bgjobs-details-empty">
          {trans.__('No output, result or error yet.')}
        </div>
      )}
    </div>
  );
}

/**
 * Where a remote job runs, and a link to its cluster's dashboard when there
 * is one (a web address only: the record comes from the kernel, and a
 * `javascript:` link would run in JupyterLab's page).
 */
export function JobWhere(props: {
  where: IJobWhere;
  trans: TranslationBundle;
}): JSX.Element {
  const { where, trans } = props;
  const dashboard = webAddress(where.dashboard);
  return (
    <div className="jp-bgjobs-where">
      <span className="jp-bgjobs-where-text">
        {trans.__('Runs on: %1', whereText(where, trans))}
      </span>
      {dashboard && (
        <a
          className="jp-bgjobs-dashboard"
          href={dashboard}
          target="_blank"
          rel="noopener noreferrer"
          title={dashboard}
        >
          {trans.__('Dashboard')}
        </a>
      )}
    </div>
  );
}

/**
 * `process pid 4242`, `dask worker tcp://10.0.0.7:40123 of scheduler
 * tcp://10.0.0.5:8786`: where a remote job runs, as much as is known yet.
 */
export function whereText(where: IJobWhere, trans: TranslationBundle): string {
  const { backend, pid, address, worker } = where;
  const parts = [backend];
  if (pid !== null) {
    parts.push(trans.__('pid %1', pid));
  }
  if (worker) {
    parts.push(trans.__('worker %1', worker));
  }
  if (address) {
    parts.push(
      backend === 'dask'
        ? worker
          ? trans.__('of scheduler %1', address)
          : trans.__('scheduler %1', address)
        : address
    );
  }
  return parts.join(' ');
}

/** The address as an absolute http(s) URL, or null for anything else. */
function webAddress(address: string | null): string | null {
  if (!address) {
    return null;
  }
  try {
    const url = new URL(address, window.location.href);
    return url.protocol === 'http:' || url.protocol === 'https:'
      ? url.href
      : null;
  } catch {
    return null;
  }
}

function DetailBlock(props: {
  title: string;
  className: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <section className={`jp-bgjobs-detail ${props.className}`}>
      <h4 className="jp-bgjobs-detail-title">{props.title}</h4>
      {props.children}
    </section>
  );
}
