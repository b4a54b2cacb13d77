// The admin API as the console uses it: same origin, the session cookie, the CSRF header on
// state-changing calls, and errors exactly as the API words them ({"error":{"code","message"}}).

let csrfToken = null;

/** An admin API error: status, code and message as the server sent them. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function setCsrfToken(token) {
  csrfToken = token;
}

/** Calls METHOD path with an optional JSON body; resolves to the JSON answer, rejects with ApiError. */
export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError(0, 'unreachable', `the Forkline server did not answer (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = data && data.error;
    throw new ApiError(res.status, err ? err.code : `http_${res.status}`, err ? err.message : text || res.statusText);
  }
  return data;
}

/** /v1/tenants/NAME with the name percent-encoded. */
export const tenantPath = (t) => `/v1/tenants/${encodeURIComponent(t)}`;
/** /v1/tenants/NAME/branches/REF with both percent-encoded (a ref may contain '/'). */
export const branchPath = (t, ref) => `${tenantPath(t)}/branches/${encodeURIComponent(ref)}`;
