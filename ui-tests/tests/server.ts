import { IJupyterLabPageFixture } from '@jupyterlab/galata';

/** The id of the event schema of job changes (src/events.ts). */
export const JOBS_EVENT_SCHEMA = 'https://events.jupyter-bgjobs.org/jobs/v1';

/** A job as the REST API answers `GET jupyter-bgjobs/jobs/{uid}`. */
export async function fetchJob(
  page: IJupyterLabPageFixture,
  uid: string
): Promise<{ created: string; ended: string | null; status: string }> {
  return page.evaluate(async uid => {
    const { baseUrl } = window.jupyterapp.serviceManager.serverSettings;
    const response = await fetch(`${baseUrl}jupyter-bgjobs/jobs/${uid}`);
    return response.json();
  }, uid);
}

/**
 * Whether the server emits job changes on its event bus: it accepts an
 * (empty) emission of the schema only once the schema is registered.
 */
export async function serverEmitsJobEvents(
  page: IJupyterLabPageFixture
): Promise<boolean> {
  return page.evaluate(async schemaId => {
    const { baseUrl } = window.jupyterapp.serviceManager.serverSettings;
    const response = await fetch(`${baseUrl}api/events`, {
      method: 'POST',
      body: JSON.stringify({
        schema_id: schemaId,
        version: '1',
        data: { changed: [], removed: [] }
      })
    });
    if (response.ok) {
      return true;
    }
    // An unknown schema: "... was not found in the schema registry ...";
    // any other refusal (another version, stricter data) means it is known.
    const text = await response.text();
    return !/not found in the schema registry/.test(text);
  }, JOBS_EVENT_SCHEMA);
}

/** Push a batch of job changes into JupyterLab's event stream, as the bus would. */
export async function injectJobsEvent(
  page: IJupyterLabPageFixture,
  changed: Record<string, unknown>[],
  removed: string[] = []
): Promise<void> {
  await page.evaluate(
    ({ schemaId, changed, removed }) => {
      const stream = window.jupyterapp.serviceManager.events.stream as any;
      stream.emit({ schema_id: schemaId, changed, removed });
    },
    { schemaId: JOBS_EVENT_SCHEMA, changed, removed }
  );
}

/** The kernel id of the session of a notebook. */
export async function kernelIdOf(
  page: IJupyterLabPageFixture,
  path: string
): Promise<string> {
  return page.evaluate(async path => {
    const sessions = window.jupyterapp.serviceManager.sessions;
    await sessions.refreshRunning();
    for (const session of sessions.running()) {
      if (session.path === path && session.kernel) {
        return session.kernel.id;
      }
    }
    throw new Error(`no kernel for ${path}`);
  }, path);
}
