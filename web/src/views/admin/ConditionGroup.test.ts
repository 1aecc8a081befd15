// SPDX-License-Identifier: MIT
// The condition builder and the Case Management Agent page against a
// stand-in server: nested AND/OR groups edited through the controls give
// the condition JSON of docs/settings.md; the page saves the whole settings
// document with the rule; an API error naming a key inside a rule shows at
// the control of that key (and at the top naming the setting).
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { enableAutoUnmount, flushPromises, mount } from '@vue/test-utils'
import { reactive } from 'vue'
import ConditionGroup from './ConditionGroup.vue'
import AgentSettingsView from './AgentSettingsView.vue'
import { controlFor, idOf, settingsPaths, type Group, type UpdateRule } from './conditions'
import { fakeApi, SETTINGS, type Call } from '../../test/fakeApi'
import { setCsrf } from '../../api/client'

enableAutoUnmount(afterEach)

const FIELDS = [
  ...SETTINGS.fields,
  {
    name: 'category',
    label: 'Case category',
    type: 'option',
    threshold: 0.3,
    options: [
      { value: 'product_defect', label: 'Product defect' },
      { value: 'billing', label: 'Billing question' },
    ],
  },
]

beforeEach(() => setCsrf('csrf-admin'))

describe('the condition builder', () => {
  it('builds nested AND/OR groups as the settings JSON', async () => {
    const group = reactive<Group>({ match: 'all', conditions: [{ field: 'customer', operator: 'equals', value: '' }] })
    const w = mount(ConditionGroup, { props: { group, path: 'update_rules[0].condition', fields: FIELDS, legend: 'When the case matches' } })
    const first = 'update_rules[0].condition.conditions[0]'
    await w.find(`#${idOf(`${first}.field`)}`).setValue('category')
    expect(group.conditions[0]).toEqual({ field: 'category', operator: 'equals', value: 'product_defect' })
    await w.find(`#${idOf(`${first}.value`)}`).setValue('billing')

    await w.find('#' + idOf('update_rules[0].condition.match')).setValue('any')
    const addGroup = w.findAll('button').filter((b) => b.text() === 'Add group')
    await addGroup[0].trigger('click')
    const inner = 'update_rules[0].condition.conditions[1]'
    await w.find(`#${idOf(`${inner}.conditions[0].field`)}`).setValue('description')
    await w.find(`#${idOf(`${inner}.conditions[0].operator`)}`).setValue('contains')
    await w.find(`#${idOf(`${inner}.conditions[0].value`)}`).setValue('order')
    // A second condition in the inner group: "Product is not empty".
    const adds = w.findAll('button').filter((b) => b.text() === 'Add condition')
    expect(adds).toHaveLength(2)
    await adds[0].trigger('click') // the inner group's comes first (it is rendered inside)
    await w.find(`#${idOf(`${inner}.conditions[1].field`)}`).setValue('product')
    await w.find(`#${idOf(`${inner}.conditions[1].operator`)}`).setValue('is_not_empty')
    expect(w.find(`#${idOf(`${inner}.conditions[1].value`)}`).exists()).toBe(false)

    expect(JSON.parse(JSON.stringify(group))).toEqual({
      match: 'any',
      conditions: [
        { field: 'category', operator: 'equals', value: 'billing' },
        {
          match: 'all',
          conditions: [
            { field: 'description', operator: 'contains', value: 'order' },
            { field: 'product', operator: 'is_not_empty' },
          ],
        },
      ],
    })

    // "is one of" takes a list; removing the group leaves the first condition.
    await w.find(`#${idOf(`${first}.operator`)}`).setValue('in')
    await w.find(`#${idOf(`${first}.value`)}`).setValue('product_defect, billing ,')
    expect(group.conditions[0]).toEqual({ field: 'category', operator: 'in', value: ['product_defect', 'billing'] })
    await w.findAll('button').filter((b) => b.text() === 'Remove group')[0].trigger('click')
    expect(group.conditions).toHaveLength(1)
  })

  it('finds the control an error names', () => {
    const rules: UpdateRule[] = [
      {
        name: 'r',
        predict: ['product'],
        condition: { match: 'any', conditions: [{ field: 'category', operator: 'equals', value: 'x' }, { conditions: [{ field: 'a', operator: 'equals', value: 1 }] }] },
      },
    ]
    const paths = settingsPaths({ update_rules: rules })
    expect(controlFor('update_rules[0].condition.conditions[1].conditions[0].operator', paths)).toBe(
      'update_rules[0].condition.conditions[1].conditions[0].operator',
    )
    expect(controlFor('update_rules[0].predict[0]', paths)).toBe('update_rules[0].predict')
    expect(controlFor('update_rules[0].condition.conditions[1].conditions[3]', paths)).toBe('update_rules[0].condition.conditions[1].conditions')
    expect(controlFor('default_fields[2]', paths)).toBe('default_fields')
    expect(controlFor('update_rules[01]', paths)).toBe('update_rules')
    expect(controlFor('fields[3].threshold', paths)).toBeNull()
  })
})

describe('the Case Management Agent page', () => {
  function document() {
    return {
      version: 1,
      channels: { chat: true, email: false },
      fields: FIELDS,
      default_fields: ['customer'],
      update_rules: [
        { name: 'defects', condition: { match: 'all', conditions: [{ field: 'customer', operator: 'is_not_empty' }, { field: 'category', operator: 'equal', value: 'x' }] }, predict: ['product'] },
      ],
      summary_note_on_close: true,
      record_agent_experience: true,
    }
  }

  it('saves the whole document, and shows the API error at the control it names', async () => {
    const stored = document()
    let puts: Call[] = []
    fakeApi({
      'GET /api/v1/settings': { body: stored },
      'PUT /api/v1/settings': (c) => {
        puts.push(c)
        return {
          status: 400,
          body: {
            type: 'urn:caseagent:problem:invalid',
            title: 'Bad Request',
            status: 400,
            detail: "update_rules[0].condition.conditions[1].operator: unknown operator 'equal'",
            field: 'update_rules[0].condition.conditions[1].operator',
          },
        }
      },
    })
    const w = mount(AgentSettingsView)
    await flushPromises()
    // Default fields: add Issue description.
    const desc = w.findAll('input[type=checkbox]').find((i) => i.element.parentElement?.textContent === 'Issue description' && i.element.closest('fieldset')?.querySelector('legend')?.textContent === 'Default fields')
    await desc!.setValue(true)
    await w.findAll('button').find((b) => b.text() === 'Save')!.trigger('submit')
    await flushPromises()
    expect(puts).toHaveLength(1)
    expect(puts[0].headers['x-csrf-token']).toBe('csrf-admin')
    const sent = puts[0].body as ReturnType<typeof document>
    expect(sent.default_fields).toEqual(['customer', 'description'])
    expect(sent.fields).toEqual(FIELDS)
    expect(sent.version).toBe(1)
    expect(sent.update_rules[0].condition.conditions[1]).toEqual({ field: 'category', operator: 'equal', value: 'x' })

    const path = 'update_rules[0].condition.conditions[1].operator'
    const control = w.find(`#${idOf(path)}`)
    expect(control.attributes('aria-invalid')).toBe('true')
    const msg = w.find(`#${control.attributes('aria-describedby')}`)
    expect(msg.text()).toContain("unknown operator 'equal'")
    // Next to its control (same row), not elsewhere: no other control is marked.
    expect(control.element.parentElement!.contains(msg.element)).toBe(true)
    expect(w.findAll('[aria-invalid=true]')).toHaveLength(1)
    expect(w.find('[role=alert]').text()).toContain('the setting update_rules[0].condition.conditions[1].operator is wrong')

    // Fixed and saved: the error goes.
    puts = []
    fakeApi({ 'GET /api/v1/settings': { body: stored }, 'PUT /api/v1/settings': (c) => (puts.push(c), { body: c.body }) })
    await control.setValue('equals')
    await w.find('form').trigger('submit')
    await flushPromises()
    expect((puts[0].body as ReturnType<typeof document>).update_rules[0].condition.conditions[1].operator).toBe('equals')
    expect(w.findAll('[aria-invalid=true]')).toHaveLength(0)
    expect(w.text()).toContain('Settings saved.')
  })
})
