/* SPDX-License-Identifier: MIT */
/*
 * Private to src/auth (layer 5): what its two files share. user.c holds the
 * role table, users and agent experience profiles; credential.c the
 * secrets: password hashes, API tokens, sessions and the throttling of
 * failed logins. Both reach the database through the agent's store, and
 * all cryptography is libsodium's.
 */
#ifndef CA_AUTH_INTERNAL_H
#define CA_AUTH_INTERNAL_H

#include <stdbool.h>
#include <jansson.h>
#include "casemgmt.h"

/* Longest user name; user names are [A-Za-z0-9._@-]. */
#define CA_AUTH_NAME_MAX 64
/* Password length in bytes. */
#define CA_AUTH_PASSWORD_MIN 8
#define CA_AUTH_PASSWORD_MAX 1024

/* The role that authenticates by token only (a chat platform, a mail
 * server, a scraper): no password. */
#define CA_AUTH_ROLE_INTEGRATION "Integration"

/* Is `name` a well-formed user name? */
bool ca_auth_name_ok(const char *name);
/* libsodium ready (sodium_init); CA_EUNSUPPORTED when it cannot start. */
int ca_auth_sodium(ca_err *err);
/* The Argon2id string of a password (crypto_pwhash_str, interactive
 * limits) in *ret (caller frees), after checking its length. */
int ca_auth_hash_password(const char *password, char **ret, ca_err *err);

#endif
