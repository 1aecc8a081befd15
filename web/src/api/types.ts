// SPDX-License-Identifier: MIT
// The shapes of the API's answers the UI reads (src/server/routes.c and the
// docstrings of include/caseagent/caseagent.h).

export interface Evidence {
  /** The message id; begin and end are byte offsets into its UTF-8 text. */
  message: string
  begin: number
  end: number
}

export type Source = 'agent' | 'person' | 'arc' | 'import' | 'system'

export interface Provenance {
  source: Source
  actor?: string
  confidence?: number
  method?: string
  evidence?: Evidence[]
  at?: string
}

export interface Suggestion {
  field: string
  value: string
  display?: string
  confidence: number
  threshold?: number
  method?: string
  evidence?: Evidence[]
}

export interface Note {
  id: number
  kind: string
  body: string
  actor: string
  at: string
}

export interface Case {
  id: number
  ticket_number: string
  version: number
  conversation_id?: string | null
  origin?: string
  created_at?: string
  updated_at?: string
  fields: Record<string, string | null>
  provenance?: Record<string, Provenance>
  notes?: Note[]
  suggestions?: Suggestion[]
  /** Display names of the lookup values: {"customer": "Pat Van Tassel"}. */
  display?: Record<string, string>
}

export interface CasePage {
  cases: Case[]
  next_cursor: string | null
}

export interface Change {
  field: string
  old: string | null
  new: string | null
  value?: string
  display?: string
  confidence?: number
  method?: string
  evidence?: Evidence[]
}

export interface UpdateResult {
  case: string | null
  changed: Change[]
  no_changes: boolean
  missing?: { field: string; reason: string }[]
  suggestions?: Suggestion[]
  requested_by?: string
  state?: string
}

export interface PatchResult {
  case: string
  changed: { field: string; old: string | null; new: string | null }[]
  version: number
}

export interface KnowledgeOutcome {
  outcome: string
  article?: string | null
  state?: string | null
  compliance?: string | null
  best_similarity?: number
  reason?: string
}

export interface StatusResult {
  case: string
  old_status: string
  status: string
  reason: string | null
  version: number
  knowledge?: KnowledgeOutcome
}

export interface Message {
  id: string
  role: string
  text: string
  at?: string
}

export interface Interaction {
  id: number
  action: string
  outcome: string
  detail?: { missing?: { field: string; reason: string }[] } & Record<string, unknown>
  at: string
}

export interface ConversationSummary {
  id: string
  channel: string
  state: string
  case: string | null
  contact: string | null
  opened_at: string
  closed_at: string | null
  messages: number
  accepted_by: string | null
}

export interface Conversation extends Omit<ConversationSummary, 'messages'> {
  messages: Message[]
  interactions: Interaction[]
}

export interface AuditEntry {
  id: number
  field: string
  old_value: string | null
  new_value: string | null
  source: Source
  actor: string
  confidence?: number | null
  method?: string | null
  evidence?: Evidence[] | null
  at: string
}

/** One e-mail of a case: stored ("id", status received or sent) or still
 * in the outbox (id null, "outbox_id", status queued or failed). */
export interface EmailEntry {
  id: number | null
  direction: 'in' | 'out' | string
  from_addr: string | null
  to_addr: string | null
  subject: string | null
  received_at: string | null
  outbox_id: number | null
  status: string
}

export interface FieldOption {
  value: string
  label: string
  description?: string
  cues?: string[]
}

export interface FieldDef {
  name: string
  label: string
  type: 'text' | 'option' | 'lookup' | 'pattern' | string
  threshold?: number
  options?: FieldOption[]
  lookup?: string
  pattern?: string
  cues?: string[]
  description?: string
}

export interface Settings {
  fields: FieldDef[]
  default_fields?: string[]
  [k: string]: unknown
}

export interface Whoami {
  user: string
  role: string
  profile: string
  rights: string[]
  via?: 'session' | 'token'
  /** The profile's features, when the server says them. */
  features?: { autonomous_case?: boolean; autonomous_followup?: boolean }
  /** A cookie session's CSRF token (send as X-CSRF-Token); absent for a token. */
  csrf?: string
}

export interface LoginResult {
  csrf: string
  user: string
  role: string
  profile: string
  expires_at: string
}

/* ---- issue 12: follow-up and closure ---- */

export type ReplyIntent = 'resolved' | 'still_problem' | 'question_or_info' | 'unclear' | 'automatic'

/** ca_reply_classify's reading of a customer's reply. */
export interface ReplyReading {
  intent: ReplyIntent | string
  confidence: number
  evidence?: { text: string; start: number; end: number; cue?: string }[]
  scores?: Record<string, number>
}

export interface DraftEmail {
  subject: string
  body: string
}

/** A case's pending suggestion (a confirm-level follow-up rule). */
export interface FollowupSuggestion {
  id: number
  rule: string
  step: number
  created_at: string
  proposed: 'send_followup' | 'draft_reply' | 'resolve' | string
  reply_summary: string | null
  intent: ReplyReading | null
  email: DraftEmail | null
  resolution: string | null
}

/** GET /api/v1/cases/{ref}/suggestion */
export interface CaseSuggestion {
  case: string
  suggestion: FollowupSuggestion | null
}

export type SuggestionAction = 'send' | 'draft' | 'resolve' | 'dismiss'

/** POST /api/v1/cases/{ref}/suggestion/{id} */
export interface SuggestionActResult {
  case: string
  suggestion: number
  action: SuggestionAction
  outbox: { id?: number; to?: string; subject?: string; status?: string } | number | null
  draft: DraftEmail | null
  status: string
}

/** GET /api/v1/cases/{ref}/resolution-proposal */
export interface ResolutionProposal {
  case: string
  resolution: string | null
  confidence: number
  evidence: { source: 'email' | 'message' | 'note' | string; id: string | number | null; text: string }[]
}

/** One decision of a follow-up tick or a simulation. */
export interface FollowupDecision {
  case: string
  rule?: string
  level?: string
  decision: string
  step?: number | null
  reason?: string | null
  intent?: string | ReplyReading | null
  email?: DraftEmail | null
  at?: string
}

/** POST /api/v1/followup/simulate */
export interface FollowupRun {
  now: string | number
  cases: number
  counts: Record<string, number>
  decisions: FollowupDecision[]
}

/** GET /api/v1/followup/shadow */
export interface ShadowLog {
  rule: string | null
  decisions: FollowupDecision[]
}
