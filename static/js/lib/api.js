// Talk to Loupe's JSON API with the session cookie and the page's CSRF token.

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json", "X-CSRF-Token": csrfToken() };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiError(response.status, data.error || `Request failed (${response.status})`, data.field);
  }
  return data;
}

// Send a raw body (an SDP offer for WHIP or WHEP) and resolve with the Response when it is ok;
// the caller reads the body and headers it needs. Errors are ApiErrors, as with api().
export async function apiRaw(method, path, { body, type } = {}) {
  const headers = { "X-CSRF-Token": csrfToken() };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = type;
    init.body = body;
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    throw new ApiError(response.status, data.error || `Request failed (${response.status})`, data.field);
  }
  return response;
}

export function announce(text) {
  const region = document.getElementById("live-status");
  if (region) region.textContent = text;
}
