import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** The URL prefix of the server extension's REST API. */
export const API_PREFIX = 'jupyter-bgjobs';

/** Whether an error is the REST API's answer with this HTTP status. */
export function isErrorStatus(error: unknown, status: number): boolean {
  return (
    error instanceof ServerConnection.ResponseError &&
    error.response.status === status
  );
}

/** An error in words: the server's status and message, or the error's message. */
export function describeError(error: unknown): string {
  if (error instanceof ServerConnection.ResponseError) {
    return `${error.response.status}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Call the REST API of the server extension.
 *
 * @param endPoint path under `{base_url}jupyter-bgjobs/`, with its query
 * @param init the fetch options (method, body)
 * @param settings the server connection (the default one when omitted)
 * @returns the decoded JSON answer, or null for an empty one (204)
 * @throws ServerConnection.ResponseError with the server's message for an
 * error answer, ServerConnection.NetworkError when there is none
 */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_PREFIX, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!response.ok) {
    const message =
      data && typeof data.message === 'string'
        ? data.message
        : response.statusText;
    throw new ServerConnection.ResponseError(response, message);
  }
  return data as T;
}
