import type * as nbformat from '@jupyterlab/nbformat';
import { OutputAreaModel } from '@jupyterlab/outputarea';
import {
  IRenderMimeRegistry,
  RenderMimeRegistry
} from '@jupyterlab/rendermime';
import { Contents } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { IJob, IJobError } from './api';

/**
 * Gives each job the rendermime registry its output is rendered with: the
 * application's (its renderers, sanitizer and link handler), with a URL
 * resolver for the job's notebook and kernel, as a notebook has, so that
 * file paths in a traceback become links to the files.
 */
export class OutputRendering {
  constructor(
    readonly rendermime: IRenderMimeRegistry,
    readonly contents: Contents.IManager | null = null
  ) {}

  /** The registry for the outputs of a job shown under `path`. */
  registryFor(job: IJob, path: string | null): IRenderMimeRegistry {
    if (!this.contents) {
      return this.rendermime;
    }
    const key = `${job.kernel_id}\n${path ?? ''}`;
    let registry = this._clones.get(key);
    if (!registry) {
      registry = this.rendermime.clone({
        resolver: new RenderMimeRegistry.UrlResolver({
          path: path ?? '',
          contents: this.contents,
          getKernelId: () => job.kernel_id
        })
      });
      this._clones.set(key, registry);
    }
    return registry;
  }

  private _clones = new Map<string, IRenderMimeRegistry>();
}

/** What the job printed, as a notebook shows a cell's stdout. */
export function StreamOutput(props: {
  text: string;
  rendermime: IRenderMimeRegistry;
  className?: string;
}): JSX.Element {
  const { text, rendermime } = props;
  const host = useRenderedOutput(
    () => ({ output_type: 'stream', name: 'stdout', text }),
    rendermime,
    [text]
  );
  return <div ref={host} className={props.className} />;
}

/** Why the job failed, as a notebook shows a cell's error. */
export function ErrorOutput(props: {
  error: IJobError;
  rendermime: IRenderMimeRegistry;
  className?: string;
}): JSX.Element {
  const { error, rendermime } = props;
  const host = useRenderedOutput(
    () => ({ output_type: 'error', ...error }),
    rendermime,
    [error]
  );
  return <div ref={host} className={props.className} />;
}

/**
 * Render one output into the returned element the way a notebook does: the
 * output area's model (which applies `\r` and `\b` to a stream, as a
 * terminal would) and the registry's renderer for its MIME type
 * (`application/vnd.jupyter.stdout` or `.stderr`: ANSI colours in the
 * theme's colours, links). A job's output is untrusted: the renderers put
 * it through the sanitizer as text, and the only elements made from it are
 * coloured spans and links, of which `keepSafeLinks` keeps web and file
 * links only.
 */
function useRenderedOutput(
  output: () => nbformat.IOutput,
  rendermime: IRenderMimeRegistry,
  deps: React.DependencyList
): React.RefObject<HTMLDivElement> {
  const host = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    const node = host.current;
    if (!node) {
      return;
    }
    const model = new OutputAreaModel({ values: [output()], trusted: false });
    const item = model.get(0);
    const mimeType = rendermime.preferredMimeType(item.data, 'ensure');
    if (!mimeType) {
      model.dispose();
      return;
    }
    const renderer = rendermime.createRenderer(mimeType);
    Widget.attach(renderer, node);
    renderer
      .renderModel(item)
      .then(() => keepSafeLinks(renderer.node))
      .catch(reason =>
        console.error('jupyter-bgjobs: cannot render an output', reason)
      );
    return () => {
      renderer.dispose();
      model.dispose();
    };
  }, [rendermime, ...deps]);
  return host;
}

/** The link protocols an output may lead to. */
const SAFE_PROTOCOLS = new Set(['http:', 'https:']);

/**
 * Turn every link that leads elsewhere than the web or the server (such as
 * `javascript://` or `data:`, which the linkifier takes for URLs) back into
 * its text. Links without a target (paths not resolved) are left: they go
 * nowhere.
 */
export function keepSafeLinks(node: HTMLElement): void {
  for (const anchor of node.querySelectorAll<HTMLAnchorElement>('a[href]')) {
    if (!SAFE_PROTOCOLS.has(anchor.protocol)) {
      anchor.replaceWith(...anchor.childNodes);
    }
  }
}
