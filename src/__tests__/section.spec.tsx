import {
  RenderMimeRegistry,
  standardRendererFactories
} from '@jupyterlab/rendermime';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { IHistoryScope } from '../api';
import { IJobActions } from '../jobrow';
import { JobsView } from '../jobsview';
import { JobsModel } from '../model';
import { OutputRendering } from '../outputview';
import { JobsViewState } from '../viewstate';
import { makeJob, makeKernel } from './fixtures';
import { MemoryClient } from './memoryclient';
import { makeModel } from './modelsetup';

describe('the Clear history button of a section header', () => {
  let client: MemoryClient;
  let model: JobsModel;
  let state: JobsViewState;
  let view: JobsView;
  let asked: IHistoryScope[];

  beforeEach(async () => {
    ({ client, model } = makeModel(() => 1_000_000));
    client.kernels = [
      makeKernel({ kernel_id: 'kernel-a', paths: ['done.ipynb'] }),
      makeKernel({ kernel_id: 'kernel-b', paths: ['busy.ipynb'] }),
      makeKernel({ kernel_id: 'kernel-n0123456789', paths: [] })
    ];
    client.jobs = [
      makeJob({ uid: 'a', status: 'finished', paths: ['done.ipynb'] }),
      makeJob({ uid: 'a2', status: 'running', paths: ['done.ipynb'] }),
      makeJob({
        uid: 'b',
        kernel_id: 'kernel-b',
        status: 'running',
        paths: ['busy.ipynb']
      }),
      makeJob({
        uid: 'n',
        kernel_id: 'kernel-n0123456789',
        status: 'lost',
        paths: []
      })
    ];
    await model.refresh();
    asked = [];
    const actions: IJobActions = {
      kill: () => undefined,
      remove: () => undefined,
      openNotebook: () => undefined,
      loadDetails: () => undefined,
      clearHistory: target => asked.push(target)
    };
    state = new JobsViewState();
    view = new JobsView({
      model,
      state,
      actions,
      rendering: new OutputRendering(
        new RenderMimeRegistry({ initialFactories: standardRendererFactories })
      ),
      translator: nullTranslator
    });
    Widget.attach(view, document.body);
    view.update();
    await view.renderPromise;
  });

  afterEach(() => {
    view.dispose();
    model.dispose();
  });

  /** Each header's clear button: its section, label and whether it is disabled. */
  const buttons = () =>
    [...view.node.querySelectorAll('.jp-bgjobs-section')].map(section => {
      const button = section.querySelector(
        '.jp-bgjobs-clear-history'
      ) as HTMLButtonElement;
      return {
        section: section.getAttribute('data-path'),
        label: button.getAttribute('aria-label'),
        disabled: button.getAttribute('aria-disabled'),
        button
      };
    });

  it('is enabled where a section holds ended jobs, and asks for its notebook or kernel', () => {
    expect(
      buttons().map(({ section, label, disabled }) => [
        section,
        label,
        disabled
      ])
    ).toEqual([
      ['busy.ipynb', 'Clear the history of busy.ipynb', 'true'],
      ['done.ipynb', 'Clear the history of done.ipynb', 'false'],
      ['', 'Clear the history of Kernel python3 (kernel-n)', 'false']
    ]);
    for (const { button } of buttons()) {
      button.click();
    }
    // The disabled one asks nothing; no click folds a section.
    expect(asked).toEqual([
      { path: 'done.ipynb' },
      { kernel_id: 'kernel-n0123456789' }
    ]);
    expect(state.isCollapsed('done.ipynb')).toBe(false);
  });

  it('counts the ended jobs that the filters hide', async () => {
    state.group = 'running';
    view.update();
    await view.renderPromise;
    await new Promise(resolve => requestAnimationFrame(resolve));
    // done.ipynb shows only its running job; its ended one still counts.
    expect(
      buttons().map(({ section, disabled }) => [section, disabled])
    ).toEqual([
      ['busy.ipynb', 'true'],
      ['done.ipynb', 'false']
    ]);
    expect(
      view.node.querySelectorAll(
        '.jp-bgjobs-section[data-path="done.ipynb"] .jp-bgjobs-row'
      )
    ).toHaveLength(1);
  });
});
