// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import BarTable from './BarTable.vue'

describe('BarTable', () => {
  it('shows every number as text beside bars scaled to the largest', () => {
    const w = mount(BarTable, {
      props: { caption: 'Articles by state', bars: [{ label: 'draft', value: 4 }, { label: 'published', value: 2 }] },
    })
    expect(w.find('figcaption').text()).toBe('Articles by state')
    const rows = w.findAll('tbody tr').map((r) => r.text())
    expect(rows).toEqual(['draft4', 'published2'])
    const rects = w.findAll('rect').map((r) => r.attributes('width'))
    expect(rects).toEqual(['100%', '50%'])
    expect(w.findAll('td.bar-cell').every((c) => c.attributes('aria-hidden') === 'true')).toBe(true)
  })
  it('renders labels as text, never markup', () => {
    const w = mount(BarTable, { props: { caption: 'x', bars: [{ label: '<img src=x onerror=alert(1)>', value: 1 }] } })
    expect(w.find('img').exists()).toBe(false)
    expect(w.find('tbody th').text()).toBe('<img src=x onerror=alert(1)>')
  })
  it('says so when there is nothing', () => {
    const w = mount(BarTable, { props: { caption: 'x', bars: [] } })
    expect(w.text()).toContain('Nothing to show yet.')
  })
})
