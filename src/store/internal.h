/* SPDX-License-Identifier: MIT */
/*
 * Private to the store: what migrate.c needs of the repository (store.c),
 * namely computing the directory's lookup keys for records stored before
 * the keys existed.
 */
#ifndef CA_STORE_INTERNAL_H
#define CA_STORE_INTERNAL_H

#include "store.h"

/* Migration 11's C step: write the lookup keys (model.h, ca_dir_key) of
 * every contact and account already stored, in batches by id, inside the
 * migration's transaction. */
int ca_store_fill_dir_keys(const ca_sql_driver *drv, void *conn, ca_err *err);

#endif
