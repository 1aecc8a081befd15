/* SPDX-License-Identifier: MIT */
/*
 * The person-name recogniser. The text is cut into word tokens (Unicode
 * letters, PCRE2), each looked up folded in the lexicon (common word,
 * proper noun, census given name or surname) and among the contacts' names.
 * Evidence for a name, strongest first:
 *   - a contact's full name, or a part of one, written capitalised;
 *   - a cue right before: "my name is", "call me", "Dear", "Mr."/"Ms."/
 *     "Dr.", "Name:", a sign-off line ("Thanks,\nAnn"); weaker ones such as
 *     "I'm", "this is", "says", "spoke to"; a request to call, ring, ask
 *     or tell someone before a known given name ("Please call John Smith
 *     back");
 *   - a run of capitalised tokens that are not common words, led by a
 *     known given name ("Leonard Arntsen"), or made of two or three words
 *     no English word list knows ("Tomomi Nishiyama");
 *   - a chat speaker label at the start of a line ("Ann: hello"), a name
 *     alone on the first line of a signature block;
 * and, once some names are found, the other members of a list they are in
 * ("Ann, Bob and Chen") and other mentions of the same words. Capitalised
 * common words ("I Need Help") never make a name on their own; a place
 * (ISO 3166 countries and regions, tzdata cities), an organisation word
 * after a run ("Ltd", "Inc"), a title-case line, a handle ("@Delta") or a
 * brand-like capital inside a word ("WiFi") unmakes one. In a text written
 * all in lower case, words are read as if capitalised but need a given
 * name or a cue. Every rule adds to a confidence; ca_pii_find keeps what
 * reaches its floor. Work is linear in the number of tokens.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "text.h"

enum shape { SH_LOWER, SH_CAP, SH_UPPER, SH_INITIAL, SH_OTHER };

typedef struct tok {
	uint32_t b, e;
	char *fold;
	unsigned lx;
	bool contact;
	bool sent;     /* first word of a sentence or line */
	bool line;     /* first word of a line */
	bool hyphen;   /* "Jean-Luc", "Fritz-Armstrong" */
	bool handle;   /* "@AzureSupport", "#help": a handle or tag, no name */
	bool func;     /* a function word or contraction ("My", "I'm") */
	uint8_t shape;
} tok;

int pii_names_init(ca_pii *p, ca_err *err)
{
	int r = pii_compile("[\\p{L}\\p{M}]+(?:['\\x{2019}](?![sS]\\b)[\\p{L}\\p{M}]+)*(?:-[\\p{L}\\p{M}]+)*", 0,
			    &p->re_word, err);

	if (r == 0)
		r = pii_compile("\\p{Lu}", 0, &p->re_upper_start, err);
	if (r == 0)
		r = pii_compile("[\\p{Lu}\\p{M}'\\x{2019}\\-]+", 0, &p->re_all_upper, err);
	return r;
}

/* ---- word classes ---- */

static const char *const particles[] = {
	"van", "von", "de", "der", "den", "ten", "ter", "da", "di", "du", "le", "la", "del", "della", "dos",
	"das", "do", "bin", "ibn", "al", "el", "y", "af", "zu", NULL,
};
/* Capitalised words that are never part of a name: titles are cues, and
 * the rest are the words of forms and greetings. */
static const char *const never_name[] = {
	"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "dear", "hi", "hello", "hey", "thanks",
	"regards", "christmas", "easter", "god", "ok", "okay", "yes", "no", "please", "thank", "name", "phone",
	"mobile", "email", "e-mail", "fax", "address", "date", "subject", "re", "fw", "fwd", "cc", "bcc", "to",
	"from", "sent", "tel", "website", "ceo", "cto", "cfo", "i", "dds", "phd", "md", "jr", "sr", NULL,
};
/* Calendar words: a date, not a name, when they stand alone. */
static const char *const calendar[] = {
	"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
	"november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
	"dec", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", NULL,
};
static const char *const weekdays[] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", NULL,
};
/* Words right before a single capitalised word that make it a thing. */
static const char *const determiners[] = {
	"my", "your", "our", "their", "his", "her", "its", "this", "that", "these", "those", "any", "every", NULL,
};
/* Words at or after the end of a run that make it an organisation. */
static const char *const org_words[] = {
	"inc", "ltd", "llc", "llp", "corp", "corporation", "co", "company", "gmbh", "ag", "sa", "plc", "group",
	"holdings", "partners", "associates", "labs", "solutions", "systems", "technologies", "bank",
	"university", "college", "institute", "foundation", "hotel", "restaurant", "agency", "ventures",
	"capital", "consulting", "international", "industries", "enterprises", "sons", "limited", "pty",
	"bv", "nv", "srl", "spa", "oy", "ab", "as", "kg", "orchestra", "band", "records", "studios",
	"media", "motors", "airlines", "lines", "insurance", "ratings", "analytics", "software", "services",
	"school", "church", "hospital", "club", "team", "society", "council", "ministry", "department", NULL,
};
/* First words of place names. */
static const char *const place_starts[] = {
	"san", "santa", "santo", "sao", "los", "las", "saint", "sainte", "port", "porto", "fort", "mount",
	"mont", "monte", "lake", "new", "north", "south", "east", "west", "upper", "lower", "bad", "villa",
	"puerto", "rio", "ciudad", "colle", "quinta", "isla", "cape", "costa", "playa", "castel", "villeneuve",
	NULL,
};

static bool in_list(const char *w, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(w, list[i]) == 0)
			return true;
	return false;
}

/* A word that may be part of a name: a contact's, a census name, or not a
 * common English word. */
static bool namey(const tok *t)
{
	return t->contact || (t->lx & (LX_GIVEN | LX_SURNAME)) || !(t->lx & LX_COMMON);
}

static bool given(const tok *t)
{
	return t->contact || (t->lx & LX_GIVEN);
}

/* Not in any list: no English word, no proper noun we know. */
static bool oov(const tok *t)
{
	return !t->contact && !(t->lx & (LX_GIVEN | LX_SURNAME | LX_COMMON | LX_PROPER | LX_PLACE | LX_COUNTRY));
}

/* Only known as a proper noun that is not a census name: likely a place
 * or a brand. */
static bool proper_only(const tok *t)
{
	return !t->contact && (t->lx & (LX_PROPER | LX_PLACE | LX_COUNTRY)) && !(t->lx & (LX_GIVEN | LX_SURNAME));
}

/* A country, or a region or city that is not also a given name ("Mary"
 * is a Turkmen province, "Victoria" an Australian state). */
static bool place(const tok *t)
{
	return !t->contact && ((t->lx & LX_COUNTRY) || ((t->lx & LX_PLACE) && !(t->lx & LX_GIVEN)));
}

/* ---- tokens ---- */

static bool utf8_single_char(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	size_t want = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;

	return n == want;
}

/* Sentence or line start: only bullets and blanks back to a line break,
 * or quotes and brackets back to sentence punctuation that does not end an
 * abbreviation. */
static void starts(const char *text, size_t b, bool *ret_sent, bool *ret_line)
{
	size_t q = b;

	*ret_sent = *ret_line = false;
	if (pii_line_start(text, b)) {
		*ret_sent = *ret_line = true;
		return;
	}
	while (q > 0 && (text[q - 1] == ' ' || text[q - 1] == '\t' || text[q - 1] == '"' || text[q - 1] == '(' ||
			 text[q - 1] == '\''))
		q--;
	if (q == 0) {
		*ret_sent = true;
		return;
	}
	if (text[q - 1] == '!' || text[q - 1] == '?' || text[q - 1] == ':' || text[q - 1] == ';') {
		*ret_sent = true;
		return;
	}
	if (text[q - 1] == '.') {
		/* "Mr. Smith", "J. Smith": a short capitalised word before the dot
		 * is an abbreviation, not a sentence end */
		size_t w = q - 1;

		while (w > 0 && pii_alnum((unsigned char)text[w - 1]))
			w--;
		*ret_sent = (q - 1 - w) > 3 || (q - 1 - w) == 0 ||
			    ((q - 1 - w) >= 2 && !(text[w] >= 'A' && text[w] <= 'Z'));
	}
}

static void toks_free(tok *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i].fold);
	free(t);
}

/* "i'm", "don't", "we'll": not "o'brien". */
static bool contraction(const char *fold)
{
	static const char *const tails[] = {"'m", "'re", "'ve", "'ll", "'d", "n't", "\xe2\x80\x99m",
					    "\xe2\x80\x99re", "\xe2\x80\x99ve", "\xe2\x80\x99ll", "n\xe2\x80\x99t", NULL};
	size_t n = strlen(fold);

	for (size_t i = 0; tails[i]; i++) {
		size_t m = strlen(tails[i]);

		if (n > m && strcmp(fold + n - m, tails[i]) == 0)
			return true;
	}
	return false;
}

static unsigned lookup(const ca_pii *p, const char *fold)
{
	const char *dash = strchr(fold, '-');
	unsigned fl = lx_flags(p->lx, fold);

	/* function words and contractions are never names, whatever a census
	 * list says ("My", "I'm") */
	if (ca_stopword(fold) || contraction(fold))
		return LX_COMMON;
	if (fl || !dash)
		return fl;
	/* hyphenated: common when its parts are ("Well-Known"), a name when a
	 * part is one ("Jean-Luc") */
	unsigned all = LX_COMMON, any = 0;
	const char *s = fold;

	for (;;) {
		const char *d = strchr(s, '-');
		size_t n = d ? (size_t)(d - s) : strlen(s);
		unsigned f = p->lx ? lx_map_get(&p->lx->map, s, n) : 0;

		if (!(f & LX_COMMON))
			all = 0;
		any |= f & (LX_GIVEN | LX_SURNAME);
		if (!d)
			break;
		s = d + 1;
	}
	return all | any;
}

/* "UFOs", "WiFi", "DropboxSupport": capitals inside a word make an
 * acronym or a brand, except after name prefixes ("McDowell",
 * "MacArthur", "DeShawn", "O'Brien"). `caps` is the byte length of the
 * leading capitals. */
static bool camel(const char *w, size_t n, size_t caps)
{
	static const char *const prefixes[] = {"Mc", "Mac", "De", "Le", "La", "Di", "Da", "Van", "Von", "St", "Du", NULL};
	unsigned char c = (unsigned char)w[0];
	size_t first = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;

	/* "O'Neil", "D’Arcy": the apostrophe ends a prefix, not a capital run */
	if (caps > first && n > first + 1 && w[first] == '\'' && caps == first + 2)
		caps = first;
	else if (caps > first && n > first + 3 && memcmp(w + first, "\xe2\x80\x99", 3) == 0 && caps == first + 4)
		caps = first;
	if (caps > first)
		return true;
	for (size_t i = 1; i < n; i++) {
		if (!(w[i] >= 'A' && w[i] <= 'Z') || w[i - 1] == '\'' || w[i - 1] == '-')
			continue;
		for (size_t k = 0; prefixes[k]; k++)
			if (strlen(prefixes[k]) == i && strncmp(w, prefixes[k], i) == 0)
				return false;
		return true;
	}
	return false;
}

static int tokenize(const ca_pii *p, const char *text, size_t len, tok **ret, size_t *ret_n)
{
	pcre2_match_data *md = pcre2_match_data_create(8, NULL);
	tok *v = NULL;
	size_t n = 0, cap = 0, pos = 0, b, e;
	int r = 0;

	if (!md)
		return CA_ENOMEM;
	while (pii_next(p->re_word, md, text, len, &pos, &b, &e)) {
		tok t = {.b = (uint32_t)b, .e = (uint32_t)e};
		size_t m;

		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			tok *nv = realloc(v, nc * sizeof *nv);

			if (!nv) {
				r = CA_ENOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		t.fold = pii_fold(text + b, e - b);
		if (!t.fold) {
			r = CA_ENOMEM;
			break;
		}
		t.lx = lookup(p, t.fold);
		/* without a word list, a word not known as a name is no evidence */
		if (!(p->lx && p->lx->n_common > 0) && !(t.lx & (LX_GIVEN | LX_SURNAME)))
			t.lx |= LX_COMMON;
		t.contact = lx_map_get(&p->contact_tokens, t.fold, strlen(t.fold)) != 0;
		t.hyphen = strchr(t.fold, '-') != NULL;
		t.handle = b > 0 && (text[b - 1] == '@' || text[b - 1] == '#');
		t.func = ca_stopword(t.fold) || contraction(t.fold);
		if (pii_match_at(p->re_upper_start, md, text, len, b) > 0) {
			m = pii_match_at(p->re_all_upper, md, text, len, b);
			if (utf8_single_char(text + b, e - b))
				t.shape = SH_INITIAL;
			else if (m >= e)
				t.shape = SH_UPPER;
			else if (camel(text + b, e - b, m - b))
				t.shape = SH_OTHER;
			else
				t.shape = SH_CAP;
		} else {
			m = 0;
			for (size_t i = b; i < e; i++)
				if (text[i] >= 'A' && text[i] <= 'Z')
					m = 1;
			t.shape = m ? SH_OTHER : SH_LOWER;
		}
		starts(text, b, &t.sent, &t.line);
		v[n++] = t;
	}
	pcre2_match_data_free(md);
	if (r < 0) {
		toks_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Tokens i and i + 1 are joined by one or two spaces, or by ". " after an
 * initial. */
static bool joined(const char *text, const tok *t, size_t i)
{
	uint32_t a = t[i].e, z = t[i + 1].b;

	if (t[i].e - t[i].b == 1 && a < z && text[a] == '.')
		a++;
	if (z - a < 1 || z - a > 2)
		return false;
	for (uint32_t k = a; k < z; k++)
		if (text[k] != ' ')
			return false;
	return true;
}

/* ---- cues ---- */

enum { CUE_NONE, CUE_VERB, CUE_WEAK, CUE_STRONG };

static const char *const strong_cues[] = {
	"my name is", "my name's", "name is", "name's", "name:", "names are", "call me", "dear", "mr.", "mr", "mrs.", "mrs", "ms.", "ms", "miss", "mx.", "dr.", "dr", "prof.",
	"sir", "madam", "signed", "surname:", "surname is", "first name:", "last name:", "full name:",
	"attn:", "attention:", "name?", "i am called", "known as", "calls me", NULL,
};
static const char *const weak_cues[] = {
	"i'm", "i\xe2\x80\x99m", "i am", "this is", "it's", "it is", "says", "said", "ask for", "asked for",
	"speak to", "spoke to", "speak with", "spoke with", "talk to", "talked to", "talking to",
	"assistant to", "meet", "met", "thanks", "thank you", "hi", "hello", "hey", "thanks,", "thank you,",
	"hi,", "hello,", "hey,", "cheers,", "son", "daughter",
	"wife", "husband", "kid", "child", "partner", "friend", "brother", "sister", "mother", "father",
	"mom", "dad", "colleague", "manager", "boss", "add", "remove", "starring", "directed by",
	"featuring", "features", "under", "cc", "contact", "follow up with", "regards", "grandfather",
	"grandmother", "heard", "producer", "songwriter", "player", "founders:", "including", "via", "by",
	"customer", "client", "agent", "representative", "rep", "technician", "engineer", "doctor", "called",
	"named", NULL,
};
/* Asking for someone to be called, told or asked: a name follows
 * ("Please call John Smith back", "ask Kevin Doyle"), but so may a firm
 * ("call Apple"), so these count only before a census given name. */
static const char *const verb_cues[] = {
	"call", "ring", "phone", "text", "email", "e-mail", "message", "tell", "ask", "have", "let",
	"put me through to", "transfer me to", "connect me to", "contact", "neighbour", "neighbor",
	"left with", "signed for by", "helped by", "served by", "seen by", NULL,
};
static const char *const closings[] = {
	"thanks,", "thank you,", "regards,", "best regards,", "kind regards,", "warm regards,", "best,",
	"cheers,", "sincerely,", "yours sincerely,", "yours truly,", "yours,", "respectfully,", "br,",
	"thanks!", "thank you!", "--", "thanks", "regards", "cheers", "best", NULL,
};
static const char *const after_cues[] = {
	"said", "says", "asked", "replied", "wrote", "shouted", "explained", "told", "spent", "lives",
	"listed", "began", "is from", "will be", "had given", "flew", "called", "emailed", "phoned", NULL,
};
/* Before a single word these words point to a place. */
static const char *const place_preps[] = {"in", "near", "into", "across", "around", "visit", "visiting", NULL};
/* Before a run these words point to an organisation. */
static const char *const org_cues[] = {
	"work for", "works for", "worked for", "working for", "work at", "works at", "worked at",
	"working at", "employed by", "employed at", "company", "firm", "joined", NULL,
};

static char lc(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Whether text just before `pos` (spaces skipped; newlines too when
 * `lines`) ends with one of the cues as whole words. */
static bool ends_with_cue(const char *text, size_t pos, const char *const *cues, bool lines)
{
	size_t q = pos;

	while (q > 0 && (text[q - 1] == ' ' || text[q - 1] == '\t' ||
			 (lines && (text[q - 1] == '\n' || text[q - 1] == '\r'))))
		q--;
	for (size_t c = 0; cues[c]; c++) {
		size_t n = strlen(cues[c]), k;

		if (n > q)
			continue;
		for (k = 0; k < n; k++)
			if (lc(text[q - n + k]) != cues[c][k])
				break;
		if (k < n)
			continue;
		if (q - n > 0 && pii_alnum((unsigned char)text[q - n - 1]) && pii_alnum((unsigned char)cues[c][0]))
			continue;
		return true;
	}
	return false;
}

static int cue_before(const char *text, const tok *t)
{
	if (ends_with_cue(text, t->b, strong_cues, false))
		return CUE_STRONG;
	/* a sign-off, then the name on its own line */
	if (t->line && ends_with_cue(text, t->b, closings, true))
		return CUE_STRONG;
	if (ends_with_cue(text, t->b, weak_cues, false))
		return CUE_WEAK;
	if (ends_with_cue(text, t->b, verb_cues, false))
		return CUE_VERB;
	return CUE_NONE;
}

/* The (folded) word right before token i, if only spaces lie between. */
static const char *prev_lower(const char *text, const tok *t, size_t i)
{
	if (i == 0 || (t[i - 1].shape != SH_LOWER && t[i - 1].shape != SH_CAP))
		return NULL;
	for (uint32_t k = t[i - 1].e; k < t[i].b; k++)
		if (text[k] != ' ')
			return NULL;
	return t[i - 1].fold;
}

/* ---- scoring runs ---- */

typedef struct ctx {
	const ca_pii *p;
	const char *text;
	size_t len;
	tok *t;
	size_t n;
	ca_pii_spans *out;
	bool multiline;
	bool lower_text;       /* no capital letter anywhere: capitals tell nothing */
	bool words;            /* the lexicon has a word list */
	float *best;           /* per token: the surest PERSON span over it so far */
	bool *title;           /* per token: its line is in title case */
	bool *listed;          /* per token: a list it is in was looked at */
	size_t first_line_end; /* end of the first non-empty line */
} ctx;

/* Capitalised, or any word of a text written all in lower case. */
static bool capish(const ctx *c, const tok *t)
{
	return t->shape == SH_CAP || (c->lower_text && t->shape == SH_LOWER);
}

/* A capitalised word that is no function word, handle, weekday, title or
 * organisation word. */
static bool plain_cap(const ctx *c, const tok *t)
{
	return capish(c, t) && !t->handle && !t->func && !in_list(t->fold, weekdays) &&
	       !in_list(t->fold, never_name) && !in_list(t->fold, org_words) &&
	       !(c->lower_text && in_list(t->fold, particles)) && t->e - t->b >= 2;
}

static bool run_member(const ctx *c, const tok *t)
{
	return plain_cap(c, t) && namey(t);
}

/* Whether tokens i..j spell a contact's full name (folded). */
static bool contact_full(const ctx *c, size_t i, size_t j)
{
	for (size_t k = 0; k < c->p->n_names; k++) {
		const pii_name *nm = &c->p->names[k];
		size_t a = i, m = 0;

		if (nm->n < 2)
			continue;
		while (a <= j && m < nm->n && strcmp(c->t[a].fold, nm->tok[m]) == 0) {
			a++;
			m++;
		}
		if (m == nm->n)
			return true;
	}
	return false;
}

/* The run's words joined by spaces is a place name ("Los Angeles"). */
static bool run_is_place(const ctx *c, size_t i, size_t j)
{
	char buf[256];
	size_t n = 0;

	for (size_t k = i; k <= j; k++) {
		size_t m = strlen(c->t[k].fold);

		if (n + m + 2 > sizeof buf)
			return false;
		if (k > i)
			buf[n++] = ' ';
		memcpy(buf + n, c->t[k].fold, m);
		n += m;
	}
	buf[n] = '\0';
	return c->p->lx && (lx_flags(c->p->lx, buf) & (LX_PLACE | LX_COUNTRY));
}

/* Is the run i..j alone on its line (blanks and closing punctuation
 * aside)? */
static bool alone_on_line(const ctx *c, size_t i, size_t j)
{
	size_t e = c->t[j].e;

	if (!c->t[i].line)
		return false;
	while (e < c->len && (c->text[e] == ' ' || c->text[e] == ',' || c->text[e] == '.' || c->text[e] == '\r'))
		e++;
	return e == c->len || c->text[e] == '\n';
}

/* Speaker label: "Ann: what ..." or 'Ann:"...' at a line start. */
static bool speaker_label(const ctx *c, size_t i, size_t j)
{
	size_t e = c->t[j].e;

	if (!c->t[i].line || e + 2 >= c->len || c->text[e] != ':')
		return false;
	if (c->text[e + 1] == '"')
		return true;
	/* speech follows, not a number ("Phone: +41 ...") */
	return c->text[e + 1] == ' ' && ((unsigned char)c->text[e + 2] >= 0x80 || (c->text[e + 2] >= 'A' && c->text[e + 2] <= 'Z') ||
					 (c->text[e + 2] >= 'a' && c->text[e + 2] <= 'z') || c->text[e + 2] == '"');
}

/* Mark the tokens of lines in "title case" (most words capitalised,
 * half of those common words that are no names): capitals tell no names
 * there. One pass over the tokens. */
static void mark_titles(ctx *c)
{
	for (size_t lo = 0; lo < c->n;) {
		size_t hi = lo, caps = 0, commons = 0, words = 0;

		while (hi + 1 < c->n && !c->t[hi + 1].line)
			hi++;
		for (size_t k = lo; k <= hi; k++) {
			if (c->t[k].e - c->t[k].b < 4)
				continue; /* short function words are often lower case in titles */
			words++;
			if (c->t[k].shape == SH_CAP) {
				caps++;
				/* capitalised common words that are no names, past the first */
				if (k > lo && !c->t[k].sent && !namey(&c->t[k]))
					commons++;
			}
		}
		for (size_t k = lo; k <= hi; k++)
			c->title[k] = words >= 4 && caps * 10 >= words * 7 && commons >= 2 && commons * 2 >= caps;
		lo = hi + 1;
	}
}

/* An organisation word right after the run or among the next two
 * capitalised words ("Kroll Bond Ratings Agency"), or "&". */
static bool org_after(const ctx *c, size_t j)
{
	size_t e = c->t[j].e;

	for (size_t k = j + 1; k < c->n && k <= j + 3; k++) {
		if (!joined(c->text, c->t, k - 1) || c->t[k].shape == SH_LOWER)
			break;
		if (in_list(c->t[k].fold, org_words))
			return true;
	}
	return e < c->len && (c->text[e] == '&' || (e + 1 < c->len && c->text[e] == ' ' && c->text[e + 1] == '&'));
}

/* "Meza's song": a possessive before a lower-case word. */
static bool possessive(const ctx *c, size_t j)
{
	size_t e = c->t[j].e;

	return e + 3 < c->len && (c->text[e] == '\'' && c->text[e + 1] == 's' && c->text[e + 2] == ' ') &&
	       c->text[e + 3] >= 'a' && c->text[e + 3] <= 'z';
}

/* Addressing someone at the end of a sentence: "Don't go, Mark!" */
static bool vocative(const ctx *c, size_t i, size_t j)
{
	size_t b = c->t[i].b, e = c->t[j].e;

	return b >= 2 && c->text[b - 1] == ' ' && c->text[b - 2] == ',' && e < c->len &&
	       (c->text[e] == '!' || c->text[e] == '?' || (c->text[e] == '.' && (e + 1 == c->len || c->text[e + 1] == '\n')));
}

static int push(ctx *c, size_t i, size_t j, double conf)
{
	if (conf <= 0.0)
		return 0;
	for (size_t k = i; k <= j; k++)
		if ((float)conf > c->best[k])
			c->best[k] = (float)conf;
	return ca_pii_spans_push(c->out, c->t[i].b, c->t[j].e, CA_PII_PERSON, conf);
}

static double at_least(double s, double v)
{
	return s > v ? s : v;
}

static double at_most(double s, double v)
{
	return s < v ? s : v;
}

/* Confidence that the run i..j is a person's name. */
static double score_run(ctx *c, size_t i, size_t j)
{
	const tok *t = c->t;
	size_t names = 0, n_given = 0, n_sur = 0, n_oov = 0, n_proper = 0, n_contact = 0, n_common = 0;
	bool particle = false, is_place;
	int cue = cue_before(c->text, &t[i]);
	const char *prev = prev_lower(c->text, t, i);
	double s = 0.0;

	for (size_t k = i; k <= j; k++) {
		if (!capish(c, &t[k]) || in_list(t[k].fold, particles)) {
			particle = particle || t[k].shape == SH_LOWER;
			continue;
		}
		names++;
		n_contact += t[k].contact;
		n_given += given(&t[k]);
		n_sur += (t[k].lx & LX_SURNAME) != 0;
		n_oov += oov(&t[k]);
		n_proper += proper_only(&t[k]);
		n_common += (t[k].lx & LX_COMMON) != 0;
	}
	if (names == 0)
		return 0.0;
	if (contact_full(c, i, j))
		return 0.95;
	is_place = (names >= 2 && run_is_place(c, i, j)) || (names == 1 && place(&t[i])) || in_list(t[i].fold, place_starts);
	if (n_contact)
		s = 0.85;
	if (names >= 2) {
		const tok *f = &t[i], *g = &t[i + 1];

		if (given(f) && !(f->lx & LX_COMMON))
			s = at_least(s, 0.85);
		else if (given(f) && !f->sent)
			s = at_least(s, 0.75);
		else if (given(f) && (g->lx & (LX_SURNAME | LX_GIVEN) || oov(g)) && !(g->lx & LX_COMMON))
			s = at_least(s, 0.75);
		else if (n_given + n_sur + n_oov >= 2 && n_proper == 0)
			s = at_least(s, 0.65);
		else if (n_given + n_sur + n_oov >= 1 && n_proper < names)
			s = at_least(s, 0.55);
		if (n_common == names || (particle && n_given == 0) || (c->lower_text && n_given == 0))
			s = at_most(s, 0.45);
	} else {
		const tok *f = &t[i];

		if (in_list(f->fold, calendar))
			return 0.0;
		if (given(f) && !(f->lx & LX_COMMON))
			s = at_least(s, f->hyphen ? 0.45 : 0.7);
		else if ((given(f) || (f->lx & LX_SURNAME)) && !f->sent)
			s = at_least(s, 0.45);
		else if (oov(f))
			s = at_least(s, 0.3);
		else if (proper_only(f))
			s = at_least(s, 0.2);
		if (prev && (in_list(prev, place_preps) || in_list(prev, determiners)))
			s -= 0.25;
		if (c->lower_text)
			s = at_most(s, 0.45);
	}
	if (is_place)
		s = at_most(s, 0.2);
	/* "the Aurora Max": a thing; people take no article */
	if (prev && strcmp(prev, "the") == 0)
		s -= 0.45;
	else if (prev && (strcmp(prev, "a") == 0 || strcmp(prev, "an") == 0))
		s -= 0.15;
	if (ends_with_cue(c->text, t[i].b, org_cues, false))
		s -= 0.3;
	if (cue == CUE_STRONG)
		s = at_least(s, is_place ? 0.6 : 0.9);
	else if (cue == CUE_WEAK && (n_given + n_sur + n_oov + n_contact + n_proper) > 0 && !is_place)
		s = at_least(s + 0.2, 0.6);
	else if (cue == CUE_VERB && given(&t[i]) && !t[i].sent && !is_place)
		s = at_least(s + 0.2, names >= 2 ? 0.7 : 0.6);
	if (cue < CUE_WEAK && !is_place) {
		if (speaker_label(c, i, j) && n_proper < names)
			s = at_least(s, 0.75);
		if (c->multiline && alone_on_line(c, i, j) && names >= 2 && t[i].b < c->first_line_end &&
		    n_proper < names && n_common < names)
			s = at_least(s, 0.8);
		if ((pii_cue_after(c->text, c->len, t[j].e, 14, after_cues) || vocative(c, i, j) || possessive(c, j)) &&
		    s < 0.7)
			s += 0.25;
		if (c->title[i])
			s -= 0.35;
	}
	if (org_after(c, j))
		s = 0.0;
	return s;
}

/* A name right after a strong cue may be written in lower case ("my name
 * is vitoria"): up to three words that are not common English words. */
static int lower_after_cue(ctx *c, size_t i)
{
	size_t j = i;

	if (c->t[i].shape != SH_LOWER || !namey(&c->t[i]) || in_list(c->t[i].fold, never_name) ||
	    !ends_with_cue(c->text, c->t[i].b, strong_cues, false))
		return 0;
	while (j + 1 < c->n && j - i < 2 && joined(c->text, c->t, j) && c->t[j + 1].shape == SH_LOWER &&
	       namey(&c->t[j + 1]) && !in_list(c->t[j + 1].fold, particles))
		j++;
	return push(c, i, j, 0.85);
}

/* ---- lists and repeated mentions ---- */

/* The bytes between two list members: ", ", " and ", ", and ", " & ",
 * " or ". */
static bool list_sep(const char *text, uint32_t a, uint32_t z)
{
	static const char *const seps[] = {", ", " and ", ", and ", " & ", " or ", ",", NULL};

	for (size_t k = 0; seps[k]; k++)
		if (z - a == strlen(seps[k]) && memcmp(text + a, seps[k], z - a) == 0)
			return true;
	return false;
}

/* Index of the first token starting at or after offset b. */
static size_t tok_at(const ctx *c, uint32_t b)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->t[mid].b < b)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Token k lies in a PERSON span at least `min` sure. */
static bool covered(const ctx *c, size_t k, double min)
{
	return c->best[k] >= (float)min;
}

static bool is_conj(const tok *t)
{
	return t->shape == SH_LOWER && (strcmp(t->fold, "and") == 0 || strcmp(t->fold, "or") == 0);
}

/* A single capitalised word that may be listed with names: a name word, or
 * a capitalised common word inside a sentence. */
static bool list_member(const ctx *c, const tok *t)
{
	if (place(t) || in_list(t->fold, never_name) || in_list(t->fold, org_words) || in_list(t->fold, calendar))
		return false;
	return run_member(c, t) || (t->shape == SH_CAP && !t->sent && !t->func && !t->handle && t->e - t->b >= 3);
}

/*
 * Members of a list with a confident name in it are names too: "Eklund,
 * Michael and Hodge". A list right after "the", or followed by a
 * capitalised word or an organisation word ("Jones, Smith and Davis
 * Orchestra"), names a firm instead.
 */
static int spread_lists(ctx *c, size_t from)
{
	size_t n0 = c->out->n;
	size_t *mem = malloc((c->n + 1) * sizeof *mem);
	int r = 0;

	if (!mem)
		return CA_ENOMEM;
	for (size_t k = from; r == 0 && k < n0; k++) {
		const ca_pii_span *s = &c->out->v[k];
		size_t i, j, nm = 0, lo, hi;
		const char *prev;

		if (s->type != CA_PII_PERSON || s->confidence < 0.7f)
			continue;
		i = tok_at(c, s->begin);
		if (i >= c->n || c->listed[i])
			continue; /* its list was looked at from another member */
		j = i;
		while (j + 1 < c->n && c->t[j + 1].b < s->end)
			j++;
		hi = j;
		for (size_t a = j; a + 1 < c->n;) {
			size_t b = a + 1;

			if (is_conj(&c->t[b]))
				b++;
			if (b >= c->n || !list_sep(c->text, c->t[a].e, c->t[b].b) || !list_member(c, &c->t[b]))
				break;
			mem[nm++] = b;
			hi = a = b;
		}
		lo = i;
		for (size_t a = i; a > 0;) {
			size_t b = a - 1;

			if (is_conj(&c->t[b])) {
				if (b == 0)
					break;
				b--;
			}
			if (!list_sep(c->text, c->t[b].e, c->t[a].b) || !list_member(c, &c->t[b]))
				break;
			mem[nm++] = b;
			lo = a = b;
		}
		for (size_t m = lo; m <= hi; m++)
			c->listed[m] = true;
		prev = prev_lower(c->text, c->t, lo);
		if (nm == 0 || (prev && strcmp(prev, "the") == 0) || org_after(c, hi) ||
		    (hi + 1 < c->n && c->t[hi + 1].shape == SH_CAP && joined(c->text, c->t, hi)))
			continue;
		/* "Jones, Mitchell and Williams": three surnames and no given
		 * name is how firms are named */
		bool any_given = false;

		for (size_t m = 0; m < nm; m++)
			any_given = any_given || ((c->t[mem[m]].lx & LX_GIVEN) && !(c->t[mem[m]].lx & LX_SURNAME));
		for (size_t m = i; m <= j; m++)
			any_given = any_given || ((c->t[m].lx & LX_GIVEN) && !(c->t[m].lx & LX_SURNAME));
		if (!any_given && nm == 2 && i == j)
			continue;
		for (size_t m = 0; r == 0 && m < nm; m++) {
			const tok *t = &c->t[mem[m]];

			if (!covered(c, mem[m], 0.5))
				r = push(c, mem[m], mem[m], namey(t) ? 0.75 : 0.6);
		}
	}
	free(mem);
	return r;
}

/* "Lamovec and Morales": two single capitalised words joined by "and",
 * at least one a census name and neither a common word or a place. */
static int name_pairs(ctx *c, size_t from)
{
	int r = 0;

	for (size_t k = 1; r == 0 && k + 1 < c->n; k++) {
		const tok *a = &c->t[k - 1], *b = &c->t[k + 1];
		const char *prev;

		if (!is_conj(&c->t[k]) || !list_sep(c->text, a->e, b->b) || !run_member(c, a) || !run_member(c, b) ||
		    (a->lx & LX_COMMON) || (b->lx & LX_COMMON) || place(a) || place(b) ||
		    !((a->lx | b->lx) & (LX_GIVEN | LX_SURNAME)) || (a->sent && proper_only(a)))
			continue;
		/* single words: not inside longer capitalised runs */
		if ((k >= 2 && joined(c->text, c->t, k - 2) && capish(c, &c->t[k - 2])) ||
		    (k + 2 < c->n && joined(c->text, c->t, k + 1) && capish(c, &c->t[k + 2])) || org_after(c, k + 1))
			continue;
		prev = prev_lower(c->text, c->t, k - 1);
		if (prev && (strcmp(prev, "the") == 0 || in_list(prev, place_preps)))
			continue;
		if (!covered(c, k - 1, 0.5))
			r = push(c, k - 1, k - 1, 0.6);
		if (r == 0 && !covered(c, k + 1, 0.5))
			r = push(c, k + 1, k + 1, 0.6);
	}
	return r;
}

/* Other mentions of a word of a confident name. */
static int spread_mentions(ctx *c, size_t from)
{
	lx_map seen = {0};
	int r = 0;

	/* the words of the confident names, once */
	for (size_t k = from; r == 0 && k < c->out->n; k++) {
		const ca_pii_span *s = &c->out->v[k];

		if (s->type != CA_PII_PERSON || s->confidence < 0.65f)
			continue;
		for (size_t y = tok_at(c, s->begin); r == 0 && y < c->n && c->t[y].b < s->end; y++)
			if (capish(c, &c->t[y]))
				r = lx_map_add(&seen, c->t[y].fold, strlen(c->t[y].fold), 1);
	}
	for (size_t x = 0; r == 0 && seen.n && x < c->n; x++) {
		const tok *t = &c->t[x];

		if (!run_member(c, t) || place(t) || t->e - t->b < 3 || covered(c, x, 0.5) ||
		    !lx_map_get(&seen, t->fold, strlen(t->fold)))
			continue;
		size_t j = x;

		/* take following name words along */
		while (j + 1 < c->n && joined(c->text, c->t, j) && run_member(c, &c->t[j + 1]) && !covered(c, j + 1, 0.5))
			j++;
		r = push(c, x, j, 0.75);
		x = j;
	}
	lx_map_done(&seen);
	return r;
}

static bool has_upper_ascii(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] >= 'A' && text[i] <= 'Z')
			return true;
	return false;
}

int pii_scan_person(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out)
{
	ctx c = {.p = p, .text = text, .len = len, .out = out};
	size_t from = out->n, q = 0;
	int r = tokenize(p, text, len, &c.t, &c.n);

	if (r < 0)
		return r;
	c.multiline = memchr(text, '\n', len) != NULL;
	c.lower_text = !has_upper_ascii(text, len);
	c.words = p->lx && p->lx->n_common > 0;
	c.best = calloc(c.n + 1, sizeof *c.best);
	c.title = calloc(c.n + 1, sizeof *c.title);
	c.listed = calloc(c.n + 1, sizeof *c.listed);
	if (!c.best || !c.title || !c.listed) {
		free(c.best);
		free(c.title);
		free(c.listed);
		toks_free(c.t, c.n);
		return CA_ENOMEM;
	}
	mark_titles(&c);
	while (q < len && (text[q] == '\n' || text[q] == ' ' || text[q] == '\r' || pii_bullet(text, len, q)))
		q++;
	while (q < len && text[q] != '\n')
		q++;
	c.first_line_end = q;
	for (size_t i = 0; r == 0 && i < c.n; i++) {
		size_t j = i;

		/* a contact's full name, however it is written */
		for (size_t k = 0; k < p->n_names && c.t[i].shape != SH_CAP; k++) {
			size_t m = p->names[k].n;

			if (m >= 2 && i + m <= c.n && contact_full(&c, i, i + m - 1)) {
				r = push(&c, i, i + m - 1, 0.9);
				j = i + m - 1;
				break;
			}
		}
		if (j > i) {
			i = j;
			continue;
		}
		if (c.t[i].shape == SH_LOWER && !c.lower_text) {
			r = lower_after_cue(&c, i);
			continue;
		}
		/* "J. Smith": an initial may open a run */
		if (c.t[i].shape == SH_INITIAL && c.t[i].e < len && text[c.t[i].e] == '.' && i + 1 < c.n &&
		    joined(text, c.t, i) && run_member(&c, &c.t[i + 1]))
			j = i + 1;
		else if (!run_member(&c, &c.t[i])) {
			/* Without a word list no word is known to be a name; a
			 * strong cue still makes one ("my name is Ann Lee"). */
			if (!c.words && plain_cap(&c, &c.t[i]) && cue_before(text, &c.t[i]) == CUE_STRONG) {
				while (j + 1 < c.n && j - i < 2 && joined(text, c.t, j) && plain_cap(&c, &c.t[j + 1]))
					j++;
				r = push(&c, i, j, 0.85);
				i = j;
			}
			continue;
		}
		/* grow the run over name words, initials and particles */
		while (j + 1 < c.n && joined(text, c.t, j)) {
			const tok *nx = &c.t[j + 1];
			bool pronoun = nx->e - nx->b == 1 && text[nx->b] == 'I' && (nx->e >= len || text[nx->e] != '.');

			if (run_member(&c, nx)) {
				j++;
			} else if ((nx->shape == SH_INITIAL && !pronoun) ||
				   (nx->shape == SH_LOWER && in_list(nx->fold, particles)) ||
				   (c.lower_text && nx->e - nx->b == 1)) {
				/* only inside a run; two particles at most ("van de") */
				size_t k = j + 2;

				if (k < c.n && c.t[k].shape == SH_LOWER && in_list(c.t[k].fold, particles) &&
				    joined(text, c.t, k - 1))
					k++;
				if (k < c.n && joined(text, c.t, k - 1) &&
				    (run_member(&c, &c.t[k]) || (nx->shape == SH_LOWER && c.t[k].shape == SH_CAP)))
					j = k;
				else
					break;
			} else {
				break;
			}
		}
		if (j - i >= 5) { /* a long run of capitalised words is a title or heading */
			i = j;
			continue;
		}
		r = push(&c, i, j, score_run(&c, i, j));
		i = j;
	}
	if (r == 0)
		r = spread_lists(&c, from);
	if (r == 0)
		r = name_pairs(&c, from);
	if (r == 0)
		r = spread_mentions(&c, from);
	free(c.best);
	free(c.title);
	free(c.listed);
	toks_free(c.t, c.n);
	return r;
}
