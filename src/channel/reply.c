/* SPDX-License-Identifier: MIT */
/*
 * What is new in an e-mail, and the subject key threading matches on. Reply
 * extraction works line by line over the decoded body: it cuts at the first
 * marker of quoted history (an "On ... wrote:" attribution in the common
 * languages, Outlook's "-----Original Message-----" or "From:/Sent:/To:"
 * header block, a forwarded-message banner), at a "-- " signature delimiter
 * (RFC 3676 §4.3) or a mobile footer, and drops ">" quoted lines. Every look-
 * ahead is bounded by a small number of lines, so the work is linear in the
 * text. Subject normalisation strips reply/forward prefixes and [list] tags
 * and folds case with the text module.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "email.h"
#include "text.h"

typedef struct line {
	const char *p; /* start in the text */
	size_t n;      /* length without the line break (and without a trailing \r) */
} line;

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* The line without leading and trailing blanks. */
static line trim(line l)
{
	while (l.n > 0 && is_ws(l.p[0])) {
		l.p++;
		l.n--;
	}
	while (l.n > 0 && is_ws(l.p[l.n - 1]))
		l.n--;
	return l;
}

/* The first bytes compared as strncasecmp compares them (tolower), before
 * the whole call: most lines and words differ there. */
static bool same_ci(char a, char b)
{
	return tolower((unsigned char)a) == tolower((unsigned char)b);
}

static bool starts_ci(line l, const char *prefix)
{
	if (!prefix[0])
		return true;
	if (l.n == 0 || !same_ci(l.p[0], prefix[0]))
		return false;
	size_t k = strlen(prefix);
	return l.n >= k && strncasecmp(l.p, prefix, k) == 0;
}

static bool blank(line l)
{
	return trim(l).n == 0;
}

static bool quoted(line l)
{
	l = trim(l);
	return l.n > 0 && l.p[0] == '>';
}

/* "-- " (RFC 3676 §4.3), and the "--" that many clients leave after trimming. */
static bool sig_delim(line l)
{
	if (l.n == 3 && memcmp(l.p, "-- ", 3) == 0)
		return true;
	line t = trim(l);
	return t.n == 2 && memcmp(t.p, "--", 2) == 0 && l.p == t.p;
}

/* "-----Original Message-----" and the forwarded-message banners. */
static bool original_banner(line l)
{
	static const char *const words[] = {
		"original message", "ursprüngliche nachricht", "ursprungliche nachricht", "message d'origine",
		"mensaje original", "messaggio originale", "oorspronkelijk bericht", "originalmeddelande",
		"opprinnelig melding", "oprindelig meddelelse", "mensagem original", "forwarded message",
		"weitergeleitete nachricht", "message transféré", "mensaje reenviado", "begin forwarded message",
	};
	l = trim(l);
	size_t dashes = 0;
	while (dashes < l.n && l.p[dashes] == '-')
		dashes++;
	line rest = { l.p + dashes, l.n - dashes };
	rest = trim(rest);
	for (size_t i = 0; i < CA_ARRAY_SIZE(words); i++) {
		if (!starts_ci(rest, words[i]))
			continue;
		/* Apple Mail's "Begin forwarded message:" has no dashes. */
		if (dashes >= 2 || i == CA_ARRAY_SIZE(words) - 1)
			return true;
	}
	return false;
}

static const char *const attribution_leads[] = {
	"On ", "Am ", "Le ", "El ", "Il ", "Op ", "Den ", "På ", "W dniu ", "Em ", "Dne ", "Às ",
};

/* The verb of an attribution, wherever the language puts it: "On ... Ann
 * wrote:", "Am ... schrieb Ann <a@x.org>:", "Le ... Ann a écrit :". */
static const char *const attribution_verbs[] = {
	"wrote", "writes", "schrieb", "a écrit", "escribió", "ha scritto", "schreef", "skrev", "napisał",
	"escreveu", "kirjoitti", "napsal", "scrisse",
};

static bool contains_ci(const char *p, size_t n, const char *word)
{
	size_t k = strlen(word);
	for (size_t i = 0; i + k <= n; i++)
		if (same_ci(p[i], word[0]) && strncasecmp(p + i, word, k) == 0)
			return true;
	return false;
}

/* p[0..n) ends with ':' and names the verb of an attribution. */
static bool attribution_text(const char *p, size_t n)
{
	if (n == 0 || p[n - 1] != ':')
		return false;
	for (size_t i = 0; i < CA_ARRAY_SIZE(attribution_verbs); i++)
		if (contains_ci(p, n, attribution_verbs[i]))
			return true;
	return false;
}

/*
 * An attribution line ("On Mon, 1 Jan 2024, Ann <a@x.org> wrote:"), possibly
 * wrapped over up to three lines by the sender's client. Returns the number of
 * lines it spans, 0 when lines[i] does not start one. Looks at no more than
 * 400 bytes, so the scan stays linear.
 */
static size_t attribution(const line *lines, size_t n, size_t i)
{
	line first = trim(lines[i]);
	if (first.n == 0)
		return 0;
	bool lead = false;
	for (size_t k = 0; k < CA_ARRAY_SIZE(attribution_leads); k++)
		if (starts_ci(first, attribution_leads[k]))
			lead = true;
	if (lead) {
		/* The wrapped form is contiguous in the text, so the last line's
		 * end is where the joined attribution ends. */
		for (size_t j = i; j < n && j < i + 3; j++) {
			line t = trim(lines[j]);
			if (t.n == 0)
				break;
			size_t span = (size_t)(t.p + t.n - first.p);
			if (span > 400)
				break;
			if (attribution_text(first.p, span))
				return j - i + 1;
		}
		return 0;
	}
	/* "Ann Example wrote:" on its own: only when quoted text follows. */
	if (first.n <= 200 && attribution_text(first.p, first.n)) {
		for (size_t j = i + 1; j < n && j < i + 3; j++) {
			if (blank(lines[j]))
				continue;
			return quoted(lines[j]) ? 1 : 0;
		}
	}
	return 0;
}

static bool field_line(line l, const char *const *names, size_t k)
{
	l = trim(l);
	if (l.n > 0 && l.p[0] == '*') { /* "*From:*" from HTML bold converted by some clients */
		l.p++;
		l.n--;
	}
	for (size_t i = 0; i < k; i++)
		if (starts_ci(l, names[i]))
			return true;
	return false;
}

/* An Outlook-style header block: From: followed within six lines by a
 * Sent:/Date: line and a To:/Subject: line. */
static bool outlook_block(const line *lines, size_t n, size_t i)
{
	static const char *const from[] = { "From:", "De:", "De :", "Von:", "Van:", "Fra:", "Från:", "Da:", "Od:" };
	static const char *const sent[] = { "Sent:", "Date:", "Gesendet:", "Envoyé :", "Envoyé:", "Enviado el:",
					    "Enviado:", "Verzonden:", "Skickat:", "Sendt:", "Inviato:", "Data:",
					    "Datum:", "Wysłano:" };
	static const char *const to[] = { "To:", "Subject:", "An:", "Betreff:", "À :", "À:", "Para:", "Aan:",
					  "Objet :", "Objet:", "Asunto:", "Onderwerp:", "Oggetto:", "Till:",
					  "Ämne:", "Til:", "Emne:", "Do:", "Temat:", "Cc:" };
	if (!field_line(lines[i], from, CA_ARRAY_SIZE(from)))
		return false;
	bool have_sent = false, have_to = false;
	for (size_t j = i + 1; j < n && j <= i + 6; j++) {
		if (field_line(lines[j], sent, CA_ARRAY_SIZE(sent)))
			have_sent = true;
		else if (field_line(lines[j], to, CA_ARRAY_SIZE(to)))
			have_to = true;
	}
	return have_sent && have_to;
}

static bool underscores(line l)
{
	l = trim(l);
	if (l.n < 10)
		return false;
	for (size_t i = 0; i < l.n; i++)
		if (l.p[i] != '_')
			return false;
	return true;
}

/* "Sent from my iPhone" and friends: a short line that opens with one. */
static bool mobile_footer(line l)
{
	static const char *const footers[] = {
		"Sent from my ", "Sent from Mail for Windows", "Sent from Outlook", "Get Outlook for ",
		"Sent from Yahoo Mail", "Sent from Samsung", "Sent with BlackBerry", "Sent from BlackBerry",
		"Sent via the Samsung", "Sent from ProtonMail", "Sent with ProtonMail", "Sent from Proton Mail",
		"Von meinem iPhone gesendet", "Von meinem iPad gesendet", "Envoyé de mon iPhone",
		"Envoyé de mon iPad", "Enviado desde mi iPhone", "Enviado do meu iPhone", "Inviato da iPhone",
		"Verstuurd vanaf mijn iPhone", "Skickat från min iPhone", "Sendt fra min iPhone",
	};
	l = trim(l);
	if (l.n == 0 || l.n > 100)
		return false;
	for (size_t i = 0; i < CA_ARRAY_SIZE(footers); i++)
		if (starts_ci(l, footers[i]))
			return true;
	return false;
}

/* "Name: value" as in the header block of a quoted message ("Sent:",
 * "Envoyé :", "*From:*"). */
static bool fieldish(line l)
{
	l = trim(l);
	size_t i = 0;
	if (i < l.n && l.p[i] == '*')
		i++;
	size_t start = i;
	while (i < l.n && i - start < 30 && l.p[i] != ':' &&
	       ((unsigned char)l.p[i] >= 0x80 || (l.p[i] >= 'A' && l.p[i] <= 'Z') ||
		(l.p[i] >= 'a' && l.p[i] <= 'z') || l.p[i] == '-' || l.p[i] == ' '))
		i++;
	return i > start && i < l.n && l.p[i] == ':';
}

/*
 * Mark lines[i] (a banner or the first line of an Outlook block) and the
 * header block under it as dropped: after a banner, blank lines and then a
 * run of lines that opens with a field, up to its last field line (wrapped
 * values in between go too), looking at no more than 12 lines and stopping
 * at a blank or quoted line. Returns the index of the last line dropped.
 */
static size_t drop_header_block(const line *lines, size_t n, size_t i, bool banner, bool *drop)
{
	drop[i] = true;
	size_t j = i + 1;
	if (banner) {
		while (j < n && blank(lines[j]))
			drop[j++] = true;
		if (j >= n || !fieldish(lines[j]))
			return j - 1;
	}
	size_t last = j - 1;
	for (size_t k = j; k < n && k < j + 12 && !blank(lines[k]) && !quoted(lines[k]); k++)
		if (fieldish(lines[k]))
			last = k;
	for (size_t k = j; k <= last; k++)
		drop[k] = true;
	return last;
}

char *ca_email_reply_text(const char *text)
{
	if (!text)
		return ca_strdup("");
	size_t len = strlen(text), n = 1;
	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	line *lines = calloc(n, sizeof(*lines));
	bool *drop = calloc(n, sizeof(*drop));
	if (!lines || !drop) {
		free(lines);
		free(drop);
		return NULL;
	}
	n = 0;
	for (const char *p = text;;) {
		const char *e = strchr(p, '\n');
		size_t k = e ? (size_t)(e - p) : strlen(p);
		lines[n].p = p;
		lines[n].n = k > 0 && p[k - 1] == '\r' ? k - 1 : k;
		n++;
		if (!e)
			break;
		p = e + 1;
	}

	size_t cut = n;
	bool stripped = false, seen_text = false;
	for (size_t i = 0; i < n; i++) {
		size_t span;
		bool banner = original_banner(lines[i]);
		if (sig_delim(lines[i]) || mobile_footer(lines[i]) || (banner && seen_text)) {
			cut = i;
			break;
		}
		if (banner || (!seen_text && outlook_block(lines, n, i))) {
			/* Nothing written above the quoted message: the answer is
			 * below it or between its lines. Drop the banner and the
			 * header block, keep reading. */
			for (size_t j = i; j > 0 && (blank(lines[j - 1]) || underscores(lines[j - 1])); j--)
				drop[j - 1] = true; /* Outlook's rule above the block */
			i = drop_header_block(lines, n, i, banner, drop);
			stripped = true;
			continue;
		}
		if ((span = attribution(lines, n, i)) > 0) {
			if (seen_text) {
				cut = i;
				break;
			}
			/* Nothing written above the attribution: an inline reply
			 * interleaved with the quote. Drop the attribution and the
			 * quoted lines, keep the answers. */
			for (size_t j = i; j < i + span; j++)
				drop[j] = true;
			stripped = true;
			i += span - 1;
			continue;
		}
		if (outlook_block(lines, n, i)) {
			cut = i;
			/* Outlook puts a rule of underscores above the block. */
			size_t j = i;
			while (j > 0 && blank(lines[j - 1]))
				j--;
			if (j > 0 && underscores(lines[j - 1]))
				cut = j - 1;
			break;
		}
		if (quoted(lines[i])) {
			drop[i] = true;
			stripped = true;
			continue;
		}
		if (!blank(lines[i]) && !underscores(lines[i]))
			seen_text = true;
	}
	if (cut < n)
		stripped = true;

	char *res;
	if (!stripped) {
		res = ca_strdup(text);
	} else {
		ca_buf b;
		ca_buf_init(&b);
		int r = 0;
		bool prev_blank = true; /* drops leading blank lines, squeezes runs */
		for (size_t i = 0; i < cut && !r; i++) {
			if (drop[i])
				continue;
			bool bl = blank(lines[i]);
			if (bl && prev_blank)
				continue;
			prev_blank = bl;
			r = ca_buf_append(&b, lines[i].p, bl ? 0 : lines[i].n);
			if (!r)
				r = ca_buf_append(&b, "\n", 1);
		}
		if (r) {
			ca_buf_done(&b);
			res = NULL;
		} else {
			while (b.len > 0 && (is_ws(b.data[b.len - 1]) || b.data[b.len - 1] == '\n'))
				b.data[--b.len] = '\0';
			res = ca_buf_steal(&b);
		}
	}
	free(lines);
	free(drop);
	return res;
}

/* ---- subject ---- */

/* Length of a reply/forward prefix ("Re:", "RE[2]:", "Fwd :", "AW:") at p,
 * 0 when there is none. */
static size_t reply_prefix(const char *p)
{
	static const char *const words[] = { "re", "fwd", "fw", "aw", "sv", "antw", "wg", "tr", "vs", "vl",
					     "ref", "rif", "odp", "res", "enc", "fs", "r", "回复", "回覆", "答复",
					     "转发", "轉寄" };
	for (size_t i = 0; i < CA_ARRAY_SIZE(words); i++) {
		size_t k = strlen(words[i]);
		if (strncasecmp(p, words[i], k) != 0)
			continue;
		const char *q = p + k;
		if (*q == '[' || *q == '(') { /* "Re[2]:", "Re(3):" */
			char close = *q == '[' ? ']' : ')';
			const char *d = q + 1;
			while (*d >= '0' && *d <= '9' && d - q < 8)
				d++;
			if (d > q + 1 && *d == close)
				q = d + 1;
		}
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == ':')
			return (size_t)(q + 1 - p);
		if (strncmp(q, "\xEF\xBC\x9A", 3) == 0) /* U+FF1A fullwidth colon */
			return (size_t)(q + 3 - p);
	}
	return 0;
}

char *ca_email_subject_norm(const char *subject)
{
	if (!subject)
		return ca_strdup("");
	const char *p = subject;
	for (;;) {
		while (*p && (is_ws(*p) || *p == '\n'))
			p++;
		if (*p == '[') {
			const char *e = strchr(p, ']');
			if (e && e - p <= 100 && !memchr(p + 1, '[', (size_t)(e - p - 1))) {
				p = e + 1;
				continue;
			}
		}
		size_t k = reply_prefix(p);
		if (k == 0)
			break;
		p += k;
	}
	char *folded = NULL;
	int r = ca_text_fold(p, strlen(p), &folded);
	if (r == CA_ENOMEM)
		return NULL;
	if (r < 0) { /* not UTF-8: ASCII folding is the best that is safe */
		folded = ca_strdup(p);
		if (!folded)
			return NULL;
		for (char *q = folded; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
	}
	/* Collapse whitespace runs to one space; trim. */
	size_t w = 0;
	bool pending = false;
	for (size_t i = 0; folded[i]; i++) {
		char c = folded[i];
		if (is_ws(c) || c == '\n') {
			pending = w > 0;
			continue;
		}
		if (pending)
			folded[w++] = ' ';
		pending = false;
		folded[w++] = c;
	}
	folded[w] = '\0';
	return folded;
}
