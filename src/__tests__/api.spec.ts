import { ServerConnection } from '@jupyterlab/services';

import { BgJobsClient } from '../api';

/** A request as the client sent it. */
interface ISent {
  method: string;
  url: string;
}

/**
 * A client whose server is a function of the request: the fetch of its
 * ServerConnection settings, so the URL building, the JSON decoding and the
 * error handling are the client's own.
 */
function clientAnswering(answer: (sent: ISent) => Response): {
  client: BgJobsClient;
  sent: ISent[];
} {
  const sent: ISent[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/user/ann/',
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = input instanceof Request ? input : null;
      const seen = {
        method: (request?.method ?? init?.method ?? 'GET').toUpperCase(),
        url: withoutCacheBuster(request?.url ?? String(input))
      };
      sent.push(seen);
      return answer(seen);
    }
  });
  return { client: new BgJobsClient(settings), sent };
}

/**
 * A URL without the cache-busting timestamp that ServerConnection adds
 * (a bare number as the last parameter).
 */
function withoutCacheBuster(url: string): string {
  return url.replace(/&\d{10,}$/, '');
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

describe('BgJobsClient: history of a notebook or kernel', () => {
  it('sends DELETE jobs with the kernel and path, and returns the count removed', async () => {
    const { client, sent } = clientAnswering(() => json({ removed: 3 }));
    await expect(
      client.clearHistory({ kernel_id: 'k-1', path: 'work/a b&c.ipynb' })
    ).resolves.toBe(3);
    expect(sent).toEqual([
      {
        method: 'DELETE',
        url: 'http://localhost:8888/user/ann/jupyter-bgjobs/jobs?kernel_id=k-1&path=work%2Fa+b%26c.ipynb'
      }
    ]);
  });

  it('sends only what the scope names', async () => {
    const { client, sent } = clientAnswering(() => json({ removed: 0 }));
    await expect(client.clearHistory({ path: 'x.ipynb' })).resolves.toBe(0);
    await client.clearHistory({ kernel_id: 'k-2' });
    expect(
      sent.map(request => request.url.split('jupyter-bgjobs/')[1])
    ).toEqual(['jobs?path=x.ipynb', 'jobs?kernel_id=k-2']);
  });

  it("rejects with the server's message when it refuses", async () => {
    const { client } = clientAnswering(() =>
      json({ message: 'give kernel_id or path (or both)' }, 400)
    );
    const failure = client.clearHistory({ path: 'x.ipynb' });
    await expect(failure).rejects.toBeInstanceOf(
      ServerConnection.ResponseError
    );
    await expect(failure).rejects.toThrow('give kernel_id or path (or both)');
  });

  it('never asks the server to clear a scope that names nothing', async () => {
    const { client, sent } = clientAnswering(() => json({ removed: 99 }));
    await expect(client.clearHistory({})).rejects.toThrow(
      'a history scope needs a kernel_id or a path'
    );
    await expect(client.clearHistory({ path: '' })).rejects.toThrow(
      'a history scope needs a kernel_id or a path'
    );
    expect(sent).toEqual([]);
  });

  it('counts the ended jobs from the counts of one page', async () => {
    const { client, sent } = clientAnswering(() =>
      json({
        jobs: [],
        next_cursor: null,
        counts: { running: 4, finished: 12, dead: 3 }
      })
    );
    await expect(client.countHistory({ path: 'x.ipynb' })).resolves.toBe(15);
    expect(sent).toEqual([
      {
        method: 'GET',
        url: 'http://localhost:8888/user/ann/jupyter-bgjobs/jobs?path=x.ipynb&limit=1'
      }
    ]);
  });
});
