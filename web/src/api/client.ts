// SPDX-License-Identifier: MIT
// The one door to `caseagent serve`'s REST API (docs/api.md). Every call is
// same-origin with the session cookie; unsafe methods carry the CSRF token
// the login returned as X-CSRF-Token. Errors come back as RFC 9457
// problem+json and are thrown as ApiError with the key at fault (`field`),
// so a form can show the message at that field.

export interface Problem {
  type: string
  title: string
  status: number
  detail?: string
  /** The key at fault, e.g. "fields.priority" or "version". */
  field?: string
}

export class ApiError extends Error {
  readonly status: number
  readonly problem: Problem

  constructor(problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`)
    this.name = 'ApiError'
    this.status = problem.status
    this.problem = problem
  }

  /** The key at fault, if the server named one. */
  get field(): string | undefined {
    return this.problem.field
  }

  /** A stale If-Match: someone else saved first. */
  get isConflict(): boolean {
    return this.status === 412
  }
}

export interface ApiResponse<T> {
  status: number
  data: T
  /** The ETag header (a case's version), quotes included, if any. */
  etag: string | null
}

export interface RequestOptions {
  body?: unknown
  query?: Record<string, string | number | undefined | null>
  /** An ETag to send as If-Match (refused with 412 when stale). */
  ifMatch?: string | null
  signal?: AbortSignal
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/* The CSRF token lives in this page's memory only: a reloaded page or a
 * case opened in a new tab reads it again from GET /api/v1/session, which
 * answers it to the HttpOnly cookie's holder; nothing keeps it in storage
 * where any script of the origin could read it after sign-out. */
let memoryCsrf: string | null = null

export function setCsrf(token: string | null): void {
  memoryCsrf = token
}

export function getCsrf(): string | null {
  return memoryCsrf
}

type UnauthorisedListener = () => void
const unauthorised = new Set<UnauthorisedListener>()

/** Called when any call answers 401 (the session ended or expired). */
export function onUnauthorised(fn: UnauthorisedListener): () => void {
  unauthorised.add(fn)
  return () => unauthorised.delete(fn)
}

export function queryString(query?: RequestOptions['query']): string {
  if (!query) return ''
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v))
  const s = p.toString()
  return s ? `?${s}` : ''
}

async function problemOf(res: Response): Promise<Problem> {
  const type = res.headers.get('Content-Type') || ''
  let text = ''
  try {
    text = await res.text()
  } catch {
    /* the body was cut: the status still says what happened */
  }
  if (type.includes('json') && text) {
    try {
      const p = JSON.parse(text) as Partial<Problem>
      return {
        type: typeof p.type === 'string' ? p.type : 'about:blank',
        title: typeof p.title === 'string' ? p.title : res.statusText,
        status: typeof p.status === 'number' ? p.status : res.status,
        detail: typeof p.detail === 'string' ? p.detail : undefined,
        field: typeof p.field === 'string' ? p.field : undefined,
      }
    } catch {
      /* not JSON after all */
    }
  }
  return { type: 'about:blank', title: res.statusText || 'Error', status: res.status, detail: text.slice(0, 300) || undefined }
}

/** One call of the API. Path is absolute ("/api/v1/cases"). */
export async function request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' }
  let body: string | undefined
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  } else if (UNSAFE.has(method)) {
    headers['Content-Type'] = 'application/json'
    body = '{}'
  }
  if (UNSAFE.has(method)) {
    const csrf = getCsrf()
    if (csrf) headers['X-CSRF-Token'] = csrf
  }
  if (opts.ifMatch) headers['If-Match'] = opts.ifMatch
  let res: Response
  try {
    res = await fetch(path + queryString(opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    })
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError({ type: 'urn:caseagent:ui:network', title: 'The server cannot be reached', status: 0, detail: String(e) })
  }
  if (!res.ok) {
    const problem = await problemOf(res)
    if (res.status === 401 && path !== '/api/v1/session') unauthorised.forEach((fn) => fn())
    throw new ApiError(problem)
  }
  let data: unknown = null
  if (res.status !== 204) {
    const text = await res.text()
    data = text ? JSON.parse(text) : null
  }
  return { status: res.status, data: data as T, etag: res.headers.get('ETag') }
}

export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body }),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, body }),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, { ...opts, body }),
  del: <T>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
}

/** A path segment (case ref, conversation id) made safe for a URL. */
export const seg = (s: string): string => encodeURIComponent(s)

/** The message a person reads for an error of any kind. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.problem.detail || e.problem.title
  if (e instanceof Error) return e.message
  return String(e)
}
