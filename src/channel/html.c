/* SPDX-License-Identifier: MIT */
/*
 * HTML to plain text for HTML-only e-mail bodies: libxml2's lenient HTML
 * parser builds the tree (no network, no error output, the document's own
 * <meta charset> ignored because the caller has already converted the bytes to
 * UTF-8), and an iterative walk writes the text with block elements as line
 * breaks, script/style/head dropped and whitespace collapsed the way a
 * browser renders it. Iterative so a deeply nested document cannot exhaust
 * the stack; linear in the size of the tree.
 */
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include "email.h"

typedef struct out {
	ca_buf b;
	unsigned nl;       /* newlines at the end of b (0 = mid-line) */
	bool space;        /* a collapsed space is pending */
	unsigned pre;      /* depth inside <pre>/<textarea> */
	int err;
} out;

enum { EL_OTHER, EL_SKIP, EL_BLOCK, EL_PARA, EL_BR, EL_CELL, EL_LI, EL_PRE };

/* Elements by kind, sorted by name for bsearch. Skipped: content a reader
 * never sees; paragraph and block elements break the text around them. */
typedef struct element {
	const char *name;
	int kind;
} element;

static const element elements[] = {
	{ "address", EL_BLOCK }, { "article", EL_BLOCK }, { "aside", EL_BLOCK }, { "blockquote", EL_PARA },
	{ "body", EL_BLOCK }, { "br", EL_BR }, { "caption", EL_BLOCK }, { "center", EL_BLOCK },
	{ "dd", EL_BLOCK }, { "details", EL_BLOCK }, { "div", EL_BLOCK }, { "dl", EL_BLOCK },
	{ "dt", EL_BLOCK }, { "fieldset", EL_BLOCK }, { "figcaption", EL_BLOCK }, { "figure", EL_BLOCK },
	{ "footer", EL_BLOCK }, { "form", EL_BLOCK }, { "h1", EL_PARA }, { "h2", EL_PARA }, { "h3", EL_PARA },
	{ "h4", EL_PARA }, { "h5", EL_PARA }, { "h6", EL_PARA }, { "head", EL_SKIP }, { "header", EL_BLOCK },
	{ "hr", EL_BLOCK }, { "html", EL_BLOCK }, { "iframe", EL_SKIP }, { "li", EL_LI },
	{ "main", EL_BLOCK }, { "math", EL_SKIP }, { "nav", EL_BLOCK }, { "noscript", EL_SKIP },
	{ "object", EL_SKIP }, { "ol", EL_BLOCK }, { "p", EL_PARA }, { "pre", EL_PRE }, { "script", EL_SKIP },
	{ "section", EL_BLOCK }, { "style", EL_SKIP }, { "summary", EL_BLOCK }, { "svg", EL_SKIP },
	{ "table", EL_PARA }, { "tbody", EL_BLOCK }, { "td", EL_CELL }, { "template", EL_SKIP },
	{ "textarea", EL_PRE }, { "tfoot", EL_BLOCK }, { "th", EL_CELL }, { "thead", EL_BLOCK },
	{ "title", EL_SKIP }, { "tr", EL_BLOCK }, { "ul", EL_BLOCK }
};

static int element_cmp(const void *key, const void *e)
{
	return strcmp(key, ((const element *)e)->name);
}

/* HTML names are ASCII and case-insensitive; none listed is longer than 10. */
static int element_kind(const char *name)
{
	char low[16];
	size_t i = 0;
	for (; name[i]; i++) {
		if (i + 1 == sizeof(low))
			return EL_OTHER;
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	}
	low[i] = '\0';
	const element *e = bsearch(low, elements, CA_ARRAY_SIZE(elements), sizeof(*elements), element_cmp);
	return e ? e->kind : EL_OTHER;
}

static void put(out *o, const char *p, size_t n)
{
	if (!o->err && ca_buf_append(&o->b, p, n) < 0)
		o->err = CA_ENOMEM;
}

/* Make sure the text ends with at least `want` line breaks (max 2), unless
 * nothing has been written yet. */
static void breakline(out *o, unsigned want)
{
	o->space = false;
	if (o->b.len == 0)
		return;
	while (o->nl < want && o->nl < 2) {
		put(o, "\n", 1);
		o->nl++;
	}
}

static void text(out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = 1;
		bool ws = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v';
		if (p[0] == 0xC2 && p[1] == 0xA0) { /* U+00A0 no-break space reads as a space */
			ws = true;
			n = 2;
		}
		if (o->pre) {
			if (*p == '\r') {
				p++;
				continue;
			}
			if (ws && n == 2)
				put(o, " ", 1);
			else
				put(o, (const char *)p, n);
			o->nl = *p == '\n' ? o->nl + 1 : 0;
			o->space = false;
		} else if (ws) {
			o->space = true;
		} else {
			if (o->space && o->nl == 0 && o->b.len > 0)
				put(o, " ", 1);
			o->space = false;
			put(o, (const char *)p, n);
			o->nl = 0;
		}
		p += n;
	}
}

static void enter(out *o, int kind)
{
	switch (kind) {
	case EL_PARA: breakline(o, 2); break;
	case EL_BLOCK: breakline(o, 1); break;
	case EL_PRE:
		breakline(o, 1);
		o->pre++;
		break;
	case EL_LI:
		breakline(o, 1);
		put(o, "- ", 2);
		o->nl = 0;
		break;
	case EL_BR:
		/* <br> is a hard break even on an empty line, but never more than
		 * two in a row so spacer markup does not become a page of blanks. */
		o->space = false;
		if (o->nl < 2) {
			put(o, "\n", 1);
			o->nl++;
		}
		break;
	case EL_CELL: o->space = true; break;
	default: break;
	}
}

static void leave(out *o, int kind)
{
	switch (kind) {
	case EL_PARA: breakline(o, 2); break;
	case EL_BLOCK:
	case EL_LI: breakline(o, 1); break;
	case EL_PRE:
		if (o->pre)
			o->pre--;
		breakline(o, 1);
		break;
	case EL_CELL: o->space = true; break;
	default: break;
	}
}

static int node_kind(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE && n->name ? element_kind((const char *)n->name) : EL_OTHER;
}

char *ca_html_to_text(const char *html, size_t len)
{
	if (!html || len == 0)
		return ca_strdup("");
	ca_email_global_init();
	/* htmlReadMemory takes an int size; a larger body is cut at INT_MAX. */
	int n = len > INT_MAX ? INT_MAX : (int)len;
	htmlDocPtr doc = htmlReadMemory(html, n, NULL, "UTF-8",
					HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
						HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC);
	if (!doc)
		return ca_strdup("");
	out o = { .nl = 0 };
	ca_buf_init(&o.b);
	xmlNode *root = (xmlNode *)doc;
	xmlNode *cur = root->children;
	while (cur && !o.err) {
		int kind = node_kind(cur);
		bool descend = true;
		if (cur->type == XML_ELEMENT_NODE) {
			if (kind == EL_SKIP)
				descend = false;
			else
				enter(&o, kind);
		} else if (cur->type == XML_TEXT_NODE || cur->type == XML_CDATA_SECTION_NODE) {
			if (cur->content)
				text(&o, (const char *)cur->content);
			descend = false;
		} else {
			descend = false; /* comments, DTD, processing instructions */
		}
		if (descend && cur->children) {
			cur = cur->children;
			continue;
		}
		/* Leave this node and every ancestor that has no next sibling. */
		for (;;) {
			if (cur->type == XML_ELEMENT_NODE && kind != EL_SKIP)
				leave(&o, kind);
			if (cur->next) {
				cur = cur->next;
				break;
			}
			cur = cur->parent;
			if (!cur || cur == root) {
				cur = NULL;
				break;
			}
			kind = node_kind(cur);
		}
	}
	xmlFreeDoc(doc);
	if (o.err) {
		ca_buf_done(&o.b);
		return NULL;
	}
	/* Trim: trailing whitespace of the last line and all trailing breaks. */
	while (o.b.len > 0 && strchr(" \t\n", o.b.data[o.b.len - 1]))
		o.b.data[--o.b.len] = '\0';
	return ca_buf_steal(&o.b);
}
