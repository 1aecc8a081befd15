// SPDX-License-Identifier: MIT
// The follow-up agent's admin page against a stand-in server: the rules
// from the settings, a simulation (rule and limit sent, per case the reply
// intent, the action and the e-mail shown as text), a limit outside 1-100
// refused before any call, and the shadow log by rule.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, flushPromises, mount, RouterLinkStub } from '@vue/test-utils'
import FollowupView from './FollowupView.vue'
import { fakeApi } from '../../test/fakeApi'
import { setCsrf } from '../../api/client'

enableAutoUnmount(afterEach)
beforeEach(() => setCsrf('csrf-2'))
afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

const SETTINGS = {
  fields: [],
  followup: {
    rules: [
      { name: 'waiting for customer', level: 'full' },
      { name: 'parts', level: 'shadow', active: false },
    ],
  },
}

const RUN = {
  now: '2026-06-05T10:00:00Z',
  cases: 2,
  counts: { send_followup: 1, hand_to_person: 1 },
  decisions: [
    { case: 'CAS-00001', rule: 'waiting for customer', level: 'full', decision: 'send_followup', step: 2, reason: '48 hours without a reply', intent: null, email: { subject: 'Any news?', body: 'Hello <b>Hugo</b>' } },
    { case: 'CAS-00002', rule: 'waiting for customer', level: 'full', decision: 'hand_to_person', step: 1, reason: 'the customer still has the problem', intent: { intent: 'still_problem', confidence: 0.9 }, email: null },
  ],
}

async function mountView() {
  const w = mount(FollowupView, { attachTo: document.body, global: { stubs: { RouterLink: RouterLinkStub } } })
  await flushPromises()
  return w
}

describe('FollowupView', () => {
  it('lists the rules and simulates, showing per case the intent, the action and the e-mail', async () => {
    const { calls } = fakeApi({
      'GET /api/v1/settings': { body: SETTINGS },
      'GET /api/v1/followup/shadow': { body: { rule: null, decisions: [] } },
      'POST /api/v1/followup/simulate': { body: RUN },
    })
    const w = await mountView()
    expect(w.text()).toContain('waiting for customer · level full')
    expect(w.text()).toContain('parts · level shadow · not active')
    expect(w.text()).toContain('No shadow decisions yet.')
    await w.get('select').setValue('waiting for customer')
    await w.findAll('form')[0].trigger('submit')
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.body).toEqual({ limit: 100, rule: 'waiting for customer' })
    expect(w.text()).toContain('2 cases simulated: send followup 1, hand to person 1.')
    const rows = w.findAll('[aria-label="Simulated decisions"] tbody tr')
    expect(rows).toHaveLength(2)
    expect(rows[0].text()).toContain('send followup (step 2)')
    expect(rows[0].get('summary').text()).toBe('Any news?')
    expect(rows[0].text()).toContain('Hello <b>Hugo</b>') // text, not markup
    expect(w.find('tbody b').exists()).toBe(false)
    expect(rows[1].text()).toContain('Still has the problem (90 %)')
  })

  it('refuses a limit outside 1 to 100 without calling the server', async () => {
    const { calls } = fakeApi({
      'GET /api/v1/settings': { body: SETTINGS },
      'GET /api/v1/followup/shadow': { body: { rule: null, decisions: [] } },
    })
    const w = await mountView()
    await w.get('input[type=number]').setValue(101)
    await w.findAll('form')[0].trigger('submit')
    await flushPromises()
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    expect(w.get('[role=alert]').text()).toMatch(/1 to 100/)
  })

  it('shows the shadow log of one rule', async () => {
    const { calls } = fakeApi({
      'GET /api/v1/settings': { body: SETTINGS },
      'GET /api/v1/followup/shadow': (c) => ({
        body: { rule: null, decisions: c.path ? [{ case: 'CAS-00003', at: '2026-06-04T09:00:00Z', decision: 'resolve', step: 3, reason: 'no reply after the last follow-up', intent: null, email: null }] : [] },
      }),
    })
    const w = await mountView()
    await w.findAll('select')[1].setValue('parts')
    await w.findAll('form')[1].trigger('submit')
    await flushPromises()
    const gets = calls.filter((c) => c.path === '/api/v1/followup/shadow')
    expect(gets.length).toBe(2)
    const rows = w.findAll('[aria-label="Shadow decisions"] tbody tr')
    expect(rows).toHaveLength(1)
    expect(rows[0].text()).toContain('resolve (step 3)')
  })
})
