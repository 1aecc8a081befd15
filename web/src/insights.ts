// SPDX-License-Identifier: MIT
// The agent report (GET /api/v1/reports/agent) as groups of bars: every
// number in the report, grouped by the object that holds it, so a figure the
// server adds later is shown without a change here.

/** One bar: its label and its number, both shown as text beside it. */
export interface Bar {
  label: string
  value: number
}

export interface BarGroup {
  caption: string
  bars: Bar[]
}

const words = (k: string) => {
  const s = k.replace(/_/g, ' ')
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/** Numbers at the top go to "Overview"; an object's numbers become its own
 * group (nested objects named by their path); arrays of {name|field, count}
 * become bars too. Period bounds and other strings are left out. */
export function reportBars(report: Record<string, unknown>): BarGroup[] {
  const groups = new Map<string, Bar[]>()
  const add = (caption: string, bar: Bar) => {
    const g = groups.get(caption) || []
    g.push(bar)
    groups.set(caption, g)
  }
  const walk = (o: Record<string, unknown>, path: string[]) => {
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === 'number') add(path.length ? path.map(words).join(': ') : 'Overview', { label: words(k), value: v })
      else if (Array.isArray(v)) {
        for (const item of v) {
          if (!item || typeof item !== 'object') continue
          const it = item as Record<string, unknown>
          const label = [it.name, it.field, it.label, it.outcome, it.key].find((x) => typeof x === 'string') as string | undefined
          const value = [it.count, it.value, it.total].find((x) => typeof x === 'number') as number | undefined
          if (label !== undefined && value !== undefined) add([...path, k].map(words).join(': '), { label, value })
        }
      } else if (v && typeof v === 'object') walk(v as Record<string, unknown>, [...path, k])
    }
  }
  walk(report, [])
  return [...groups].map(([caption, bars]) => ({ caption, bars }))
}

/** The follow-up agent's figures of the agent report (ca_report_agent
 * gives them beside the others): the headline numbers, and the customers'
 * replies by intent. */
export interface FollowupFigures {
  figures: Bar[]
  byIntent: Bar[]
}

const FOLLOWUP_FIGURES: [key: string, label: string][] = [
  ['followups_sent', 'Follow-ups sent'],
  ['cases_resolved_by_agent', 'Cases resolved by the agent'],
  ['cases_handed_to_person', 'Cases handed to a person'],
  ['reopened_after_agent_resolution', 'Reopened after an autonomous resolution'],
]

/** The report's keys that followupFigures shows. */
export const FOLLOWUP_KEYS = [...FOLLOWUP_FIGURES.map(([k]) => k), 'replies_by_intent']

export const INTENT_LABELS: Record<string, string> = {
  resolved: 'Resolved / thanks',
  still_problem: 'Still has the problem',
  question_or_info: 'Question or information',
  unclear: 'Unclear',
  automatic: 'Out of office / automatic',
}

/** The report's follow-up figures, or null when it has none. */
export function followupFigures(report: Record<string, unknown>): FollowupFigures | null {
  const figures: Bar[] = []
  for (const [key, label] of FOLLOWUP_FIGURES) if (typeof report[key] === 'number') figures.push({ label, value: report[key] as number })
  const intents = report.replies_by_intent
  const byIntent: Bar[] =
    intents && typeof intents === 'object' && !Array.isArray(intents)
      ? Object.entries(intents as Record<string, unknown>)
          .filter(([, v]) => typeof v === 'number')
          .map(([k, v]) => ({ label: INTENT_LABELS[k] ?? words(k), value: v as number }))
      : []
  return figures.length || intents ? { figures, byIntent } : null
}
