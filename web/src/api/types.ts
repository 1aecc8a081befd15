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
