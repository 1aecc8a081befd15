// SPDX-License-Identifier: MIT
// The settings pages of the admin centre against a stand-in server: each
// sends the whole document in the API's own shape (the page's working
// forms, such as an ARC rule's field rows or the knowledge agent's case
// attributes, turned back into the settings JSON) and shows the API's
// validation error at the control of the key it names.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import FieldsView from './FieldsView.vue'
import ArcRulesView from './ArcRulesView.vue'
import KnowledgeAgentView from './KnowledgeAgentView.vue'
import { fakeApi, SETTINGS, type Call } from '../../test/fakeApi'
import { setCsrf } from '../../api/client'
import { idOf } from './conditions'

enableAutoUnmount(afterEach)
beforeEach(() => setCsrf('csrf-admin'))
afterEach(() => vi.unstubAllGlobals())

type Doc = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

function stored(): Doc {
  return {
    version: 1,
    ...JSON.parse(JSON.stringify(SETTINGS)),
    default_fields: ['customer'],
    email: { case_token: '[{ticket}]', auto_response: { from: 'support@shop.example', subject: '{token} We received: {subject}' } },
    arc_rules: [
      {
        name: 'known senders',
        condition: { match: 'all', conditions: [{ field: 'sender_known', operator: 'equals', value: true }] },
        fields: { title: '{subject}', description: '{body}' },
        resolved_window_hours: 24,
        auto_response: true,
      },
    ],
    knowledge: { realtime_cases: true, case_attributes: { description: { field: 'description' }, subject: false } },
  }
}

/** A server that answers PUT with `problem` (a 400 naming `field`) first, then takes it. */
function server(doc: Doc, field: string, detail: string) {
  const puts: Call[] = []
  fakeApi({
    'GET /api/v1/settings': { body: doc },
    'PUT /api/v1/settings': (c) => {
      puts.push(c)
      if (puts.length > 1) return { body: c.body }
      return { status: 400, body: { type: 'urn:caseagent:problem:invalid', title: 'Bad Request', status: 400, detail, field } }
    },
  })
  return puts
}

async function saveIn(w: VueWrapper) {
  await w.find('form').trigger('submit')
  await flushPromises()
}

/** The error is at the control of `path` and nowhere else. */
function expectErrorAt(w: VueWrapper, path: string, words: string) {
  const control = w.get(`#${idOf(path)}`)
  expect(control.attributes('aria-invalid')).toBe('true')
  const ids = (control.attributes('aria-describedby') ?? '').split(' ')
  expect(ids).toContain(`${idOf(path)}-err`)
  expect(w.get(`#${idOf(path)}-err`).text()).toContain(words)
  expect(w.findAll('[aria-invalid=true]')).toHaveLength(1)
  expect(w.get('[role=alert]').text()).toContain(`the setting ${path} is wrong`)
}

describe('Fields page', () => {
  it('edits labels, thresholds, options and patterns, and shows the error at its field', async () => {
    const puts = server(stored(), 'fields[3].threshold', 'fields[3].threshold must be a number from 0 to 1')
    const w = mount(FieldsView)
    await flushPromises()
    expect(w.findAll('fieldset.rule')).toHaveLength(SETTINGS.fields.length)
    await w.get(`#${idOf('fields[3].threshold')}`).setValue('2')
    await w.get(`#${idOf('fields[3].pattern')}`).setValue('\\bSN-[0-9]+\\b')
    await w.get(`#${idOf('fields[4].options[1].label')}`).setValue('Ordinary')
    await w.get(`#${idOf('fields[4].cues')}`).setValue('urgent, asap ,')
    await saveIn(w)
    const sent = puts[0].body as Doc
    expect(sent.fields[3]).toEqual({ name: 'serial_number', label: 'Serial number', type: 'pattern', threshold: 2, pattern: '\\bSN-[0-9]+\\b' })
    expect(sent.fields[4].options[1]).toEqual({ value: 'normal', label: 'Ordinary' })
    expect(sent.fields[4].cues).toEqual(['urgent', 'asap'])
    expect(sent.arc_rules).toEqual(stored().arc_rules) // the rest of the document as it was
    expectErrorAt(w, 'fields[3].threshold', 'must be a number from 0 to 1')

    // A new field chooses its key; changing a type brings its own keys.
    await w.findAll('button').find((b) => b.text() === 'Add field')!.trigger('click')
    const n = SETTINGS.fields.length
    await w.get(`#${idOf(`fields[${n}].name`)}`).setValue('warranty')
    await w.get(`#${idOf(`fields[${n}].type`)}`).setValue('option')
    await w.get(`#${idOf(`fields[${n}].options[0].value`)}`).setValue('yes')
    await w.get(`#${idOf('fields[3].threshold')}`).setValue('0.7')
    await saveIn(w)
    const again = puts[1].body as Doc
    expect(again.fields[n]).toEqual({ name: 'warranty', label: '', type: 'option', threshold: 0.5, options: [{ value: 'yes', label: '' }] })
    expect(again.fields[3].threshold).toBe(0.7)
    expect(w.findAll('[aria-invalid=true]')).toHaveLength(0)
    expect(w.text()).toContain('Settings saved.')
  })
})

describe('ARC rules page', () => {
  it('sends the rules in the settings shape, and shows the error at the resolved-case window', async () => {
    const puts = server(stored(), 'arc_rules[0].resolved_window_hours', 'arc_rules[0].resolved_window_hours must be a whole number from 0 to 1000000')
    const w = mount(ArcRulesView)
    await flushPromises()
    await w.get(`#${idOf('arc_rules[0].resolved_window_hours')}`).setValue('-1')
    // A yes/no field of the e-mail: its value is a JSON boolean.
    const known = w.get(`#${idOf('arc_rules[0].condition.conditions[0].value')}`)
    expect(known.findAll('option').map((o) => o.text())).toEqual(['yes', 'no'])
    await known.setValue('false')
    await w.get(`#${idOf('email.auto_response.body')}`).setValue('Your case is {ticket}.')
    // A second rule for everyone else: unknown senders refused.
    await w.findAll('button').find((b) => b.text() === 'Add ARC rule')!.trigger('click')
    await w.get(`#${idOf('arc_rules[1].name')}`).setValue('everyone else')
    const unknown = w.findAll('label.check').find((l) => l.text().startsWith('Accept unknown senders') && l.element.closest('fieldset')?.querySelector('legend')?.textContent?.startsWith('ARC rule 2'))!
    await unknown.get('input').setValue(false)
    await saveIn(w)
    const sent = puts[0].body as Doc
    expect(sent.arc_rules[0]).toEqual({
      ...stored().arc_rules[0],
      condition: { match: 'all', conditions: [{ field: 'sender_known', operator: 'equals', value: false }] },
      resolved_window_hours: -1,
      accept_unknown_senders: true,
    })
    expect(sent.arc_rules[1]).toEqual({
      name: 'everyone else',
      fields: { title: '{subject}', description: '{body}' },
      accept_unknown_senders: false,
      resolved_window_hours: 24,
      auto_response: false,
    })
    expect(sent.email).toEqual({ case_token: '[{ticket}]', auto_response: { from: 'support@shop.example', subject: '{token} We received: {subject}', body: 'Your case is {ticket}.' } })
    expectErrorAt(w, 'arc_rules[0].resolved_window_hours', 'whole number')
  })
})

describe('Knowledge agent page', () => {
  it('sends the case attributes and rules in the settings shape, and shows the error at the coverage threshold', async () => {
    const puts = server(stored(), 'knowledge.coverage_threshold', 'knowledge.coverage_threshold must be a number above 0, at most 1')
    const w = mount(KnowledgeAgentView)
    await flushPromises()
    await w.get(`#${idOf('knowledge.coverage_threshold')}`).setValue('2')
    await w.get(`#${idOf('knowledge.audience')}`).setValue('external')
    await w.findAll('button').find((b) => b.text() === 'Add knowledge rule')!.trigger('click')
    await w.get(`#${idOf('knowledge.rules[0].name')}`).setValue('chat')
    await w.get(`#${idOf('knowledge.rules[0].condition.conditions[0].value')}`).setValue('Pat')
    await saveIn(w)
    const k = (puts[0].body as Doc).knowledge
    expect(k.case_attributes).toEqual({ title: true, description: true, product: true, subject: false, notes: true })
    expect(k.audience).toBe('external')
    expect(k.coverage_threshold).toBe(2)
    expect(k.rules).toEqual([{ name: 'chat', condition: { match: 'all', conditions: [{ field: 'customer', operator: 'equals', value: 'Pat' }] } }])
    expect((puts[0].body as Doc).attributes).toBeUndefined()
    expectErrorAt(w, 'knowledge.coverage_threshold', 'above 0, at most 1')
  })
})
