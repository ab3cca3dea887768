import { ReactWidget, UseSignal } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import * as React from 'react';

import { IJob } from './api';
import { groupJobs } from './grouping';
import { JobsModel } from './model';

/** The status badge of a job. */
function StatusBadge(props: { job: IJob }): JSX.Element {
  const { job } = props;
  return (
    <span
      className={`jp-bgjobs-badge jp-bgjobs-badge-${job.status}`}
      data-status={job.status}
    >
      {job.status}
    </span>
  );
}

/** One job: number, name or code (as text), status. */
function JobRow(props: { job: IJob }): JSX.Element {
  const { job } = props;
  const label = job.name ?? job.code;
  return (
    <li className="jp-bgjobs-row" data-uid={job.uid} data-status={job.status}>
      <span className="jp-bgjobs-number">{job.number}</span>
      <code className="jp-bgjobs-code" title={job.code}>
        {label}
      </code>
      <StatusBadge job={job} />
    </li>
  );
}

/** Every job, grouped by notebook. */
function JobsView(props: {
  model: JobsModel;
  translator: ITranslator;
}): JSX.Element {
  const { model } = props;
  const trans = props.translator.load('jupyter_bgjobs');
  if (model.connection === 'missing' || model.connection === 'unreachable') {
    return (
      <div className="jp-bgjobs-message jp-bgjobs-error">
        {model.connection === 'missing'
          ? trans.__(
              'The jupyter_bgjobs server extension is not enabled on this server.'
            )
          : trans.__('Cannot reach the server: %1', model.error)}
      </div>
    );
  }
  const sections = groupJobs([...model.jobs], [...model.kernels]).filter(
    section => section.jobs.length > 0
  );
  if (sections.length === 0) {
    return (
      <div className="jp-bgjobs-message">
        {trans.__(
          'No background jobs. Start one with %job EXPR in a notebook.'
        )}
      </div>
    );
  }
  return (
    <div className="jp-bgjobs-sections">
      {sections.map(section => (
        <section
          key={section.key}
          className="jp-bgjobs-section"
          data-path={section.path ?? ''}
        >
          <h3 className="jp-bgjobs-section-title" title={section.path ?? ''}>
            {section.path
              ? section.path.split('/').pop()
              : trans.__('Kernel %1', section.kernelIds[0].slice(0, 8))}
          </h3>
          <ul className="jp-bgjobs-rows">
            {section.jobs.map(job => (
              <JobRow key={job.uid} job={job} />
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

/** The "Background Jobs" sidebar. */
export class JobsPanel extends ReactWidget {
  constructor(
    readonly model: JobsModel,
    translator: ITranslator = nullTranslator
  ) {
    super();
    this._translator = translator;
    this.addClass('jp-bgjobs-panel');
  }

  protected render(): JSX.Element {
    const trans = this._translator.load('jupyter_bgjobs');
    return (
      <>
        <header className="jp-bgjobs-header">
          {trans.__('Background Jobs')}
        </header>
        <UseSignal signal={this.model.changed}>
          {() => <JobsView model={this.model} translator={this._translator} />}
        </UseSignal>
      </>
    );
  }

  private _translator: ITranslator;
}
