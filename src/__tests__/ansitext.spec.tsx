import { ReactWidget } from '@jupyterlab/ui-components';
import { framePromise } from '@jupyterlab/testutils';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { AnsiText } from '../ansitext';

/** Render terminal text the way the panel does, and return its element. */
async function render(text: string): Promise<HTMLElement> {
  const widget = ReactWidget.create(<AnsiText text={text} />);
  Widget.attach(widget, document.body);
  widget.update();
  await framePromise();
  await widget.renderPromise;
  return widget.node;
}

describe('AnsiText', () => {
  afterEach(() => {
    document.body.innerHTML = '';
  });

  it('shows colours as classes on spans of text', async () => {
    const node = await render('\x1b[1;31mError\x1b[0m: \x1b[38;2;1;2;3mdeep');
    const spans = [...node.querySelectorAll('pre span')];
    expect(spans.map(span => [span.className, span.textContent])).toEqual([
      ['jp-bgjobs-ansi-red-fg jp-bgjobs-ansi-bold', 'Error'],
      ['', 'deep']
    ]);
    expect((spans[1] as HTMLElement).style.color).toBe('rgb(1, 2, 3)');
    expect(node.textContent).toBe('Error: deep');
  });

  it('creates no element from markup in the text, however it is dressed', async () => {
    const hostile = [
      '<img src=x onerror=alert(1)>',
      '\x1b[31m<script>alert(2)</script>\x1b[0m',
      '\x1b]8;;javascript:alert(3)\x07<a href="javascript:alert(4)">link</a>\x1b]8;;\x07',
      '<svg onload=alert(5)>'
    ].join('\n');
    const node = await render(hostile);
    expect(node.querySelectorAll('img, script, a, svg, iframe')).toHaveLength(
      0
    );
    expect(node.querySelectorAll('pre *').length).toBe(
      node.querySelectorAll('pre span').length
    );
    expect(node.textContent).toBe(
      [
        '<img src=x onerror=alert(1)>',
        '<script>alert(2)</script>',
        '<a href="javascript:alert(4)">link</a>',
        '<svg onload=alert(5)>'
      ].join('\n')
    );
  });
});
