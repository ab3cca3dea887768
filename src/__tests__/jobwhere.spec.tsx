import { nullTranslator } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { IJobWhere } from '../api';
import { JobWhere } from '../jobdetails';

const trans = nullTranslator.load('jupyter_bgjobs');

function where(overrides: Partial<IJobWhere>): IJobWhere {
  return {
    backend: 'dask',
    pid: null,
    address: null,
    worker: null,
    dashboard: null,
    ...overrides
  };
}

/** Render where a job runs; its text and the dashboard link's href (or null). */
async function shown(
  place: IJobWhere
): Promise<{ text: string; links: (string | null)[] }> {
  const widget = ReactWidget.create(<JobWhere where={place} trans={trans} />);
  Widget.attach(widget, document.body);
  widget.update();
  await widget.renderPromise;
  const text = widget.node.querySelector('.jp-bgjobs-where-text')?.textContent;
  const links = [...widget.node.querySelectorAll('a')].map(a =>
    a.getAttribute('href')
  );
  widget.dispose();
  return { text: text ?? '', links };
}

describe('JobWhere', () => {
  it('shows a process job with its pid', async () => {
    await expect(
      shown(where({ backend: 'process', pid: 4242 }))
    ).resolves.toEqual({ text: 'Runs on: process pid 4242', links: [] });
    await expect(shown(where({ backend: 'process' }))).resolves.toEqual({
      text: 'Runs on: process',
      links: []
    });
  });

  it('shows a dask job with its worker, scheduler and dashboard link', async () => {
    await expect(
      shown(
        where({
          address: 'tcp://10.0.0.5:8786',
          worker: 'tcp://10.0.0.7:40123',
          dashboard: 'http://10.0.0.5:8787/status'
        })
      )
    ).resolves.toEqual({
      text: 'Runs on: dask worker tcp://10.0.0.7:40123 of scheduler tcp://10.0.0.5:8786',
      links: ['http://10.0.0.5:8787/status']
    });
    // Queued: no worker has it yet.
    await expect(
      shown(where({ address: 'tcp://10.0.0.5:8786' }))
    ).resolves.toEqual({
      text: 'Runs on: dask scheduler tcp://10.0.0.5:8786',
      links: []
    });
  });

  it('links to web addresses only', async () => {
    const hrefs = async (dashboard: string) =>
      (await shown(where({ dashboard }))).links;
    await expect(hrefs('https://dask.example.org/status')).resolves.toEqual([
      'https://dask.example.org/status'
    ]);
    // A dashboard behind the Jupyter server's proxy, by path.
    await expect(hrefs('/proxy/8787/status')).resolves.toEqual([
      'http://localhost/proxy/8787/status'
    ]);
    for (const hostile of [
      'javascript:alert(1)',
      ' JavaScript:alert(1)',
      'data:text/html,<b>x</b>',
      'vbscript:msgbox(1)',
      'http://[bad'
    ]) {
      await expect(hrefs(hostile)).resolves.toEqual([]);
    }
  });
});
