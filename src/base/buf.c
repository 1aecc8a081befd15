/* SPDX-License-Identifier: MIT */
/* Growable byte buffers and owned string vectors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base.h"

void ca_buf_init(ca_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void ca_buf_done(ca_buf *b)
{
	free(b->data);
	ca_buf_init(b);
}

void ca_buf_reset(ca_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int reserve(ca_buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		return CA_ENOMEM;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	char *p = realloc(b->data, cap);
	if (!p)
		return CA_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int ca_buf_append(ca_buf *b, const void *p, size_t n)
{
	if (reserve(b, n) < 0)
		return CA_ENOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int ca_buf_puts(ca_buf *b, const char *s)
{
	return ca_buf_append(b, s, strlen(s));
}

int ca_buf_printf(ca_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return CA_EINVAL;
	if (reserve(b, (size_t)n) < 0)
		return CA_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *ca_buf_steal(ca_buf *b)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	ca_buf_init(b);
	return p;
}

int ca_strv_push(ca_strv *sv, const char *s)
{
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 8;
		char **v = realloc(sv->v, cap * sizeof(*v));
		if (!v)
			return CA_ENOMEM;
		sv->v = v;
		sv->cap = cap;
	}
	char *d = strdup(s);
	if (!d)
		return CA_ENOMEM;
	sv->v[sv->n++] = d;
	return 0;
}

void ca_strv_done(ca_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

bool ca_strv_contains(const ca_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}
