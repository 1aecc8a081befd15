// SPDX-License-Identifier: MIT
// The session: the CSRF token comes from GET /api/v1/session (so a reloaded
// page keeps saving) and is kept in the page's memory, never in storage.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, getCsrf, setCsrf } from './api/client'
import { liveEvents } from './api/events'
import { autonomousCase, loadSession } from './session'
import { fakeApi } from './test/fakeApi'

afterEach(() => {
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
  setCsrf(null)
  localStorage.clear()
})

describe('session', () => {
  it('takes the CSRF token and the features from GET /api/v1/session, storing nothing', async () => {
    vi.spyOn(liveEvents, 'start').mockImplementation(() => {})
    const { calls } = fakeApi({
      'GET /api/v1/session': {
        body: {
          user: 'rep', role: 'Customer Service Representative', profile: 'Default', rights: ['work'], via: 'session',
          csrf: 'csrf-from-server', features: { autonomous_case: false, autonomous_followup: true },
        },
      },
      'POST /api/v1/cases/CAS-1/notes': { status: 201, body: { id: 1 } },
    })
    const who = await loadSession(true)
    expect(who?.user).toBe('rep')
    expect(getCsrf()).toBe('csrf-from-server')
    expect(autonomousCase()).toBe(false)
    expect(localStorage.length).toBe(0)
    await api.post('/api/v1/cases/CAS-1/notes', { body: 'after a reload' })
    expect(calls[1].headers['x-csrf-token']).toBe('csrf-from-server')
  })
})
