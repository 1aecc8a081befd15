/* SPDX-License-Identifier: MIT */
/*
 * Internal interface of the eval module (layer 5): the measuring harnesses
 * that score the agents on labelled data (simulate, eval summary, pii eval,
 * eval dedup). They drive the agents through the same paths production
 * uses and write nothing; nothing in a production path calls them.
 */
#ifndef CA_EVAL_H
#define CA_EVAL_H

#include "casemgmt.h"
#include "knowledge.h"

/* The files of an evaluation dataset, appended to *files: `path` itself
 * when it is a file; in a folder, `preferred` (may be NULL) when present,
 * else every file whose name ends in `suffix`, in name order (dot files
 * left out). CA_ENOTFOUND when there is none (or no such path), CA_EIO. */
int ca_dataset_files(const char *path, const char *preferred, const char *suffix, ca_strv *files, ca_err *err);

/* Text with HTML character references decoded ("&amp;", "&#39;", "&#x2019;";
 * tweets keep them): heap, caller frees; NULL on ENOMEM (eval_summary.c). */
char *ca_eval_decode_entities(const char *s);

#endif
