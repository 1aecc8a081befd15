// SPDX-License-Identifier: MIT
// Knowledge articles as the review pages see them (GET/PATCH
// /api/v1/knowledge/articles/{ref}), and the one rule the Publish button
// follows: the store refuses to publish a version that is not compliant, so
// the page says why before anyone tries.

export type ArticleState = 'draft' | 'in_review' | 'published' | 'archived' | 'discarded'
export type Compliance = 'pending' | 'compliant' | 'non_compliant'
export type Audience = 'internal' | 'external'

/** A published article's new minor version waiting for review. */
export interface PendingVersion {
  version_major?: number
  version_minor?: number
  compliance: Compliance
  title?: string
  issue?: string
  cause?: string
  resolution?: string
}

export interface Article {
  id?: number
  number: string
  version_major?: number
  version_minor?: number
  state: ArticleState
  compliance: Compliance
  audience: Audience
  title: string
  issue: string | null
  cause: string | null
  resolution: string | null
  source?: string | null
  owner?: string | null
  rating_sum?: number
  rating_count?: number
  updated_at?: string
  pending_version?: PendingVersion | null
  pending_version_minor?: number | null
}

export const COMPLIANCE_LABEL: Record<Compliance, string> = {
  pending: 'Pending review',
  compliant: 'Compliant',
  non_compliant: 'Not compliant',
}

export const STATE_LABEL: Record<ArticleState, string> = {
  draft: 'Draft',
  in_review: 'In review',
  published: 'Published',
  archived: 'Archived',
  discarded: 'Discarded',
}

/** The compliance of the version Publish would publish: a published
 * article's pending version if it has one, else the article's own. */
export function publishableCompliance(a: Article): Compliance {
  return a.state === 'published' && a.pending_version ? a.pending_version.compliance : a.compliance
}

/** Why Publish is unavailable for the saved article, or null when it may be
 * published. `edit`: the editor's state, when it holds changes not saved
 * yet (the server judges the saved version): its compliance is the one the
 * reason speaks of, and anything unsaved must be saved first. */
export function publishBlocked(a: Article, edit?: { compliance: Compliance; unsaved: boolean }): string | null {
  if (a.state === 'discarded') return 'A discarded article cannot be published.'
  if (a.state === 'published' && !a.pending_version) return 'This version is already published.'
  const c = edit ? edit.compliance : publishableCompliance(a)
  if (c !== 'compliant')
    return c === 'non_compliant'
      ? 'Publishing needs a compliant article: this one is marked not compliant.'
      : 'Publishing needs a compliant article: its compliance review is still pending.'
  if (edit?.unsaved || publishableCompliance(a) !== 'compliant') return 'Save your changes first: Publish publishes the saved version.'
  return null
}

/** "v1.2" for an article or version. */
export function versionOf(v: { version_major?: number; version_minor?: number }): string {
  return v.version_major === undefined ? '' : `v${v.version_major}.${v.version_minor ?? 0}`
}

/** The average rating as text, "no ratings" when none. */
export function ratingText(a: Pick<Article, 'rating_sum' | 'rating_count'>): string {
  const n = a.rating_count || 0
  if (!n) return 'no ratings'
  return `${((a.rating_sum || 0) / n).toFixed(1)} of 5 (${n} rating${n === 1 ? '' : 's'})`
}
