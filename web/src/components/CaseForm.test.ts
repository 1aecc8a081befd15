// SPDX-License-Identifier: MIT
// The case form against a stand-in server: the AI banner and highlight
// after Update from conversation, the "no changes" message, suggestions
// accepted (a person's edit with If-Match) or ignored, a 412 shown as a
// conflict that keeps the person's changes, and a validation error shown at
// the field it names. Customer text stays text.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, flushPromises, mount } from '@vue/test-utils'
import CaseForm from './CaseForm.vue'
import { fakeApi, SETTINGS, type Call } from '../test/fakeApi'
import { resetFields } from '../fields'
import { setCsrf } from '../api/client'
import type { Case } from '../api/types'

const REF = 'CAS-00007'
const BASE = `/api/v1/cases/${REF}`

function makeCase(): Case {
  return {
    id: 7,
    ticket_number: REF,
    version: 3,
    conversation_id: 'c-7',
    origin: 'chat',
    fields: {
      ticket_number: REF,
      status: 'active',
      customer: 'C-pvantassel',
      description: 'Left earbud <b>will not</b> charge',
      product: null,
      serial_number: null,
      priority: 'normal',
    },
    provenance: {
      customer: { source: 'agent', actor: 'caseagent', confidence: 0.99, method: 'email-match', evidence: [{ message: 'm5', begin: 17, end: 44 }] },
      description: { source: 'agent', actor: 'caseagent', confidence: 0.89, method: 'problem-sentences', evidence: [{ message: 'm1', begin: 0, end: 8 }] },
      priority: { source: 'person', actor: 'rep' },
    },
    notes: [],
    suggestions: [],
  }
}

let kase: Case
enableAutoUnmount(afterEach)

function routes(extra: Record<string, (c: Call) => { status?: number; body?: unknown; headers?: Record<string, string> }> = {}) {
  return fakeApi({
    'GET /api/v1/settings': { body: SETTINGS },
    [`GET ${BASE}`]: () => ({ body: kase, headers: { ETag: `"${kase.version}"` } }),
    ...extra,
  })
}

async function mountForm() {
  const w = mount(CaseForm, {
    attachTo: document.body, // a connected form submits on its submit button
    props: {
      caseRef: REF,
      messages: [
        { id: 'm1', role: 'customer', text: 'Left ear <img src=x onerror=alert(1)>' },
        { id: 'm5', role: 'customer', text: 'Priya Vantassel, priya.vantassel@example.com' },
      ],
    },
  })
  await flushPromises()
  return w
}

beforeEach(() => {
  kase = makeCase()
  resetFields()
  setCsrf('csrf-token-1')
})
afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('CaseForm', () => {
  it('shows every field with its value and who set it, in words', async () => {
    routes()
    const w = await mountForm()
    const row = (f: string) => w.get(`[data-field="${f}"]`)
    expect(row('customer').text()).toContain('Set by AI')
    expect(row('customer').text()).toContain('confidence 99 %')
    expect(row('priority').text()).toContain('Set by a person (rep)')
    expect(row('priority').text()).toContain('the agent leaves it')
    expect(row('product').text()).toContain('Not set')
    expect((row('priority').get('select').element as HTMLSelectElement).value).toBe('normal')
    // The label names the control.
    const label = row('description').get('label')
    expect(row('description').get('textarea').attributes('id')).toBe(label.attributes('for'))
    // Customer text is text: the markup is in the value, not in the DOM.
    expect((row('description').get('textarea').element as HTMLTextAreaElement).value).toBe('Left earbud <b>will not</b> charge')
    expect(w.find('b').exists()).toBe(false)
  })

  it("shows a lookup value's display name with its id, as text", async () => {
    kase.display = { customer: 'Priya <i>Vantassel</i>' }
    routes()
    const w = await mountForm()
    const row = w.get('[data-field="customer"]')
    expect(row.get('[data-testid="lookup-name"]').text()).toBe('Priya <i>Vantassel</i> (C-pvantassel)')
    expect(row.find('i').exists()).toBe(false)
    // The input still holds the id a person edits; the name describes it.
    const input = row.get('input')
    expect((input.element as HTMLInputElement).value).toBe('C-pvantassel')
    expect(input.attributes('aria-describedby')).toContain(row.get('[data-testid="lookup-name"]').attributes('id'))
    // A field without a display name has no such line.
    expect(w.get('[data-field="description"]').find('[data-testid="lookup-name"]').exists()).toBe(false)
  })

  it('shows the evidence on demand, quoting the message as text', async () => {
    routes()
    const w = await mountForm()
    const row = w.get('[data-field="customer"]')
    expect(row.find('.evidence').exists()).toBe(false)
    const btn = row.get('button.link')
    expect(btn.text()).toBe('Show evidence')
    expect(btn.attributes('aria-expanded')).toBe('false')
    await btn.trigger('click')
    expect(row.get('.evidence q').text()).toBe('priya.vantassel@example.com')
    expect(btn.attributes('aria-expanded')).toBe('true')
    await w.get('[data-field="description"] button.link').trigger('click')
    expect(w.get('[data-field="description"] .evidence q').text()).toBe('Left ear')
    expect(w.find('img').exists()).toBe(false)
  })

  it('after Update from conversation, highlights the changed fields and says how many were updated using AI', async () => {
    const { calls } = routes({
      [`POST ${BASE}/update-from-conversation`]: () => {
        kase.version = 4
        kase.fields.product = 'P-lumora-x2-earbuds'
        kase.fields.serial_number = 'SN-12345678'
        kase.provenance!.product = { source: 'agent', confidence: 0.93 }
        kase.provenance!.serial_number = { source: 'agent', confidence: 0.9 }
        return {
          body: {
            case: REF,
            changed: [
              { field: 'product', old: null, new: 'P-lumora-x2-earbuds', display: 'Lumora X2 Wireless Earbuds', confidence: 0.93 },
              { field: 'serial_number', old: null, new: 'SN-12345678', confidence: 0.9 },
            ],
            no_changes: false,
            missing: [],
            suggestions: [],
          },
        }
      },
    })
    const w = await mountForm()
    const button = w.findAll('button').find((b) => b.text() === 'Update from conversation')!
    await button.trigger('click')
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.headers['x-csrf-token']).toBe('csrf-token-1')
    expect(w.get('[data-testid="ai-banner"]').text()).toBe('2 fields were updated using AI: Product, Serial number.')
    for (const f of ['product', 'serial_number']) {
      const row = w.get(`[data-field="${f}"]`)
      expect(row.classes()).toContain('ai-updated')
      expect(row.text()).toContain('Updated using AI') // not by colour alone
    }
    expect(w.get('[data-field="priority"]').classes()).not.toContain('ai-updated')
    expect(w.get('[data-field="product"]').text()).toContain('Lumora X2 Wireless Earbuds')
    expect(w.find('[data-testid="no-changes"]').exists()).toBe(false)
    expect(w.emitted('changed')).toHaveLength(1)
  })

  it('says "no changes" when the agent found nothing new, and which person-set fields it left', async () => {
    routes({
      [`POST ${BASE}/update-from-conversation`]: () => ({
        body: { case: REF, changed: [], no_changes: true, missing: [], suggestions: [] },
      }),
    })
    const w = await mountForm()
    await w.findAll('button').find((b) => b.text() === 'Update from conversation')!.trigger('click')
    await flushPromises()
    const msg = w.get('[data-testid="no-changes"]').text()
    expect(msg).toContain('No changes')
    expect(msg).toContain('The agent left the fields a person set: Priority.')
    expect(w.find('[data-testid="ai-banner"]').exists()).toBe(false)
    expect(w.findAll('.ai-updated')).toHaveLength(0)
  })

  it('offers suggestions below the threshold: accepting one saves it with If-Match, ignoring hides it', async () => {
    kase.suggestions = [
      { field: 'product', value: 'P-lumora-x2-earbuds', display: 'Lumora X2 Wireless Earbuds', confidence: 0.31, threshold: 0.5 },
      { field: 'serial_number', value: 'SN-1', confidence: 0.2, threshold: 0.5 },
    ]
    const { calls } = routes({
      [`PATCH ${BASE}`]: (c) => {
        const fields = (c.body as { fields: Record<string, string> }).fields
        Object.assign(kase.fields, fields)
        for (const k of Object.keys(fields)) kase.provenance![k] = { source: 'person', actor: 'rep' }
        kase.version += 1
        return { body: { case: REF, changed: Object.entries(fields).map(([field, v]) => ({ field, old: null, new: v })), version: kase.version } }
      },
    })
    const w = await mountForm()
    const items = () => w.findAll('[data-testid="suggestion"]')
    expect(items()).toHaveLength(2)
    expect(items()[0].text()).toContain('Product: Lumora X2 Wireless Earbuds (P-lumora-x2-earbuds)')
    expect(items()[0].text()).toContain('confidence 31 %, below the 50 % threshold')

    await items()[1].findAll('button').find((b) => b.text() === 'Ignore')!.trigger('click')
    expect(items()).toHaveLength(1)
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false)

    await items()[0].findAll('button').find((b) => b.text() === 'Accept')!.trigger('click')
    await flushPromises()
    const patch = calls.find((c) => c.method === 'PATCH')!
    expect(patch.body).toEqual({ fields: { product: 'P-lumora-x2-earbuds' } })
    expect(patch.headers['if-match']).toBe('"3"')
    expect(patch.headers['x-csrf-token']).toBe('csrf-token-1')
    expect(items()).toHaveLength(0)
    expect(w.get('[data-field="product"]').text()).toContain('Set by a person (rep)')
  })

  it('saves a person\'s edit with If-Match, and shows a 412 as a conflict that keeps the edit', async () => {
    let stale = false
    const { calls } = routes({
      [`PATCH ${BASE}`]: (c) => {
        if (stale || c.headers['if-match'] !== `"${kase.version}"`)
          return {
            status: 412,
            body: {
              type: 'urn:caseagent:problem:version-conflict',
              title: 'Precondition Failed',
              status: 412,
              detail: `case ${REF} is at version ${kase.version}, not 3: someone changed it; reload and edit again`,
              field: 'version',
            },
          }
        Object.assign(kase.fields, (c.body as { fields: Record<string, string> }).fields)
        kase.version += 1
        return { body: { case: REF, changed: [{ field: 'priority', old: 'normal', new: 'urgent' }], version: kase.version } }
      },
    })
    const w = await mountForm()
    const save = () => w.findAll('button').find((b) => b.text() === 'Save')!
    expect(save().attributes('disabled')).toBeDefined() // nothing to save yet

    // Someone else saves first.
    kase.version = 4
    kase.fields.description = 'Changed by ada'
    stale = false
    await w.get('[data-field="priority"] select').setValue('urgent')
    expect(w.get('[data-field="priority"]').text()).toContain('edited, not saved')
    await save().trigger('click')
    await flushPromises()
    expect(calls.filter((c) => c.method === 'PATCH')[0].headers['if-match']).toBe('"3"')
    const conflict = w.get('[data-testid="conflict"]')
    expect(conflict.attributes('role')).toBe('alert')
    expect(conflict.text()).toContain('Conflict: someone else saved this case first.')
    expect(conflict.text()).toContain('is at version 4, not 3')
    expect((w.get('[data-field="priority"] select').element as HTMLSelectElement).value).toBe('urgent')

    // Load theirs, keep mine, save again: now with the new version.
    await conflict.findAll('button').find((b) => b.text() === 'Load their version and keep my changes')!.trigger('click')
    await flushPromises()
    expect(w.find('[data-testid="conflict"]').exists()).toBe(false)
    expect((w.get('[data-field="description"] textarea').element as HTMLTextAreaElement).value).toBe('Changed by ada')
    expect((w.get('[data-field="priority"] select').element as HTMLSelectElement).value).toBe('urgent')
    await save().trigger('click')
    await flushPromises()
    const patches = calls.filter((c) => c.method === 'PATCH')
    expect(patches).toHaveLength(2)
    expect(patches[1].headers['if-match']).toBe('"4"')
    expect(patches[1].body).toEqual({ fields: { priority: 'urgent' } })
    expect(w.text()).toContain('Saved: Priority.')
  })

  it('shows a validation error at the field the API names', async () => {
    routes({
      [`PATCH ${BASE}`]: () => ({
        status: 422,
        body: {
          type: 'urn:caseagent:problem:invalid',
          title: 'Unprocessable Content',
          status: 422,
          detail: "serial_number: 'x' does not match the field's pattern",
          field: 'fields.serial_number',
        },
      }),
    })
    const w = await mountForm()
    await w.get('[data-field="serial_number"] input').setValue('x')
    await w.get('form.fields').trigger('submit')
    await flushPromises()
    const row = w.get('[data-field="serial_number"]')
    expect(row.get('.error').text()).toContain("does not match the field's pattern")
    expect(row.get('input').attributes('aria-invalid')).toBe('true')
    expect(row.get('input').attributes('aria-describedby')).toContain(row.get('.error').attributes('id'))
    expect(w.find('[data-testid="conflict"]').exists()).toBe(false)
  })
})
