/* SPDX-License-Identifier: MIT */
/*
 * The wording of a knowledge draft's title and resolution, from text the
 * summariser or a person wrote and PII removal already went over. A title
 * is shown in lists and search results to readers who never see the
 * record, so it holds no placeholder: each "[PERSON]" or "[ORDER_NUMBER]"
 * is dropped with the words that only led to it, and a title that says
 * nothing without it gives way to a sentence of the issue that does. A
 * resolution states what was done or should be done: questions, deferrals
 * ("Let me check the payments on that order.") and pleasantries are no part
 * of it. Both work on words, sentence by sentence (ca_sentences), with
 * small closed phrase lists a support lead can read.
 */
#include "summary.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"

/* A title is cut near this many bytes, at a word boundary. */
#define TITLE_MAX 120
/* A title says something with at least this many words. */
#define TITLE_MIN_WORDS 3

/* ---- words ---- */

typedef struct word {
	size_t b, e; /* bytes of the original text */
	char low[24]; /* folded ASCII form, cut; typographic apostrophes as ' */
} word;

typedef struct words {
	word *v;
	size_t n, cap;
} words;

static bool w_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'' || c >= 0x80;
}

/* Split text[0..len) into words (letters, digits, apostrophes and any
 * non-ASCII byte; a placeholder "[TYPE]" is one word). CA_ENOMEM. */
static int split(const char *text, size_t len, words *out)
{
	out->n = 0;
	for (size_t i = 0; i < len;) {
		size_t b = i;
		unsigned char c = (unsigned char)text[i];

		if (c == '[') {
			size_t k = i + 1;
			while (k < len && ((text[k] >= 'A' && text[k] <= 'Z') || text[k] == '_'))
				k++;
			if (k > i + 1 && k < len && text[k] == ']')
				i = k + 1;
		}
		if (i == b) {
			if (!w_char(c)) {
				i++;
				continue;
			}
			while (i < len && w_char((unsigned char)text[i]))
				i++;
		}
		if (out->n == out->cap) {
			size_t nc = out->cap ? out->cap * 2 : 32;
			word *nv = realloc(out->v, nc * sizeof(*nv));
			if (!nv)
				return CA_ENOMEM;
			out->v = nv;
			out->cap = nc;
		}
		word *w = &out->v[out->n++];
		size_t k = 0;
		w->b = b;
		w->e = i;
		for (size_t j = b; j < i && k + 1 < sizeof(w->low); j++) {
			unsigned char ch = (unsigned char)text[j];
			if (ch == 0xE2 && j + 2 < i && (unsigned char)text[j + 1] == 0x80 && (unsigned char)text[j + 2] == 0x99) {
				w->low[k++] = '\'';
				j += 2;
			} else {
				w->low[k++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
			}
		}
		w->low[k] = '\0';
	}
	return 0;
}

static bool placeholder(const word *w)
{
	return w->low[0] == '[';
}

/* w is one of the "|"-separated forms of alts[0..n). */
static bool alt_is(const char *alts, size_t n, const char *w)
{
	size_t wl = strlen(w);
	while (n > 0) {
		const char *bar = memchr(alts, '|', n);
		size_t l = bar ? (size_t)(bar - alts) : n;
		if (l == wl && memcmp(alts, w, l) == 0)
			return true;
		if (!bar)
			break;
		n -= l + 1;
		alts = bar + 1;
	}
	return false;
}

/* Whether words v[at..] begin with phrase ("a|b c": words separated by
 * spaces, alternatives of one word by "|"); *ret_n (may be NULL) gets its
 * length. */
static bool phrase_at(const word *v, size_t n, size_t at, const char *phrase, size_t *ret_n)
{
	size_t k = 0;
	const char *p = phrase;
	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t l = sp ? (size_t)(sp - p) : strlen(p);
		if (at + k >= n || !alt_is(p, l, v[at + k].low))
			return false;
		k++;
		p += l;
		while (*p == ' ')
			p++;
	}
	if (ret_n)
		*ret_n = k;
	return true;
}

static bool only_pleasantries(const word *v, size_t n);

/* Whether one of phrases occurs in v[0..n); a phrase written "^..." only
 * where nothing but pleasantries ("please", "ok", "thanks") comes before. */
static bool any_phrase(const word *v, size_t n, const char *const *phrases)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; phrases[k]; k++) {
			const char *ph = phrases[k];
			if (*ph == '^' && !only_pleasantries(v, i))
				continue;
			if (phrase_at(v, n, i, ph + (*ph == '^'), NULL))
				return true;
		}
	return false;
}

/* ---- titles ---- */

/* Words that only lead to what follows: dropped with a placeholder right
 * after them ("at [STREET_ADDRESS]", "Dear [PERSON]", "my name is
 * [PERSON]"). Possessives stay: "My [PERSON] Matrix printer" is still "My
 * Matrix printer". */
static const char *const LEAD_INS[] = {
	"my name is", "name is", "this is", "it's|its", "it is", "i'm|im", "i am", "called|named", "dear", "hi|hello|hey",
	"mr|mrs|ms|miss|dr|sir|madam", "number|no|nr|num|id", "the|a|an", "at|from|to|in|on|with|for|of|by|via|near|into",
	"call|ring|phone|text|email|contact|dial|calling", "and|or", NULL,
};

/* Whether the words v[b..e) are one lead-in phrase. */
static bool lead_in(const word *v, size_t b, size_t e)
{
	for (size_t k = 0; LEAD_INS[k]; k++) {
		size_t n = 0;
		if (phrase_at(v, e, b, LEAD_INS[k], &n) && b + n == e)
			return true;
	}
	return false;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Append text[b..e) to out, collapsing runs of blanks and dropping a blank
 * before , . ! ? ; : and a doubled comma. */
static int put_tidy(ca_buf *out, const char *text, size_t b, size_t e)
{
	for (size_t i = b; i < e; i++) {
		char c = text[i];
		if (is_space(c)) {
			if (out->len && out->data[out->len - 1] != ' ' && ca_buf_puts(out, " ") < 0)
				return CA_ENOMEM;
			continue;
		}
		if (strchr(",.!?;:", c)) {
			while (out->len && out->data[out->len - 1] == ' ')
				out->data[--out->len] = '\0';
			/* ", ," or "( ," left by a dropped span */
			if (c == ',' && (!out->len || strchr(",(-", out->data[out->len - 1])))
				continue;
			if (out->len && out->data[out->len - 1] == ',' && strchr(".!?;:", c))
				out->data[--out->len] = '\0';
		}
		if (ca_buf_append(out, &c, 1) < 0)
			return CA_ENOMEM;
	}
	return 0;
}

/* Trim blanks and leading punctuation; strip trailing commas, dashes and
 * colons. */
static void trim(ca_buf *b)
{
	size_t s = 0;
	while (s < b->len && (is_space(b->data[s]) || strchr(",.;:-!?)", b->data[s])))
		s++;
	memmove(b->data, b->data + s, b->len - s + 1);
	b->len -= s;
	while (b->len && (is_space(b->data[b->len - 1]) || strchr(",;:-(", b->data[b->len - 1])))
		b->data[--b->len] = '\0';
}

/* text[0..len) without its placeholders, appended to out. */
static int drop_placeholders(const char *text, size_t len, words *w, ca_buf *out)
{
	int r = split(text, len, w);
	if (r < 0)
		return r;
	size_t from = 0; /* next byte of text to copy */
	for (size_t i = 0; i < w->n; i++) {
		if (!placeholder(&w->v[i]))
			continue;
		/* the longest lead-in phrase (up to three words) right before */
		size_t b = i;
		for (size_t k = 3; k >= 1; k--)
			if (i >= k && w->v[i - k].b >= from && lead_in(w->v, i - k, i)) {
				b = i - k;
				break;
			}
		size_t cut = b < i ? w->v[b].b : w->v[i].b;
		if ((r = put_tidy(out, text, from, cut)) < 0)
			return r;
		from = w->v[i].e;
		/* "[PERSON]'s pet store": the possessive goes with it */
		if (from + 1 < len && text[from] == '\'' && text[from + 1] == 's')
			from += 2;
	}
	return put_tidy(out, text, from, len);
}

static size_t count_words(const char *s)
{
	size_t n = 0;
	bool in = false;
	for (; *s; s++) {
		bool w = w_char((unsigned char)*s);
		n += w && !in;
		in = w;
	}
	return n;
}

/* Cut b near TITLE_MAX bytes at a word boundary, never inside UTF-8. */
static void cut(ca_buf *b)
{
	if (b->len <= TITLE_MAX)
		return;
	size_t n = TITLE_MAX;
	while (n > 40 && b->data[n] != ' ')
		n--;
	while (n < b->len && ((unsigned char)b->data[n] & 0xC0) == 0x80)
		n++;
	b->data[n] = '\0';
	b->len = n;
	trim(b);
}

int ca_summary_title(const char *title, const char *fallback, char **ret_title)
{
	if (!title || !ret_title)
		return CA_EINVAL;
	words w = { 0 };
	ca_buf out = { 0 };
	int r = drop_placeholders(title, strlen(title), &w, &out);
	if (!r && ca_buf_puts(&out, "") < 0)
		r = CA_ENOMEM;
	if (!r)
		trim(&out);
	/* Too little left: the first sentence of the fallback that says
	 * something without its placeholders. */
	if (!r && count_words(out.data) < TITLE_MIN_WORDS && fallback) {
		ca_span *sp = NULL;
		size_t ns = 0;
		r = ca_sentences(fallback, strlen(fallback), &sp, &ns);
		for (size_t i = 0; r == 0 && i < ns; i++) {
			ca_buf alt = { 0 };
			r = drop_placeholders(fallback + sp[i].begin, sp[i].end - sp[i].begin, &w, &alt);
			if (!r && ca_buf_puts(&alt, "") < 0)
				r = CA_ENOMEM;
			if (!r) {
				trim(&alt);
				if (count_words(alt.data) >= TITLE_MIN_WORDS) {
					ca_buf_done(&out);
					out = alt;
					break;
				}
			}
			ca_buf_done(&alt);
		}
		free(sp);
	}
	free(w.v);
	if (r) {
		ca_buf_done(&out);
		return r;
	}
	cut(&out);
	*ret_title = ca_buf_steal(&out);
	return *ret_title ? 0 : CA_ENOMEM;
}

/* ---- resolutions ---- */

/* A representative putting the answer off: checking, looking, asking the
 * customer to wait. Not a statement of anything done or to be done. */
static const char *const DEFERRALS[] = {
	"let me check|look|see|find|confirm|verify|pull|review|investigate|research|get|have|take|dig|double|quickly|just|go",
	"lemme check|look|see|find",
	"let us check|look|see|find|review|investigate|take",
	"let's|lets check|look|see|find|review|investigate|take|dig",
	/* "Let us know if it helps." asks; "I have refunded it, let me know
	 * if it does not arrive." states the refund */
	"^let me|us know",
	"i'll|ill|we'll|i'd|we'd check|look|see|find|confirm|verify|investigate|review|research|dig",
	"i|we will|would|shall check|look|see|find|confirm|verify|investigate|review|research|dig",
	"i|we can check|look|investigate|review|research|dig",
	"i'm|im|we're checking|looking|reviewing|investigating|researching|pulling",
	"i|we am|are checking|looking|reviewing|investigating|researching|pulling",
	"i'll|ill|we'll have|take a look", "i|we will have|take a look",
	"checking on|into|that|this|now|for",
	"one moment|minute|second|sec|mo", "just a moment|minute|second|sec|mo",
	"give me a|one|just moment|minute|second|sec|few",
	"please hold|wait|bear", "bear with me|us", "hold on|tight",
	NULL,
};

/* Words that carry nothing on their own in a resolution. */
static const char *const PLEASANTRIES =
	"hi|hello|hey|thanks|thank|you|welcome|so|much|very|great|ok|okay|sure|no|problem|worries|sorry|"
	"again|there|glad|to|help|have|a|nice|good|day|all|the|best|cheers|bye|take|care|for|your|patience|"
	"understand|i|we|that|this|is|it|of|and|apologize|apologise|inconvenience|trouble|any|please|so|just";

static bool only_pleasantries(const word *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!alt_is(PLEASANTRIES, strlen(PLEASANTRIES), v[i].low))
			return false;
	return true;
}

int ca_summary_resolution(const char *text, char **ret_resolution)
{
	if (!text || !ret_resolution)
		return CA_EINVAL;
	size_t len = strlen(text);
	ca_span *sp = NULL;
	size_t ns = 0;
	int r = ca_sentences(text, len, &sp, &ns);
	if (r < 0)
		return r;
	words w = { 0 };
	ca_buf out = { 0 };
	for (size_t i = 0; r == 0 && i < ns; i++) {
		const char *s = text + sp[i].begin;
		size_t sl = sp[i].end - sp[i].begin;
		if ((r = split(s, sl, &w)) < 0)
			break;
		/* a question asks; a deferral or a pleasantry states nothing */
		if (w.n == 0 || memchr(s, '?', sl) || any_phrase(w.v, w.n, DEFERRALS) || only_pleasantries(w.v, w.n))
			continue;
		if ((out.len && ca_buf_puts(&out, " ") < 0) || ca_buf_append(&out, s, sl) < 0)
			r = CA_ENOMEM;
	}
	free(sp);
	free(w.v);
	if (!r && !out.len)
		r = CA_ENOTFOUND;
	if (r) {
		ca_buf_done(&out);
		return r;
	}
	*ret_resolution = ca_buf_steal(&out);
	return *ret_resolution ? 0 : CA_ENOMEM;
}

/* ---- a case's proposed resolution ---- */

/* How much a line of each section says the case is resolved. */
static double section_weight(ca_summary_section s)
{
	switch (s) {
	case CA_SUM_OUTCOME:
		return 0.6;
	case CA_SUM_ACTIONS:
		return 0.35;
	case CA_SUM_NEXT_STEPS:
		return 0.25;
	default:
		return 0;
	}
}

/* The position of message `id` in msgs[0..n), n when absent. */
static size_t msg_index(const ca_msg *msgs, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (msgs[i].id && !strcmp(msgs[i].id, id))
			return i;
	return n;
}

int ca_summary_propose_resolution(const ca_msg *msgs, size_t n, unsigned max_lines, ca_summary *out, char **ret_text,
				  double *ret_confidence, ca_err *err)
{
	if ((!msgs && n) || !out || !ret_text || !ret_confidence)
		return CA_EINVAL;
	if (!max_lines)
		max_lines = 4;
	ca_summary sum = { 0 };
	int r = ca_summarize(msgs, n, max_lines, &sum, err);
	if (r)
		return r;
	/* The representative's lines in thread order (ca_summarize gives
	 * them by section): message, then byte offset. */
	size_t *ord = calloc(sum.n ? sum.n : 1, sizeof(*ord)), *pos = calloc(sum.n ? sum.n : 1, sizeof(*pos));
	char **said = calloc(max_lines, sizeof(*said));
	ca_summary res = { .lines = calloc(max_lines, sizeof(ca_summary_line)) };
	size_t k = 0;
	if (!ord || !pos || !said || !res.lines)
		r = CA_ENOMEM;
	for (size_t i = 0; !r && i < sum.n; i++) {
		const ca_summary_line *l = &sum.lines[i];
		if (l->role != CA_ROLE_AGENT || section_weight(l->section) <= 0)
			continue;
		size_t at = msg_index(msgs, n, l->msg_id), j = k;
		while (j > 0 && (pos[j - 1] > at || (pos[j - 1] == at && sum.lines[ord[j - 1]].begin > l->begin))) {
			ord[j] = ord[j - 1];
			pos[j] = pos[j - 1];
			j--;
		}
		ord[j] = i;
		pos[j] = at;
		k++;
	}
	ca_buf text = { 0 };
	double miss = 1;
	for (size_t j = 0; !r && j < k && res.n < max_lines; j++) {
		ca_summary_line *l = &sum.lines[ord[j]];
		char *st = NULL;
		if ((r = ca_summary_resolution(l->text, &st)) == CA_ENOTFOUND) {
			r = 0;
			continue; /* "let me check" resolves nothing */
		}
		bool again = false;
		for (size_t s = 0; !r && s < res.n && !again; s++)
			again = !strcmp(said[s], st);
		if (r || again) {
			free(st);
			continue;
		}
		if ((text.len && ca_buf_puts(&text, " ") < 0) || ca_buf_puts(&text, st) < 0) {
			free(st);
			r = CA_ENOMEM;
			break;
		}
		said[res.n] = st;
		res.lines[res.n++] = *l; /* the line moves: sum no longer frees it */
		l->text = l->msg_id = NULL;
		miss *= 1 - section_weight(l->section);
	}
	for (size_t s = 0; s < res.n; s++)
		free(said[s]);
	free(said);
	free(ord);
	free(pos);
	ca_summary_done(&sum);
	char *joined = NULL;
	if (!r && text.len && !(joined = ca_buf_steal(&text)))
		r = CA_ENOMEM;
	if (r) {
		if (err && !err->code)
			ca_err_set(err, r, NULL, "out of memory");
		ca_buf_done(&text);
		ca_summary_done(&res);
		return r;
	}
	ca_buf_done(&text);
	if (!res.n) {
		free(res.lines);
		res.lines = NULL;
	}
	*out = res;
	*ret_text = joined;
	*ret_confidence = res.n ? 1 - miss : 0;
	return 0;
}
