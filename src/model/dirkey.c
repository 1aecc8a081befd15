/* SPDX-License-Identifier: MIT */
/*
 * Directory lookup keys (model.h, ca_dir_key): the one definition of how a
 * contact's or an account's identifiers and name are normalised, shared by
 * the store (which writes the keys beside each record and indexes them) and
 * the entity linker (which computes the same keys from a conversation), so
 * the two can never disagree.
 */
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "text.h"

static int name_key(const char *raw, ca_stemmer *st, char **ret)
{
	ca_tokens t = { 0 };
	int r = ca_tokenize(raw, strlen(raw), 0, st, &t);
	/* A lone stop word ("the") or one-letter token names no one. */
	if (r || t.n == 0 || t.n > CA_DIR_NAME_MAX_TOKENS ||
	    (t.n == 1 && (ca_stopword(t.v[0].norm) || strlen(t.v[0].norm) < 2))) {
		ca_tokens_done(&t);
		*ret = NULL;
		return r == CA_ENOMEM ? r : 0;
	}
	ca_buf b = { 0 };
	for (size_t i = 0; i < t.n && !r; i++)
		if (ca_buf_puts(&b, i ? " " : "") < 0 || ca_buf_puts(&b, t.v[i].stem) < 0)
			r = CA_ENOMEM;
	ca_tokens_done(&t);
	if (r) {
		ca_buf_done(&b);
		return r;
	}
	*ret = ca_buf_steal(&b);
	return *ret ? 0 : CA_ENOMEM;
}

int ca_dir_key_of(ca_dir_key type, const char *raw, ca_stemmer *st, char **ret)
{
	*ret = NULL;
	if (ca_str_empty(raw))
		return 0;
	int r = 0;
	switch (type) {
	case CA_DIRKEY_EMAIL:
		/* The address as mail compares it everywhere (IDNA domain, folded
		 * local part), so "Lena@Bücher.example" is the sender
		 * lena@xn--bcher-kva.example. */
		r = ca_email_addr_key(raw, ret);
		break;
	case CA_DIRKEY_PHONE: {
		char pn[16];
		if (ca_phone_norm(raw, pn) == 0 && !(*ret = strdup(pn)))
			return CA_ENOMEM;
		return 0;
	}
	case CA_DIRKEY_USERNAME:
	case CA_DIRKEY_ACCOUNT_NUMBER:
		r = ca_text_fold(raw, strlen(raw), ret);
		break;
	case CA_DIRKEY_NAME:
		return name_key(raw, st, ret);
	}
	if (r == CA_ENOMEM)
		return r;
	if (r) /* not an address, not UTF-8: no key, not an error */
		*ret = NULL;
	return 0;
}
