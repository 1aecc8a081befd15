// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest'
import { reportBars } from './insights'

describe('reportBars', () => {
  it('groups every number of the report by the object holding it', () => {
    const g = reportBars({
      from: '2026-01-01T00:00:00Z',
      cases_created: 3,
      emails: { sent: 2, held: 1 },
      withheld_missing: [{ field: 'contact', count: 4 }, { note: 'no count' }],
    })
    expect(g).toEqual([
      { caption: 'Overview', bars: [{ label: 'Cases created', value: 3 }] },
      { caption: 'Emails', bars: [{ label: 'Sent', value: 2 }, { label: 'Held', value: 1 }] },
      { caption: 'Withheld missing', bars: [{ label: 'contact', value: 4 }] },
    ])
  })
})
