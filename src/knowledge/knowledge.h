/* SPDX-License-Identifier: MIT */
/*
 * Layer 4: the knowledge agent (ARCHITECTURE §5), a module of its own over
 * casemgmt. Resolved cases and closed conversations become de-duplicated,
 * PII-free knowledge articles, in real time (the agent hooks casemgmt
 * calls on resolve and close, installed by ca_agent_open) and over history
 * (harvest.c). Gap detection: full-text candidates from the store, scored
 * by kbindex.c. The public calls (review, search, insights, harvest, eval
 * dedup) are in include/caseagent/caseagent.h; these are the module's own.
 */
#ifndef CA_KNOWLEDGE_H
#define CA_KNOWLEDGE_H

#include "casemgmt.h"

/*
 * The knowledge agent on one record (knowledge.c): a resolved case
 * (record_type "case", record_id its numeric id) or a closed conversation
 * ("conversation", its id). Its own transaction, or savepoint in the
 * caller's. *ret: the outcome (new
 * reference) {"outcome": "drafted"|"published"|"covered"|"filtered"|
 * "insufficient content"|"off", "record_type", "record", "article", ...}.
 * With `realtime` it is the trigger on resolve or close ("off" when
 * knowledge.realtime_cases or realtime_conversations is off); without, the
 * same decision for a historical harvest whatever those switches say.
 * `rule` (NULL: any) limits it to one knowledge rule by name. `hook` (may be
 * NULL) is called inside the transaction that records the outcome, for
 * every outcome, filtered and insufficient content included, which
 * otherwise write nothing: a harvest writes its log row and cursor there, so
 * the outcome and the log stand or fall together. A nonzero return from the
 * hook rolls everything back and is returned. CA_ESTATE for a conversation
 * that is not closed; CA_ENOTFOUND for an unknown record.
 */
typedef int (*ca_knowledge_hook)(ca_agent *a, const char *record_type, const char *record_id, const json_t *outcome,
				 void *ud, ca_err *err);
int ca_knowledge_process_with(ca_agent *a, const char *record_type, const char *record_id, bool realtime,
			      const char *rule, ca_knowledge_hook hook, void *ud, json_t **ret, ca_err *err);
/* A new article, committed: add it to the agent's similarity index (the
 * full-text index follows the table by itself). */
void ca_knowledge_indexed(ca_agent *a, int64_t article_id);
/* Forget the similarity index (rebuilt from the store on next use): after a
 * rollback took back articles it had indexed. */
void ca_knowledge_index_drop(ca_agent *a);
/* The article that covers a text best (drafts in review and published ones,
 * not archived or discarded), corroborated at `threshold` (knowledge.c:
 * the issue similar enough on at least two informative terms, or the
 * issues overlapping and the resolutions agreeing; resolution may be
 * NULL): *ret_article (new reference, NULL when none is) and its issue
 * similarity, or without one the best issue similarity seen. A threshold
 * below 0 asks for a ranking, not a decision: the best by similarity,
 * uncorroborated (eval dedup's covered_top1). */
int ca_knowledge_cover(ca_agent *a, const char *text, const char *resolution, double threshold, json_t **ret_article,
		       double *ret_sim, ca_err *err);

#endif
