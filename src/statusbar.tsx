import { GroupItem, TextItem } from '@jupyterlab/statusbar';
import { ITranslator } from '@jupyterlab/translation';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { jobsIcon } from './icons';
import { IJobsModel } from './tokens';

/** "2 jobs running" in the status bar; a click opens the sidebar. */
export class JobsStatus extends ReactWidget {
  constructor(options: JobsStatus.IOptions) {
    super();
    this._model = options.model;
    this._onClick = options.onClick;
    this._translator = options.translator;
    this.addClass('jp-bgjobs-status');
    this.addClass('jp-mod-highlighted');
  }

  protected render(): JSX.Element {
    const trans = this._translator.load('jupyter_bgjobs');
    return (
      <UseSignal signal={this._model.changed}>
        {() => {
          const running = this._model.counts.running;
          const text = trans._n('%1 job running', '%1 jobs running', running);
          return (
            <div
              className="jp-bgjobs-status-item"
              role="button"
              tabIndex={0}
              title={trans.__('Show the background jobs')}
              data-running={running}
              onClick={this._onClick}
              onKeyDown={event => {
                if (event.key === 'Enter' || event.key === ' ') {
                  event.preventDefault();
                  this._onClick();
                }
              }}
            >
              <GroupItem spacing={4}>
                <jobsIcon.react tag="span" stylesheet="statusBar" />
                <TextItem source={text} />
              </GroupItem>
            </div>
          );
        }}
      </UseSignal>
    );
  }

  private _model: IJobsModel;
  private _onClick: () => void;
  private _translator: ITranslator;
}

export namespace JobsStatus {
  export interface IOptions {
    model: IJobsModel;
    onClick: () => void;
    translator: ITranslator;
  }
}
