/* SPDX-License-Identifier: MIT */
/*
 * Recognisers for identifiers with a shape, and a checksum where one
 * exists: e-mail addresses (RFC 5322 addr-spec, simplified to dot-atoms),
 * phone numbers (ITU-T E.164: at most 15 digits; national and international
 * spellings), payment card numbers (ISO/IEC 7812-1: issuer ranges and the
 * Luhn check), IBANs (ISO 13616 with ISO 7064 MOD 97-10), US social security
 * numbers (SSA area/group/serial rules), IPv4 and IPv6 addresses (inet_pton
 * decides v6), and the account and order number patterns an administrator
 * configures. PCRE2 finds candidates; C code validates them and weighs the
 * context words around them into a confidence.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- checksums ---- */

bool ca_pii_luhn_ok(const char *s, size_t len)
{
	unsigned sum = 0, n = 0;

	for (size_t i = len; i-- > 0;) {
		unsigned d;

		if (s[i] == ' ' || s[i] == '-')
			continue;
		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned)(s[i] - '0');
		if (n++ % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return n >= 2 && sum % 10 == 0;
}

/* IBAN lengths by country, from the SWIFT IBAN registry (ISO 13616). */
static const struct {
	char cc[3];
	unsigned char len;
} iban_lengths[] = {
	{"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
	{"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
	{"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
	{"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
	{"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27},
	{"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
	{"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20}, {"MR", 27},
	{"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28},
	{"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31},
	{"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28},
	{"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};

static char upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

bool ca_pii_iban_ok(const char *s, size_t len)
{
	char v[40];
	size_t n = 0, want = 0;
	unsigned rem = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ')
			continue;
		if (n == sizeof v || !pii_alnum((unsigned char)s[i]))
			return false;
		v[n++] = upper(s[i]);
	}
	if (n < 5 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z' || v[2] < '0' || v[2] > '9' ||
	    v[3] < '0' || v[3] > '9')
		return false;
	for (size_t i = 0; i < CA_ARRAY_SIZE(iban_lengths); i++)
		if (iban_lengths[i].cc[0] == v[0] && iban_lengths[i].cc[1] == v[1])
			want = iban_lengths[i].len;
	if (want != n)
		return false;
	/* ISO 7064 MOD 97-10 over BBAN + country + check digits, letters as 10..35 */
	for (size_t k = 0; k < n; k++) {
		char c = v[(k + 4) % n];

		if (c >= '0' && c <= '9')
			rem = (rem * 10 + (unsigned)(c - '0')) % 97;
		else
			rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
	}
	return rem == 1;
}

bool ca_pii_ssn_ok(unsigned area, unsigned group, unsigned serial)
{
	if (area == 0 || area == 666 || area >= 900 || area > 999)
		return false;
	if (group == 0 || group > 99 || serial == 0 || serial > 9999)
		return false;
	/* voided by the SSA after use in advertising */
	if ((area == 78 && group == 5 && serial == 1120) || (area == 123 && group == 45 && serial == 6789))
		return false;
	return true;
}

/* ---- patterns ---- */

/* RFC 5322 addr-spec, simplified: a dot-atom local part (no quoted strings
 * or comments), a domain of LDH labels with an alphabetic top-level label. */
static const char re_email_src[] =
	"(?<![A-Za-z0-9.!#$%&'*+/=?^_`{|}~@-])"
	"[A-Za-z0-9_%+-][A-Za-z0-9!#$%&'*+/=?^_`{|}~-]*(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
	"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}(?![A-Za-z0-9_-])";

/* Digit groups joined by one space, dot or hyphen, with an optional "+CC"
 * and parenthesised groups ("(0)", "(602)"), and an optional extension.
 * Every repetition must consume a separator or a parenthesis, so the
 * pattern cannot backtrack exponentially. */
static const char re_phone_src[] =
	"(?<![\\w+@#])(?<![0-9][.\\-/,])"
	"(?:\\+[0-9]{1,14}|\\(\\+?[0-9]{1,5}\\)|[0-9]{1,15})"
	"(?:(?<=\\))[ .\\-]?[0-9]{1,10}|[ .\\-][0-9]{1,10}|[ .\\-]?\\([0-9]{1,5}\\))*"
	"(?:[ ]?(?:x|ext\\.?|extension)[ ]?[0-9]{1,6})?"
	"(?![\\w])(?![.\\-/:,][0-9])";

static const char re_card_src[] = "(?<![\\w.\\-])[0-9](?:[ \\-]?[0-9]){11,18}(?![\\w])(?![.\\-,][0-9])";

static const char re_iban_src[] =
	"(?<![\\w])[A-Za-z]{2}[0-9]{2}(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,4})?)(?![\\w])";

static const char re_ssn_src[] = "(?<![\\w\\-.])([0-9]{3})([\\- ]?)([0-9]{2})\\2([0-9]{4})(?![\\w\\-])(?!\\.[0-9])";

static const char re_ipv4_src[] =
	"(?<![\\w.])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}"
	"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?![\\w])(?!\\.[0-9])";

/* Candidates only; inet_pton(AF_INET6) decides. */
static const char re_ipv6_src[] =
	"(?<![\\w:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{3,39}"
	"(?:(?<=:)(?:[0-9]{1,3}\\.){3}[0-9]{1,3})?(?![\\w:])(?!\\.[0-9A-Za-z])";

int pii_patterns_init(ca_pii *p, ca_err *err)
{
	int r = pii_compile(re_email_src, 0, &p->re_email, err);

	if (r == 0)
		r = pii_compile(re_phone_src, 0, &p->re_phone, err);
	if (r == 0)
		r = pii_compile(re_card_src, 0, &p->re_card, err);
	if (r == 0)
		r = pii_compile(re_iban_src, 0, &p->re_iban, err);
	if (r == 0)
		r = pii_compile(re_ssn_src, 0, &p->re_ssn, err);
	if (r == 0)
		r = pii_compile(re_ipv4_src, 0, &p->re_ipv4, err);
	if (r == 0)
		r = pii_compile(re_ipv6_src, 0, &p->re_ipv6, err);
	return r;
}

/* Run re over the text, calling fn for each match; fn returns <0 to stop
 * with an error. */
typedef int (*match_fn)(const ca_pii *p, const char *text, size_t len, size_t b, size_t e, pcre2_match_data *md,
			ca_pii_spans *out);

static int each_match(const ca_pii *p, const pcre2_code *re, const char *text, size_t len, match_fn fn,
		      ca_pii_spans *out)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	size_t pos = 0, b, e;
	int r = 0;

	if (!md)
		return CA_ENOMEM;
	while (r == 0 && pii_next(re, md, text, len, &pos, &b, &e))
		r = fn(p, text, len, b, e, md, out);
	pcre2_match_data_free(md);
	return r;
}

/* ---- e-mail ---- */

static int on_email(const ca_pii *p, const char *text, size_t len, size_t b, size_t e, pcre2_match_data *md,
		    ca_pii_spans *out)
{
	(void)p, (void)text, (void)len, (void)md;
	return ca_pii_spans_push(out, (uint32_t)b, (uint32_t)e, CA_PII_EMAIL, 0.95);
}

int pii_scan_email(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out)
{
	return each_match(p, p->re_email, text, len, on_email, out);
}

/* ---- phone numbers ---- */

static const char *const phone_cues[] = {
	"phone", "telephone", "tel", "tel.", "mobile", "cell", "cellphone", "fax", "call", "calling", "called",
	"ring", "dial", "text", "texts", "sms", "whatsapp", "reach", "reached", "answering", "message",
	"messages", "desk", "landline", "hotline", "contact number", "phone number", "line", "my no", "my no.",
	"my number", "the number", "this number", "that number", "same number", "affected number", "contact",
	"mob", "mob.", "handy", "telefon", "t\xc3\xa9l", "t\xc3\xa9l.", "t\xc3\xa9l\xc3\xa9phone", "num\xc3\xa9ro",
	"portable", "sim", "on whatsapp", "reachable on", "i'm on", "i am on", NULL,
};
static const char *const phone_after_cues[] = {
	"office", "fax", "mobile", "cell", "home", "work", "phone", "(o)", "(m)", "(h)", "(w)", "is my number",
	"is my line", "is my mobile", "is my phone", "is my cell", "is the line", "is the number", "here,",
	"is the best way to", NULL,
};
/* Numbers that are something else when these words come just before
 * (and no phone word comes nearer): an order, invoice, ticket, reference,
 * tracking, serial, model or part number is that identifier, which the
 * configured order and account patterns remove where a team wants it. */
static const char *const not_phone_cues[] = {
	"order", "invoice", "account", "acct", "ticket", "case", "ref", "ref.", "reference", "tracking", "serial",
	"iban", "ssn", "card", "zip", "postal", "postcode", "box", "apt", "suite", "unit", "id", "isbn",
	"version", "build", "sku", "part", "model", "item", "total", "amount", "price", "imei", "barcode",
	"ean", "upc", "voucher", "coupon", "receipt", "transaction", "awb", "parcel", "shipment", "consignment",
	"usd", "eur", "gbp", "chf", "$", "\xe2\x82\xac", "\xc2\xa3", "\xc2\xa5", "born", "dob", "date", NULL,
};
static const char *const street_words[] = {
	"street", "st", "avenue", "ave", "road", "rd", "rue", "via", "drive", "lane", "boulevard", "blvd",
	"way", "place", "court", NULL,
};
static const char *const amount_after[] = {
	"usd", "eur", "gbp", "chf", "dollars", "euros", "pounds", "%", "percent", "kg", "km", "miles", NULL,
};

/* The digit groups of a phone candidate (at most 16 groups). */
typedef struct groups {
	unsigned len[16];
	unsigned val[16];
	char sep[16];   /* separator before group i (0 for the first or none) */
	size_t n;
	unsigned digits;
	bool plus, paren, ext;
} groups;

static void phone_groups(const char *s, size_t n, groups *g)
{
	char sep = 0;

	memset(g, 0, sizeof *g);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == 'x' || c == 'e') { /* extension: not part of the number */
			g->ext = true;
			break;
		}
		if (c == '+')
			g->plus = true;
		else if (c == '(' || c == ')')
			g->paren = true;
		if (c >= '0' && c <= '9') {
			if (i == 0 || s[i - 1] < '0' || s[i - 1] > '9') {
				if (g->n == CA_ARRAY_SIZE(g->len))
					return;
				g->sep[g->n] = g->n ? sep : 0;
				g->n++;
				sep = 0;
			}
			g->len[g->n - 1]++;
			g->val[g->n - 1] = g->val[g->n - 1] * 10 + (unsigned)(c - '0');
			if (g->val[g->n - 1] > 100000000u)
				g->val[g->n - 1] = 100000000u;
			g->digits++;
		} else if (c == ' ' || c == '.' || c == '-' || c == '/') {
			if (!sep || c != ' ')
				sep = c;
		}
	}
}

static bool is_date(const groups *g)
{
	if (g->n != 3 || g->plus || g->paren || g->sep[1] != g->sep[2] || g->sep[1] == ' ')
		return false;
	/* yyyy-mm-dd */
	if (g->len[0] == 4 && g->len[1] <= 2 && g->len[2] <= 2)
		return g->val[1] >= 1 && g->val[1] <= 12 && g->val[2] >= 1 && g->val[2] <= 31;
	/* dd-mm-yyyy or mm-dd-yyyy */
	if (g->len[0] <= 2 && g->len[1] <= 2 && g->len[2] == 4) {
		unsigned a = g->val[0], b = g->val[1];

		return a >= 1 && b >= 1 && ((a <= 31 && b <= 12) || (a <= 12 && b <= 31));
	}
	return false;
}

static bool is_ipv4_shape(const groups *g)
{
	if (g->n != 4)
		return false;
	for (size_t i = 0; i < 4; i++)
		if (g->len[i] > 3 || g->val[i] > 255 || (i && g->sep[i] != '.'))
			return false;
	return true;
}

/* Country calling codes (ITU-T E.164 assignments) of the countries whose
 * customers write in English most, with the national significant number's
 * usual length, for bare runs written without "+" or "00". */
static const struct {
	const char *cc;
	unsigned nsn_lo, nsn_hi;
} calling_codes[] = {
	{"1", 10, 10}, {"44", 10, 10}, {"91", 10, 10}, {"353", 9, 9}, {"49", 10, 11}, {"33", 9, 9},
	{"61", 9, 9}, {"254", 9, 9}, {"234", 10, 10}, {"27", 9, 9}, {"34", 9, 9}, {"39", 9, 10},
	{"31", 9, 9}, {"63", 10, 10}, {"92", 10, 10}, {"971", 9, 9}, {"966", 9, 9}, {"60", 9, 10},
	{"64", 9, 9}, {"233", 9, 9}, {"256", 9, 9}, {"255", 9, 9},
};

/* A North American number (NANP): area code and exchange start with 2-9;
 * or an Indian mobile number (TRAI: 10 digits starting 6-9). */
static bool nanp_or_in(const char *d)
{
	return (d[0] >= '6' && d[0] <= '9') || (d[0] >= '2' && d[3] >= '2');
}

/*
 * Whether a bare run of n digits (10 to 12) reads as a phone number of a
 * national numbering plan: a trunk prefix 0 and a 9-11 digit national
 * number (UK, IE, DE, FR, NG, KE, IN, AU spellings), a NANP or Indian
 * mobile number, or a country code from calling_codes without its "+".
 */
static bool national_plan(const char *d, size_t n)
{
	if (n < 10 || n > 12)
		return false;
	if (d[0] == '0')
		return d[1] != '0' && n <= 11;
	if (n == 10 && nanp_or_in(d))
		return true;
	for (size_t i = 0; i < CA_ARRAY_SIZE(calling_codes); i++) {
		size_t cl = strlen(calling_codes[i].cc);

		if (strncmp(d, calling_codes[i].cc, cl) == 0 && n - cl >= calling_codes[i].nsn_lo &&
		    n - cl <= calling_codes[i].nsn_hi && d[cl] != '0' && (n - cl != 10 || cl != 1 || nanp_or_in(d + 1)))
			return true;
	}
	return false;
}

/* 3-3-4 with an optional 1 or 001 in front, or (3)3-4: the North American
 * Numbering Plan's written forms. */
static bool is_nanp(const groups *g)
{
	size_t o = 0;

	if (g->n == 4 && (g->len[0] == 1 || g->len[0] == 3) && (g->val[0] == 1))
		o = 1;
	return g->n - o == 3 && g->len[o] == 3 && g->len[o + 1] == 3 && g->len[o + 2] == 4;
}

static int on_phone(const ca_pii *p, const char *text, size_t len, size_t b, size_t e, pcre2_match_data *md,
		    ca_pii_spans *out)
{
	groups g;
	double c;
	bool cue, after_cue, neg;
	size_t dp, dn;

	(void)p, (void)md;
	phone_groups(text + b, e - b, &g);
	if (g.digits < 7 || g.digits > 15 || is_date(&g) || is_ipv4_shape(&g))
		return 0;
	/* the nearer word decides: "order number 5545781356" is an order,
	 * "my order, call me on 0726668629" a phone */
	dp = pii_cue_dist_before(text, b, 40, phone_cues);
	dn = pii_cue_dist_before(text, b, 30, not_phone_cues);
	cue = dp != SIZE_MAX && dp < dn;
	after_cue = pii_cue_after(text, len, e, 24, phone_after_cues);
	neg = (dn != SIZE_MAX && !cue) || pii_cue_after(text, len, e, 10, amount_after);
	if (g.n == 1 && !g.paren) {
		/* a bare digit run is a phone number when something says so, or
		 * when it has the length and shape of a national number and
		 * nothing says it is another identifier */
		if (g.plus)
			c = 0.85;
		else if ((cue || after_cue) && !(neg && !after_cue))
			c = 0.75;
		else if (!neg && national_plan(text + b, e - b))
			c = 0.6;
		else
			return 0;
	} else {
		c = 0.6;
		if (is_nanp(&g))
			c += 0.2;
		if (g.plus || g.paren)
			c += 0.2;
		/* 3-2-4 with hyphens is the SSN's shape */
		if (g.n == 3 && g.len[0] == 3 && g.len[1] == 2 && g.len[2] == 4 && g.sep[1] == '-')
			c = 0.35;
		/* house numbers: "6556 106 Rue ...", "3747 3911 fourth avenue";
		 * a "+CC" number is none */
		if (!g.plus && ((e + 1 < len && text[e] == ' ' && text[e + 1] >= 'A' && text[e + 1] <= 'Z') ||
				pii_cue_after(text, len, e, 24, street_words)))
			c -= 0.2;
	}
	if (cue || after_cue)
		c += 0.25;
	else if (neg)
		c -= 0.4;
	if (c < 0.05)
		return 0;
	return ca_pii_spans_push(out, (uint32_t)b, (uint32_t)e, CA_PII_PHONE, c);
}

int pii_scan_phone(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out)
{
	return each_match(p, p->re_phone, text, len, on_phone, out);
}

/* ---- payment cards ---- */

static const char *const card_cues[] = {
	"card", "cc", "credit", "debit", "visa", "mastercard", "master card", "amex", "american express",
	"maestro", "discover", "diners", "jcb", "unionpay", "pan", "payment", NULL,
};
static const char *const not_card_cues[] = {
	"order", "invoice", "tracking", "account", "acct", "iban", "ref", "reference", "ticket", "phone",
	"tel", "fax", "serial", "isbn", "imei", "loyalty", "loyalty card", "gift card", "membership",
	"membership card", "sim card", "voucher", NULL,
};

static bool prefix_in(const char *d, unsigned lo, unsigned hi, size_t plen)
{
	unsigned v = 0;

	for (size_t i = 0; i < plen; i++)
		v = v * 10 + (unsigned)(d[i] - '0');
	return v >= lo && v <= hi;
}

/* Issuer identification (ISO/IEC 7812-1 IIN ranges of the major schemes)
 * with a length the scheme issues. */
static bool known_issuer(const char *d, size_t n)
{
	bool l16_19 = n >= 16 && n <= 19;

	if (d[0] == '4')
		return n == 13 || n == 16 || n == 19;                       /* Visa */
	if (prefix_in(d, 51, 55, 2) || prefix_in(d, 2221, 2720, 4))
		return n == 16;                                              /* Mastercard */
	if (prefix_in(d, 34, 34, 2) || prefix_in(d, 37, 37, 2))
		return n == 15;                                              /* Amex */
	if (prefix_in(d, 300, 305, 3) || prefix_in(d, 36, 36, 2) || prefix_in(d, 38, 39, 2) ||
	    prefix_in(d, 3095, 3095, 4))
		return n >= 14 && n <= 19;                                   /* Diners */
	if (prefix_in(d, 6011, 6011, 4) || prefix_in(d, 644, 649, 3) || prefix_in(d, 65, 65, 2))
		return l16_19;                                               /* Discover, RuPay */
	if (prefix_in(d, 3528, 3589, 4))
		return l16_19;                                               /* JCB */
	if (prefix_in(d, 1800, 1800, 4) || prefix_in(d, 2131, 2131, 4))
		return n == 15;                                              /* JCB (older) */
	if (prefix_in(d, 2200, 2204, 4) || prefix_in(d, 62, 62, 2) || prefix_in(d, 60, 60, 2) ||
	    prefix_in(d, 81, 82, 2))
		return l16_19;                                               /* Mir, UnionPay, RuPay */
	if (prefix_in(d, 50, 50, 2) || prefix_in(d, 56, 69, 2))
		return n >= 12 && n <= 19;                                   /* Maestro */
	return false;
}

/* Groups of a card number as written: four-digit groups (the last may be
 * shorter), or Amex/Diners 4-6-5 and 4-6-4, all with one separator. */
static bool card_layout_ok(const char *s, size_t n)
{
	unsigned gl[20];
	size_t ng = 0;
	char sep = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '-') {
			if (sep && s[i] != sep)
				return false;
			sep = s[i];
			continue;
		}
		if (i == 0 || s[i - 1] == ' ' || s[i - 1] == '-') {
			if (ng == CA_ARRAY_SIZE(gl))
				return false;
			gl[ng++] = 0;
		}
		gl[ng - 1]++;
	}
	if (ng == 1)
		return true;
	if (ng == 3 && gl[0] == 4 && gl[1] == 6 && (gl[2] == 5 || gl[2] == 4))
		return true;
	for (size_t i = 0; i + 1 < ng; i++)
		if (gl[i] != 4)
			return false;
	return gl[ng - 1] >= 1 && gl[ng - 1] <= 4;
}

static int on_card(const ca_pii *p, const char *text, size_t len, size_t b, size_t e, pcre2_match_data *md,
		   ca_pii_spans *out)
{
	(void)p, (void)md;
	/* Try the whole run, then without trailing groups that may belong to
	 * the next words ("4111 1111 1111 1111 12"). */
	while (e > b) {
		char d[20];
		size_t n = 0;

		for (size_t i = b; i < e && n < sizeof d; i++)
			if (text[i] >= '0' && text[i] <= '9')
				d[n++] = text[i];
		if (n >= 12 && n <= 19 && card_layout_ok(text + b, e - b) && ca_pii_luhn_ok(text + b, e - b)) {
			/* the nearer word decides: "loyalty card 6011 ..." is no card */
			size_t dc = pii_cue_dist_before(text, b, 40, card_cues);
			size_t dn = pii_cue_dist_before(text, b, 30, not_card_cues);
			bool cue = dc != SIZE_MAX && dc < dn;
			bool neg = dn != SIZE_MAX && !cue;
			double c;

			if (n == 12)
				/* Maestro issues 12 digits; too short to trust without a word */
				c = cue ? 0.85 : 0.0;
			else
				c = known_issuer(d, n) ? 0.9 : 0.75;
			if (cue)
				c += 0.1;
			else if (neg)
				c -= 0.35;
			if (c >= 0.05)
				return ca_pii_spans_push(out, (uint32_t)b, (uint32_t)e, CA_PII_CREDIT_CARD, c);
			return 0;
		}
		/* drop the last group */
		size_t k = e;
		while (k > b && text[k - 1] != ' ' && text[k - 1] != '-')
			k--;
		if (k <= b)
			break;
		e = k - 1;
	}
	(void)len;
	return 0;
}

int pii_scan_card(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out)
{
	return each_match(p, p->re_card, text, len, on_card, out);
}

/* ---- IBAN ---- */

static const char *const iban_cues[] = {"iban", "bank account", "account", "transfer", "wire", "sepa", NULL};

static int on_iban(const ca_pii *p, const char *text, size_t len, size_t b, size_t e, pcre2_match_data *md,
		   ca_pii_spans *out)
{
	(void)p, (void)md;
	while (e > b + 4) {
		if (ca_pii_iban_ok(text + b, e - b))
			return ca_pii_spans_push(out, (uint32_t)b, (uint32_t)e, CA_PII_IBAN,
						 pii_cue_before(text, b, 40, iban_cues) ? 0.99 : 0.95);
		/* grouped form: try without the last group */
		size_t k = e;
		while (k > b && text[k - 1] != ' ')
			k--;
		if (k <= b)
			break;
		e = k - 1;
	}
	(void)len;
	return 0;
}

int pii_scan_iban(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out)
{
	return each_match(p, p->re_iban, text, len, on_iban, out);
}

/* ---- US social security numbers ---- */

static const char *const ssn_cues[] = {
	"ssn", "ss#", "ss no", "social security", "social", "security number", "taxpayer", "tin", NULL,
};

static unsigned num(const char *s, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

static int on_ssn(const ca_pii *p, const char *text, size_t len, size_t b, size_t e, pcre2_match_data *md,
		  ca_pii_spans *out)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	char sep = ov[5] > ov[4] ? text[ov[4]] : 0;
	bool cue = pii_cue_before(text, b, 40, ssn_cues);
	double c;

	(void)p, (void)len;
	if (!ca_pii_ssn_ok(num(text + ov[2], 3), num(text + ov[6], 2), num(text + ov[8], 4)))
		return 0;
	if (sep == '-')
		c = cue ? 0.97 : 0.85;
	else if (sep == ' ')
		c = cue ? 0.9 : 0.45;
	else
		c = cue ? 0.9 : 0.0;
	if (c < 0.05)
		return 0;
	return ca_pii_spans_push(out, (uint32_t)b, (uint32_t)e, CA_PII_US_SSN, c);
}

int pii_scan_ssn(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out)
{
	return each_match(p, p->re_ssn, text, len, on_ssn, out);
}

/* ---- IP addresses ---- */

static const char *const version_cues[] = {"version", "v", "ver", "release", "build", NULL};

static int on_ipv4(const ca_pii *p, const char *text, size_t len, size_t b, size_t e, pcre2_match_data *md,
		   ca_pii_spans *out)
{
	(void)p, (void)md, (void)len;
	return ca_pii_spans_push(out, (uint32_t)b, (uint32_t)e, CA_PII_IP_ADDRESS,
				 pii_cue_before(text, b, 12, version_cues) ? 0.4 : 0.9);
}

static int on_ipv6(const ca_pii *p, const char *text, size_t len, size_t b, size_t e, pcre2_match_data *md,
		   ca_pii_spans *out)
{
	char buf[64];
	unsigned char addr[16];
	size_t hex = 0;

	(void)p, (void)md, (void)len;
	if (e - b >= sizeof buf)
		return 0;
	memcpy(buf, text + b, e - b);
	buf[e - b] = '\0';
	for (size_t i = 0; buf[i]; i++)
		if (buf[i] != ':' && buf[i] != '.')
			hex++;
	/* "::1" and the like carry no one's identity; times ("12:30:45") fail
	 * inet_pton. */
	if (hex < 4 || inet_pton(AF_INET6, buf, addr) != 1)
		return 0;
	return ca_pii_spans_push(out, (uint32_t)b, (uint32_t)e, CA_PII_IP_ADDRESS, 0.9);
}

int pii_scan_ip(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out)
{
	int r = each_match(p, p->re_ipv4, text, len, on_ipv4, out);

	return r < 0 ? r : each_match(p, p->re_ipv6, text, len, on_ipv6, out);
}

/* ---- configured account and order numbers ---- */

static const char *const account_cues[] = {"account", "acct", "customer number", "customer id", "member", NULL};
static const char *const order_cues[] = {"order", "purchase", "po", "invoice", NULL};

int pii_scan_patterns(const ca_pii *p, ca_pii_type type, const char *text, size_t len, ca_pii_spans *out)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < p->n_pat; i++) {
		const pii_pattern *pt = &p->pat[i];
		pcre2_match_data *md;
		size_t pos = 0, b, e;

		if (pt->type != type)
			continue;
		md = pcre2_match_data_create_from_pattern(pt->re, NULL);
		if (!md)
			return CA_ENOMEM;
		while (r == 0 && pii_next(pt->re, md, text, len, &pos, &b, &e)) {
			bool cue = pii_cue_before(text, b, 40, (const char *const *)pt->cues) ||
				   pii_cue_before(text, b, 40, type == CA_PII_ORDER_NUMBER ? order_cues : account_cues);

			r = ca_pii_spans_push(out, (uint32_t)b, (uint32_t)e, type, cue ? 0.95 : 0.6);
		}
		pcre2_match_data_free(md);
	}
	return r;
}
