// SPDX-License-Identifier: MIT
// The suggested-actions card against a stand-in server: it shows the
// summary of the customer's last reply, the proposed step and the draft
// e-mail (editable), with the four buttons by their accessible names; Review
// and send email sends the edited e-mail, Draft reply hands the draft on,
// Resolve case asks for the resolve dialog, Dismiss closes the suggestion,
// and after each the card is gone; no suggestion, no card; a suggestion
// closed meanwhile (409) is read again; customer text stays text. And the
// resolve dialog: the proposed resolution with its evidence, accepted or
// changed, resolving through the suggestion.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import SuggestionCard from './SuggestionCard.vue'
import StatusDialog from './StatusDialog.vue'
import { fakeApi, type Call } from '../test/fakeApi'
import { setCsrf } from '../api/client'
import type { FollowupSuggestion } from '../api/types'

const REF = 'CAS-00042'
const BASE = `/api/v1/cases/${REF}/suggestion`

function makeSuggestion(): FollowupSuggestion {
  return {
    id: 7,
    rule: 'waiting for customer',
    step: 2,
    created_at: '2026-06-03T10:00:00Z',
    proposed: 'send_followup',
    reply_summary: 'Customer says the <b>router</b> still drops <img src=x onerror=alert(1)> the line.',
    intent: { intent: 'still_problem', confidence: 0.82 },
    email: { subject: 'Re: [CAS-00042] Router drops', body: 'Hello Hugo,\n\nDid the new firmware help?\n\n-- written by the agent' },
    resolution: 'Updated the router firmware.',
  }
}

let pending: FollowupSuggestion | null
enableAutoUnmount(afterEach)

function routes(extra: Record<string, (c: Call) => { status?: number; body?: unknown }> = {}) {
  return fakeApi({
    [`GET ${BASE}`]: () => ({ body: { case: REF, suggestion: pending } }),
    ...extra,
  })
}

async function mountCard(): Promise<VueWrapper> {
  const w = mount(SuggestionCard, { attachTo: document.body, props: { caseRef: REF, page: true } })
  await flushPromises()
  return w
}

/** A button as a person finds it: by its accessible name (its text). */
function button(w: VueWrapper, name: string) {
  const b = w.findAll('button').filter((x) => x.text() === name)
  expect(b, `one button named ${name}`).toHaveLength(1)
  return b[0]
}

const labelled = (w: VueWrapper, text: string) => {
  const label = w.findAll('label').find((l) => l.text().startsWith(text))
  expect(label, `a label "${text}"`).toBeTruthy()
  return w.get(`#${label!.attributes('for')}`)
}

beforeEach(() => {
  pending = makeSuggestion()
  setCsrf('csrf-1')
})
afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('SuggestionCard', () => {
  it('shows the reply summary, the proposed step and the draft e-mail, with the four actions', async () => {
    routes()
    const w = await mountCard()
    const region = w.get('section')
    const title = w.get(`#${region.attributes('aria-labelledby')}`)
    expect(title.text()).toBe('Suggested actions')
    expect(w.text()).toContain('waiting for customer')
    expect(w.text()).toContain('still has the problem (confidence 82 %)')
    expect(w.text()).toContain('Send follow-up 2')
    expect((labelled(w, 'E-mail subject').element as HTMLInputElement).value).toBe('Re: [CAS-00042] Router drops')
    expect((labelled(w, 'E-mail to the customer').element as HTMLTextAreaElement).value).toContain('Did the new firmware help?')
    for (const name of ['Review and send email', 'Draft reply', 'Resolve case', 'Dismiss']) button(w, name)
    // Customer text is text: the markup shows as characters, none is in the DOM.
    expect(w.text()).toContain('<b>router</b>')
    expect(w.find('b').exists()).toBe(false)
    expect(w.find('img').exists()).toBe(false)
  })

  it('shows nothing when the case has no pending suggestion', async () => {
    pending = null
    routes()
    const w = await mountCard()
    expect(w.find('section').exists()).toBe(false)
    expect(w.findAll('button')).toHaveLength(0)
  })

  it('Review and send email sends the e-mail as the person edited it, then the card is gone', async () => {
    const { calls } = routes({
      [`POST ${BASE}/7`]: () => {
        pending = null
        return { body: { case: REF, suggestion: 7, action: 'send', outbox: { id: 3, to: 'hugo.m@example.net', status: 'queued' }, draft: null, status: 'active' } }
      },
    })
    const w = await mountCard()
    await labelled(w, 'E-mail to the customer').setValue('Hello Hugo, did the firmware update help? Edited by Ann.')
    await button(w, 'Review and send email').trigger('click')
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.path).toBe(`${BASE}/7`)
    expect(post.body).toEqual({ action: 'send', subject: 'Re: [CAS-00042] Router drops', body: 'Hello Hugo, did the firmware update help? Edited by Ann.' })
    expect(post.headers['x-csrf-token']).toBe('csrf-1')
    expect(w.find('section').exists()).toBe(false)
    expect(w.emitted('acted')?.[0]?.[0]).toMatch(/queued/)
  })

  it('refuses to send an empty e-mail, saying why', async () => {
    const { calls } = routes()
    const w = await mountCard()
    await labelled(w, 'E-mail to the customer').setValue('   ')
    await button(w, 'Review and send email').trigger('click')
    await flushPromises()
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    expect(w.get('[role=alert]').text()).toMatch(/no text/)
  })

  it('Draft reply closes the suggestion and hands its draft to the reply editor', async () => {
    const draft = { subject: 'Re: [CAS-00042] Router drops', body: 'Hello Hugo, sorry it still drops.' }
    const { calls } = routes({
      [`POST ${BASE}/7`]: () => ({ body: { case: REF, suggestion: 7, action: 'draft', outbox: null, draft, status: 'active' } }),
    })
    const w = await mountCard()
    await button(w, 'Draft reply').trigger('click')
    await flushPromises()
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ action: 'draft' })
    expect(w.emitted('draft')?.[0]).toEqual([draft])
    expect(w.find('section').exists()).toBe(false)
  })

  it('Resolve case asks for the resolve dialog, and Dismiss closes the suggestion', async () => {
    const { calls } = routes({
      [`POST ${BASE}/7`]: () => ({ body: { case: REF, suggestion: 7, action: 'dismiss', outbox: null, draft: null, status: 'active' } }),
    })
    const w = await mountCard()
    await button(w, 'Resolve case').trigger('click')
    expect(w.emitted('resolve')?.[0]?.[0]).toMatchObject({ id: 7, resolution: 'Updated the router firmware.' })
    expect(calls.some((c) => c.method === 'POST')).toBe(false) // the dialog resolves, once confirmed
    await button(w, 'Dismiss').trigger('click')
    await flushPromises()
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ action: 'dismiss' })
    expect(w.find('section').exists()).toBe(false)
  })

  it('reads the suggestion again when it was closed meanwhile (409), and says so', async () => {
    routes({
      [`POST ${BASE}/7`]: () => {
        pending = null // the customer wrote meanwhile
        return { status: 409, body: { type: 'urn:caseagent:problem:state-conflict', title: 'Conflict', status: 409, detail: 'suggestion 7 is no longer pending' } }
      },
    })
    const w = await mountCard()
    await button(w, 'Dismiss').trigger('click')
    await flushPromises()
    expect(w.find('section').exists()).toBe(false)
    expect(w.emitted('acted')).toBeUndefined()
  })
})

describe('the resolve dialog', () => {
  const proposal = {
    case: REF,
    resolution: 'I have updated the router firmware to 2.4.',
    confidence: 0.6,
    evidence: [{ source: 'email', id: 12, text: 'I have updated the router firmware to 2.4.' }],
  }

  it('proposes the resolution with its evidence; the person may change it; it resolves through the suggestion', async () => {
    const { calls } = fakeApi({
      [`GET /api/v1/cases/${REF}/resolution-proposal`]: { body: proposal },
      [`POST ${BASE}/7`]: { body: { case: REF, suggestion: 7, action: 'resolve', outbox: null, draft: null, status: 'resolved' } },
    })
    const w = mount(StatusDialog, { attachTo: document.body, props: { kind: 'resolve', caseRef: REF, suggestion: { ...makeSuggestion(), resolution: null } } })
    await flushPromises()
    const text = w.get('textarea')
    expect((text.element as HTMLTextAreaElement).value).toBe('I have updated the router firmware to 2.4.')
    expect(w.text()).toContain('Proposed resolution')
    expect(w.text()).toContain('confidence 60 %')
    expect(w.text()).toContain('From the e-mail 12: “I have updated the router firmware to 2.4.”')
    await text.setValue('Updated the firmware; the line holds.')
    const use = w.findAll('button').find((b) => b.text() === 'Use the proposed resolution')!
    await use.trigger('click')
    expect((text.element as HTMLTextAreaElement).value).toBe(proposal.resolution)
    await text.setValue('Updated the firmware; the line holds.')
    await w.get('form').trigger('submit')
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.path).toBe(`${BASE}/7`)
    expect(post.body).toEqual({ action: 'resolve', resolution: 'Updated the firmware; the line holds.' })
    expect(w.emitted('done')?.[0]?.[0]).toBe(`Case ${REF} is now resolved.`)
  })

  it("starts from the follow-up suggestion's resolution, the thread's proposal one click away", async () => {
    fakeApi({ [`GET /api/v1/cases/${REF}/resolution-proposal`]: { body: proposal } })
    const w = mount(StatusDialog, { attachTo: document.body, props: { kind: 'resolve', caseRef: REF, suggestion: makeSuggestion() } })
    await flushPromises()
    const text = w.get('textarea')
    expect((text.element as HTMLTextAreaElement).value).toBe('Updated the router firmware.')
    expect(w.text()).toContain("the follow-up agent's resolution is filled in above")
    await w.findAll('button').find((b) => b.text() === 'Use the proposed resolution')!.trigger('click')
    expect((text.element as HTMLTextAreaElement).value).toBe(proposal.resolution)
  })

  it('without a suggestion resolves the case itself, the proposal prefilled', async () => {
    const { calls } = fakeApi({
      [`GET /api/v1/cases/${REF}/resolution-proposal`]: { body: proposal },
      [`POST /api/v1/cases/${REF}/resolve`]: { body: { case: REF, old_status: 'active', status: 'resolved', reason: 'problem solved', version: 5 } },
    })
    const w = mount(StatusDialog, { attachTo: document.body, props: { kind: 'resolve', caseRef: REF } })
    await flushPromises()
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ resolution: proposal.resolution })
  })
})
