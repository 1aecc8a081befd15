/* SPDX-License-Identifier: MIT */
/*
 * The one normalised form of an e-mail address, as mail systems compare
 * them: the domain is case-insensitive and its Unicode and ASCII spellings
 * are the same name (IDNA2008, RFC 5890/5891, through GNU libidn2: the
 * domain becomes its lower-case A-label form, "BÜCHER.example" and
 * "xn--bcher-kva.example" alike), and the local part is compared without
 * case too, as every large provider treats it (RFC 5321 §2.4 leaves that to
 * the receiving host; Unicode local parts, RFC 6531, are NFC and case
 * folded). Own-address checks, rate limits and auto-response limits all key
 * on this form, so "SUPPORT@BrightWave.Example" is our own address and 100
 * case variants of one sender are one sender.
 */
#include <stdlib.h>
#include <string.h>
#include <idn2.h>
#include <utf8proc.h>
#include "base.h"
#include "text.h"

static bool all_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* s[0..n) folded into b: ASCII lower case, or NFC + case fold for UTF-8. */
static int fold_into(ca_buf *b, const char *s, size_t n)
{
	if (all_ascii(s, n)) {
		for (size_t i = 0; i < n; i++) {
			char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
			int r = ca_buf_append(b, &c, 1);
			if (r)
				return r;
		}
		return 0;
	}
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &dst,
					  UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
	if (m < 0)
		return m == UTF8PROC_ERROR_NOMEM ? CA_ENOMEM : CA_EUTF8;
	int r = ca_buf_append(b, (const char *)dst, (size_t)m);
	free(dst);
	return r;
}

int ca_email_addr_key(const char *addr, char **ret)
{
	if (!addr || !ret)
		return CA_EINVAL;
	size_t len = strlen(addr);
	while (len && (*addr == ' ' || *addr == '\t' || *addr == '<')) {
		addr++;
		len--;
	}
	while (len && (addr[len - 1] == ' ' || addr[len - 1] == '\t' || addr[len - 1] == '>'))
		len--;
	const char *at = NULL;
	for (size_t i = 0; i < len; i++)
		if (addr[i] == '@')
			at = addr + i;
	if (!at || at == addr || at + 1 == addr + len)
		return CA_EINVAL;
	for (size_t i = 0; i < len; i++)
		if (addr[i] == '\r' || addr[i] == '\n' || addr[i] == '\0')
			return CA_EINVAL;
	const char *dom = at + 1;
	size_t dlen = len - (size_t)(dom - addr);
	if (dlen && dom[dlen - 1] == '.')
		dlen--; /* the root label: "example.com." is "example.com" */
	if (dlen == 0)
		return CA_EINVAL;
	ca_buf b;
	ca_buf_init(&b);
	int r = fold_into(&b, addr, (size_t)(at - addr));
	if (!r)
		r = ca_buf_append(&b, "@", 1);
	if (!r && all_ascii(dom, dlen)) {
		r = fold_into(&b, dom, dlen);
	} else if (!r) {
		/* Fold first (IDNA2008 refuses upper case), then the A-label. */
		ca_buf d;
		ca_buf_init(&d);
		r = fold_into(&d, dom, dlen);
		char *ace = NULL;
		int ir = r ? IDN2_OK : idn2_to_ascii_8z(d.data, &ace, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (!r && ir == IDN2_OK && ace) {
			r = fold_into(&b, ace, strlen(ace));
		} else if (!r) {
			/* Not a valid IDN: still one spelling, the folded UTF-8. */
			r = ir == IDN2_MALLOC ? CA_ENOMEM : ca_buf_append(&b, d.data, d.len);
		}
		idn2_free(ace);
		ca_buf_done(&d);
	}
	if (r) {
		ca_buf_done(&b);
		return r;
	}
	*ret = ca_buf_steal(&b);
	return 0;
}
