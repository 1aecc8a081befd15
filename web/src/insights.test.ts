// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest'
import { followupFigures, reportBars } from './insights'

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

describe('followupFigures', () => {
  it('names the follow-up figures and the replies by intent', () => {
    const f = followupFigures({
      cases_created: 2,
      followups_sent: 9,
      cases_resolved_by_agent: 3,
      cases_handed_to_person: 2,
      reopened_after_agent_resolution: 1,
      replies_by_intent: { resolved: 3, still_problem: 1, automatic: 2 },
    })
    expect(f).toEqual({
      figures: [
        { label: 'Follow-ups sent', value: 9 },
        { label: 'Cases resolved by the agent', value: 3 },
        { label: 'Cases handed to a person', value: 2 },
        { label: 'Reopened after an autonomous resolution', value: 1 },
      ],
      byIntent: [
        { label: 'Resolved / thanks', value: 3 },
        { label: 'Still has the problem', value: 1 },
        { label: 'Out of office / automatic', value: 2 },
      ],
    })
  })

  it('is null for a report without follow-up figures', () => {
    expect(followupFigures({ cases_created: 2 })).toBeNull()
  })
})
