/* SPDX-License-Identifier: MIT */
/*
 * SMTP submission (RFC 5321) through libcurl: one message, one envelope,
 * one connection. libcurl speaks the protocol (EHLO, STARTTLS, required
 * unless plain text is allowed for a loopback server, AUTH, MAIL FROM, RCPT TO, DATA with dot-stuffing, QUIT); this
 * file checks the envelope addresses, feeds the prepared RFC 5322 text and
 * turns libcurl's result, which carries the server's reply, into an error
 * naming the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "mailnet.h"

#define CONNECT_TIMEOUT_S 30L
#define STALL_TIMEOUT_S 120L

typedef struct reader {
	const char *p;
	size_t left;
} reader;

static size_t feed(char *buf, size_t size, size_t n, void *ud)
{
	reader *rd = ud;
	size_t k = size * n < rd->left ? size * n : rd->left;
	memcpy(buf, rd->p, k);
	rd->p += k;
	rd->left -= k;
	return k;
}

/* A bare addr-spec we can put in <...>: no brackets, controls or spaces.
 * The empty string is the null reverse-path (RFC 5321 §4.5.5). */
static bool plain_address(const char *a, bool allow_empty)
{
	if (!a)
		return false;
	if (!*a)
		return allow_empty;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p <= ' ' || *p == '<' || *p == '>' || *p == 0x7f)
			return false;
	return strchr(a, '@') != NULL;
}

int ca_smtp_url_check(const char *url, char **ret_server, ca_err *err)
{
	if (!url || !*url)
		return ca_err_set(err, CA_EINVAL, "url", "no SMTP URL given");
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *pass = NULL;
	int r = 0;
	if (!u)
		return ca_err_set(err, CA_ENOMEM, "url", "out of memory");
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (uc != CURLUE_OK) {
		r = ca_err_set(err, CA_EINVAL, "url", "'%s' is not a URL: %s", url, curl_url_strerror(uc));
		goto done;
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	if (curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK && pass) {
		r = ca_err_set(err, CA_EINVAL, "url", "the SMTP URL carries a password: give it separately, never in a URL");
		goto done;
	}
	if (!scheme || (strcmp(scheme, "smtp") && strcmp(scheme, "smtps")) || !host) {
		r = ca_err_set(err, CA_EINVAL, "url", "'%s' is not an smtp:// or smtps:// URL", url);
		goto done;
	}
	ca_buf b = { 0 };
	if (ca_buf_printf(&b, "%s://%s:%s", scheme, host, port ? port : "25") < 0)
		r = ca_err_set(err, CA_ENOMEM, "url", "out of memory");
	else if (ret_server)
		*ret_server = ca_buf_steal(&b);
	ca_buf_done(&b);
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(pass);
	curl_url_cleanup(u);
	return r;
}

/* The host of a checked URL (curl_free), or NULL. */
static char *url_host(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK)
		curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_cleanup(u);
	return host;
}

int ca_smtp_server_check(const ca_smtp_server *srv, char **ret_server, ca_err *err)
{
	if (!srv)
		return ca_err_set(err, CA_EINVAL, "url", "no SMTP server given");
	char *server = NULL;
	int r = ca_smtp_url_check(srv->url, &server, err);
	if (!r) {
		char *host = url_host(srv->url);
		r = ca_mailnet_plaintext_check("smtp", server, host, srv->allow_plaintext, err);
		curl_free(host);
	}
	if (!r && ret_server)
		*ret_server = server;
	else
		free(server);
	return r;
}

int ca_smtp_send(const ca_smtp_server *srv, const char *from, const char *const *rcpt, size_t n_rcpt,
		 const char *text, size_t len, ca_err *err)
{
	char *server = NULL;
	int r = ca_smtp_server_check(srv, &server, err);
	if (r)
		return r;
	if (!plain_address(from, true))
		r = ca_err_set(err, CA_EINVAL, "from", "%s: '%s' is not an envelope sender address", server,
			       from ? from : "(null)");
	if (!r && n_rcpt == 0)
		r = ca_err_set(err, CA_EINVAL, "to", "%s: a message needs at least one recipient", server);
	for (size_t i = 0; !r && i < n_rcpt; i++)
		if (!plain_address(rcpt[i], false))
			r = ca_err_set(err, CA_EINVAL, "to", "%s: '%s' is not a recipient address", server,
				       rcpt[i] ? rcpt[i] : "(null)");
	if (!r && len > CA_MAILNET_MAX_MESSAGE)
		r = ca_err_set(err, CA_ETOOBIG, "message", "%s: the message has %zu bytes; the limit is %zu", server, len,
			       CA_MAILNET_MAX_MESSAGE);
	if (r) {
		free(server);
		return r;
	}
	ca_mailnet_global_init();
	CURL *c = curl_easy_init();
	struct curl_slist *to = NULL;
	ca_buf env = { 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	reader rd = { text, len };
	CURLcode rc = c ? CURLE_OK : CURLE_OUT_OF_MEMORY;
	for (size_t i = 0; rc == CURLE_OK && i < n_rcpt; i++) {
		ca_buf_reset(&env);
		struct curl_slist *n = ca_buf_printf(&env, "<%s>", rcpt[i]) < 0 ? NULL : curl_slist_append(to, env.data);
		if (!n)
			rc = CURLE_OUT_OF_MEMORY;
		else
			to = n;
	}
	ca_buf_reset(&env);
	if (rc == CURLE_OK && ca_buf_printf(&env, "<%s>", from) < 0)
		rc = CURLE_OUT_OF_MEMORY;
#define SET(opt, val) \
	if (rc == CURLE_OK) \
	rc = curl_easy_setopt(c, opt, val)
	SET(CURLOPT_URL, srv->url);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, STALL_TIMEOUT_S);
	/* TLS or nothing (mailnet.h): AUTH and the message never go in clear
	 * text, except to a server on this machine when asked. */
	SET(CURLOPT_USE_SSL, (long)(srv->allow_plaintext ? CURLUSESSL_TRY : CURLUSESSL_ALL));
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#endif
	SET(CURLOPT_MAIL_FROM, env.data);
	SET(CURLOPT_MAIL_RCPT, to);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_READFUNCTION, feed);
	SET(CURLOPT_READDATA, &rd);
	SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	if (srv->user) {
		SET(CURLOPT_USERNAME, srv->user);
		SET(CURLOPT_PASSWORD, srv->password ? srv->password : "");
	}
#undef SET
	if (rc == CURLE_OK)
		rc = curl_easy_perform(c);
	if (rc == CURLE_OUT_OF_MEMORY)
		r = ca_err_set(err, CA_ENOMEM, "smtp", "%s: out of memory", server);
	else if (rc == CURLE_USE_SSL_FAILED)
		r = ca_err_set(err, CA_EIO, "tls",
			       "%s: the server offers no TLS (STARTTLS), so nothing was sent: the login and the message "
			       "would cross the network in clear text. Use smtps:// or enable STARTTLS on the server; for a "
			       "test server on this machine only, --allow-plaintext permits it (%s)",
			       server, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else if (rc != CURLE_OK)
		r = ca_err_set(err, CA_EIO, "smtp", "%s: sending to %s%s failed: %s", server, n_rcpt ? rcpt[0] : "",
			       n_rcpt > 1 ? " and others" : "", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	curl_slist_free_all(to);
	ca_buf_done(&env);
	if (c)
		curl_easy_cleanup(c);
	free(server);
	return r;
}
