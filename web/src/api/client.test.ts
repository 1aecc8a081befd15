// SPDX-License-Identifier: MIT
// The API client: the CSRF header on unsafe methods only, If-Match, the
// ETag, problem+json errors with their field, and 401 telling the session.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, onUnauthorised, queryString, setCsrf } from './client'
import { fakeApi } from '../test/fakeApi'

afterEach(() => {
  vi.unstubAllGlobals()
  setCsrf(null)
})

describe('api client', () => {
  it('sends the CSRF token on unsafe methods only, and If-Match when asked', async () => {
    setCsrf('tok-1')
    const { calls } = fakeApi({
      'GET /api/v1/cases/CAS-1': { body: { id: 1 }, headers: { ETag: '"5"' } },
      'PATCH /api/v1/cases/CAS-1': { body: { version: 6 } },
    })
    const r = await api.get('/api/v1/cases/CAS-1')
    expect(r.etag).toBe('"5"')
    await api.patch('/api/v1/cases/CAS-1', { fields: { priority: 'high' } }, { ifMatch: r.etag })
    expect(calls[0].headers['x-csrf-token']).toBeUndefined()
    expect(calls[1].headers['x-csrf-token']).toBe('tok-1')
    expect(calls[1].headers['if-match']).toBe('"5"')
    expect(calls[1].headers['content-type']).toBe('application/json')
    expect(calls[1].body).toEqual({ fields: { priority: 'high' } })
  })

  it('throws problem+json errors with the field at fault', async () => {
    fakeApi({
      'POST /api/v1/cases': {
        status: 422,
        body: { type: 'urn:caseagent:problem:invalid', title: 'Unprocessable Content', status: 422, detail: "'nosuch' is not a field", field: 'fields.nosuch' },
      },
    })
    const e = await api.post('/api/v1/cases', { fields: { nosuch: 'x' } }).catch((x) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect(e.status).toBe(422)
    expect(e.field).toBe('fields.nosuch')
    expect(e.message).toBe("'nosuch' is not a field")
    expect(e.isConflict).toBe(false)
  })

  it('tells the session when a call answers 401, but not for the login itself', async () => {
    fakeApi({
      'GET /api/v1/cases': { status: 401, body: { type: 'urn:caseagent:problem:auth', title: 'Unauthorized', status: 401 } },
      'POST /api/v1/session': { status: 401, body: { type: 'urn:caseagent:problem:auth', title: 'Unauthorized', status: 401 } },
    })
    const seen = vi.fn()
    const off = onUnauthorised(seen)
    await expect(api.post('/api/v1/session', { user: 'a', password: 'b' })).rejects.toBeInstanceOf(ApiError)
    expect(seen).not.toHaveBeenCalled()
    await expect(api.get('/api/v1/cases')).rejects.toBeInstanceOf(ApiError)
    expect(seen).toHaveBeenCalledTimes(1)
    off()
  })

  it('builds query strings without empty filters', () => {
    expect(queryString({ q: 'earbuds charge', status: '', owner: undefined, limit: 50, cursor: null })).toBe('?q=earbuds+charge&limit=50')
    expect(queryString({})).toBe('')
  })
})
