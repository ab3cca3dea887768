import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** The URL prefix of the server extension's REST API. */
export const API_PREFIX = 'jupyter-bgjobs';

/** An error answer of the REST API: the HTTP status and the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * Call the REST API of the server extension.
 *
 * @param endPoint path under `{base_url}jupyter-bgjobs/`, with its query
 * @param init the fetch options (method, body)
 * @param settings the server connection (the default one when omitted)
 * @returns the decoded JSON answer, or null for an empty one (204)
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
    throw new ApiError(response.status, message);
  }
  return data as T;
}
