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
        <div className="jp-bgjobs-where">
          {trans.__('Runs on: %1', whereText(job.where))}
        </div>
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

/** `process pid 4242`, `dask tcp://10.0.0.5:8786 worker-1`: where a remote job runs. */
function whereText(where: IJobWhere): string {
  const { backend, pid, address, worker } = where;
  const pidText = pid !== null ? `pid ${pid}` : null;
  return [backend, pidText, address, worker].filter(part => part).join(' ');
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
