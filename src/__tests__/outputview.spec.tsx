import {
  RenderMimeRegistry,
  standardRendererFactories
} from '@jupyterlab/rendermime';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { ErrorOutput, StreamOutput } from '../outputview';

const rendermime = new RenderMimeRegistry({
  initialFactories: standardRendererFactories
});

/** Mount an element, and wait until the renderer has written its text. */
async function mount(element: JSX.Element): Promise<HTMLElement> {
  const widget = ReactWidget.create(element);
  Widget.attach(widget, document.body);
  widget.update();
  await widget.renderPromise;
  for (let i = 0; i < 500 && !widget.node.querySelector('pre'); i++) {
    await new Promise(resolve => setTimeout(resolve, 10));
  }
  const pre = widget.node.querySelector('pre');
  if (!pre) {
    throw new Error('nothing was rendered');
  }
  // The links are made safe right after the renderer resolves.
  await new Promise(resolve => setTimeout(resolve, 0));
  return widget.node;
}

function stream(text: string): Promise<HTMLElement> {
  return mount(
    <StreamOutput text={text} rendermime={rendermime} className="out" />
  );
}

function error(traceback: string[]): Promise<HTMLElement> {
  return mount(
    <ErrorOutput
      error={{ ename: 'ValueError', evalue: 'bad', traceback }}
      rendermime={rendermime}
      className="tb"
    />
  );
}

/** Every element below the renderer's <pre>, by tag name. */
function tagsIn(node: HTMLElement): string[] {
  return [...node.querySelectorAll('pre *')].map(element =>
    element.tagName.toLowerCase()
  );
}

describe('ErrorOutput', () => {
  afterEach(() => {
    document.body.innerHTML = '';
  });

  it('renders a traceback as a notebook does: an error block with ANSI colours as classes', async () => {
    const node = await error([
      '\x1b[0;31m---------\x1b[0m',
      '\x1b[0;32m<ipython-input-1>\x1b[0m in \x1b[0;36mparse\x1b[0;34m()\x1b[0m',
      "\x1b[0;31mValueError\x1b[0m: bad record 'x;y'"
    ]);
    const rendered = node.querySelector('.tb .jp-RenderedText');
    expect(rendered?.getAttribute('data-mime-type')).toBe(
      'application/vnd.jupyter.stderr'
    );
    expect(
      [...node.querySelectorAll('pre span')].map(span => [
        span.className,
        span.textContent
      ])
    ).toEqual([
      ['ansi-red-fg', '---------'],
      ['ansi-green-fg', '<ipython-input-1>'],
      ['ansi-cyan-fg', 'parse'],
      ['ansi-blue-fg', '()'],
      ['ansi-red-fg', 'ValueError']
    ]);
    expect(node.textContent).toBe(
      "---------\n<ipython-input-1> in parse()\nValueError: bad record 'x;y'"
    );
  });
});

describe('StreamOutput', () => {
  afterEach(() => {
    document.body.innerHTML = '';
  });

  it('applies carriage returns as a terminal (and a notebook) does', async () => {
    const node = await stream('step 1\rstep 2\rstep 3\ndone\n');
    expect(node.querySelector('pre')?.textContent).toBe('step 3\ndone\n');
  });

  it('makes web links of URLs', async () => {
    const node = await stream('see https://example.org/docs for more\n');
    expect(
      [...node.querySelectorAll('a')].map(a => a.getAttribute('href'))
    ).toEqual(['https://example.org/docs']);
  });

  it('creates no element from markup and no link that runs script, however it is dressed', async () => {
    const hostile = [
      '<img src=x onerror=alert(1)>',
      '\x1b[31m<script>alert(2)</script>\x1b[0m',
      '\x1b]8;;javascript:alert(3)\x07<a href="javascript:alert(4)">link</a>\x1b]8;;\x07',
      '<svg onload=alert(5)>',
      'javascript://%0aalert(6)//x data:text/html,<b>7</b>'
    ].join('\n');
    const node = await stream(hostile);
    expect(tagsIn(node).filter(tag => tag !== 'span' && tag !== 'a')).toEqual(
      []
    );
    expect(node.querySelectorAll('a[href]')).toHaveLength(0);
    expect(node.querySelector('pre')?.textContent).toBe(
      hostile.replace('\x1b[31m', '').replace('\x1b[0m', '')
    );
  });

  it('shows lone surrogates as they are', async () => {
    const text = 'out \ud800 and \udcff end\n';
    const node = await stream(text);
    expect(node.querySelector('pre')?.textContent).toBe(text);
  });

  it('renders 10 MB of output as text', async () => {
    const text =
      '<img src=x onerror=alert(1)> '.repeat(10_000_000 / 30) + 'END';
    const started = Date.now();
    const node = await stream(text);
    expect(node.querySelector('pre')?.textContent).toBe(text);
    expect(tagsIn(node)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(30000);
  }, 60000);

  it('renders output full of colour codes as text', async () => {
    const text = '<b>x</b>\x1b[31mred\x1b[0m\n'.repeat(5000) + 'END';
    const node = await stream(text);
    const shown = node.querySelector('pre')?.textContent ?? '';
    expect(shown).toBe('<b>x</b>red\n'.repeat(5000) + 'END');
    expect(new Set(tagsIn(node))).toEqual(new Set(['span']));
  }, 60000);
});
