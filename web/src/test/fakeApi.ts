// SPDX-License-Identifier: MIT
// A stand-in for the server in component tests: fetch answers from a table
// of (method, path) → handler, and every call is recorded with its headers
// and body so a test can check what the UI sent (If-Match, X-CSRF-Token).
import { vi } from 'vitest'

export interface Call {
  method: string
  path: string
  headers: Record<string, string>
  body: unknown
}

export interface Answer {
  status?: number
  body?: unknown
  headers?: Record<string, string>
}

export type Handler = (call: Call) => Answer

export function fakeApi(routes: Record<string, Handler | Answer>) {
  const calls: Call[] = []
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://ui.test')
    const method = (init?.method || 'GET').toUpperCase()
    const headers = Object.fromEntries(Object.entries((init?.headers as Record<string, string>) || {}).map(([k, v]) => [k.toLowerCase(), v]))
    const call: Call = { method, path: url.pathname, headers, body: init?.body ? JSON.parse(String(init.body)) : undefined }
    calls.push(call)
    const route = routes[`${method} ${url.pathname}`]
    const ans: Answer = !route
      ? { status: 404, body: { type: 'urn:caseagent:problem:not-found', title: 'Not Found', status: 404, detail: `no route ${method} ${url.pathname}` } }
      : typeof route === 'function'
        ? route(call)
        : route
    const status = ans.status ?? 200
    const problem = status >= 400
    return new Response(ans.body === undefined ? null : JSON.stringify(ans.body), {
      status,
      headers: { 'Content-Type': problem ? 'application/problem+json' : 'application/json', ...(ans.headers || {}) },
    })
  })
  vi.stubGlobal('fetch', fetchMock)
  return { calls, fetchMock }
}

/** The example settings' fields, as GET /api/v1/settings gives them. */
export const SETTINGS = {
  fields: [
    { name: 'customer', label: 'Customer', type: 'lookup', threshold: 0.6, lookup: 'contact' },
    { name: 'description', label: 'Issue description', type: 'text', threshold: 0.3 },
    { name: 'product', label: 'Product', type: 'lookup', threshold: 0.5, lookup: 'product' },
    { name: 'serial_number', label: 'Serial number', type: 'pattern', threshold: 0.5 },
    {
      name: 'priority',
      label: 'Priority',
      type: 'option',
      threshold: 0.5,
      options: [
        { value: 'low', label: 'Low' },
        { value: 'normal', label: 'Normal' },
        { value: 'high', label: 'High' },
        { value: 'urgent', label: 'Urgent' },
      ],
    },
  ],
}
