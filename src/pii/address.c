/* SPDX-License-Identifier: MIT */
/*
 * The street address recogniser. A core is found by PCRE2: a house number,
 * street name words and a street type (USPS Publication 28 suffixes such as
 * "Street", "Ave", "Way"; leading types of Romance and Slavic addresses such
 * as "Rue", "Via", "ul."; the compound endings of Germanic, Nordic, Finnish,
 * Dutch and Hungarian street names such as "-strasse", "-vej", "-katu",
 * "u."), or a number, name words and a number ("30102 Kaevu 94"); military
 * (PSC/Unit ... Box, APO/FPO/DPO) and post office boxes; "the corner of A
 * and B". The core then grows over what follows it on the same or the next
 * lines when that is an apartment or unit, a postal code, a state code or a
 * city or country name, so "12 Main St\nApt. 3\nSpringfield, IL 62704" is
 * one span. The confidence rises with each such part and with a cue word
 * ("address", "lives at") before it.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A capitalised (or all-capital) word in any script. */
#define CW "\\p{Lu}[\\p{L}\\p{M}'\\x{2019}\\-]*"
/* Lower-case particles inside street and place names. */
#define CONN "(?:de|del|della|dei|di|da|do|dos|das|du|des|la|le|les|el|al|e|y|i|van|von|der|den|ten|ter|het|of|the|am|an|im|zum|zur|sur|en)"
#define NAMEW "(?:" CW "\\.?|" CONN ")"
#define NUM "[0-9]{1,6}[A-Za-z]?(?![\\w])"
/* House number; generated data (and some countries) put two numbers. */
#define HNUM "(?<![\\w.,\\-/:])" NUM "(?:[ ]" NUM ")?"
#define SP "[ ]+"
#define NOT_MONTH "(?!(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|july|august|september|october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\\b)"

/* USPS Publication 28 appendix C1 street suffixes that are plainly street
 * words; the rest of C1 ("Park", "Green", "Union"...) are weak. */
#define EN_STRONG \
	"(?:Street|St|Avenue|Ave|Av|Road|Rd|Drive|Dr|Lane|Ln|Boulevard|Blvd|Court|Ct|Place|Pl|Square|Sq|" \
	"Terrace|Ter|Parkway|Pkwy|Way|Circle|Cir|Highway|Hwy|Trail|Trl|Crescent|Cres|Close|Alley|Aly|Plaza|" \
	"Plz|Loop|Pike|Expressway|Expy|Freeway|Fwy|Turnpike|Tpke|Causeway|Motorway|Mews|Row|Streets|Roads|" \
	"Avenues|Drives|Lanes|Courts|Ways)"
#define EN_WEAK \
	"(?:Point|Points|Pt|Heights|Hts|Park|Parks|Gardens|Gdns|Green|Greens|Harbor|Harbors|Harbour|Bridge|Brg|" \
	"Mall|Forge|Forges|Dale|Hill|Hills|View|Views|Ridge|Crossing|Xing|Junction|Estate|Estates|Landing|" \
	"Meadow|Meadows|Oval|Quay|Wharf|Course|Creek|Cove|Canyon|Fields|Field|Flat|Flats|Ford|Fork|Forks|Fort|" \
	"Gateway|Glen|Haven|Island|Isle|Knoll|Lake|Lakes|Manor|Mill|Mills|Mission|Mount|Mountain|Orchard|" \
	"Pass|Passage|Pines|Plain|Plains|Port|Prairie|Ranch|Rapids|Rest|Shore|Shores|Spring|Springs|Spur|" \
	"Station|Stream|Summit|Trace|Track|Tunnel|Valley|Villa|Village|Ville|Vista|Well|Wells|Wood|Woods|" \
	"Brook|Brooks|Burg|Bypass|Camp|Cape|Center|Centre|Cliff|Cliffs|Club|Common|Commons|Corner|Corners|" \
	"Crest|Curve|Dam|Divide|Falls|Ferry|Garden|Gate|Hollow|Inlet|Key|Keys|Light|Lights|Lock|Locks|Lodge|" \
	"Neck|Overpass|Ramp|River|Route|Shoal|Shoals|Skyway|Underpass|Walk|Walks|Grove|Groves|Path|Run|Glens|" \
	"Islands|Squares|Radial|Trailer|Vias|Pointe|Grn|Bnd|Bend)"
/* Street types written before the name. */
#define LEAD \
	"(?:(?i:Rue|Avenue|Avenida|Avda\\.?|Av\\.|Calle|Carrer|Rua|Via|Viale|Vicolo|Piazza|Piazzale|Strada|" \
	"Corso|Largo|Boulevard|Bd\\.|Chemin|All\\x{e9}e|Impasse|Route|Camino|Paseo|Travessa|Pra\\x{e7}a|Praca|" \
	"Ulica|ul\\.|al\\.|Aleja|Odos|Odhos|Plac|Quai|Cours|Rambla|Ronda|Carretera|Avinguda|Passeig|Jalan|" \
	"Jl\\.|Calea|Strada|Bulevardul|Prospekt|Ulitsa|Naberezhnaya|Pereulok))"
/* Endings of one-word street names. */
#define CMP_END \
	"(?:stra(?:ss|\\x{df})e|str\\.|gasse|weg|platz|allee|damm|ufer|steig|pfad|chaussee|markt|graben|" \
	"vej|gade|gatan|gata|gr\\x{e4}nd|v\\x{e4}gen|v\\x{e4}g|veien|vegen|vegur|str\\x{e6}ti|katu|tie|kuja|" \
	"polku|kaari|rinne|raitti|straat|laan|gracht|plein|dreef|singel|kade|steeg|hove|utca|caddesi|sokak|" \
	"sok\\.|iela|gatv\\x{117}|puiestee|tee|cesta|ulica|stra\\x{df}e)"
/* Street types written in lower case after the name: Hungarian "u.",
 * "\xc3\xbat", "k\xc3\xb6r\xc3\xbat", Estonian "tee", "p\xc3\xb5ik", Finnish "tie", Nordic
 * "gata", "vej", Slavic "ulica", "cesta", Latvian "iela". */
#define TYPE_AFTER \
	"(?:u\\.|\\x{fa}t|\\x{fa}tja|utca|t\\x{e9}r|krt\\.|k\\x{f6}r\\x{fa}t|rkp\\.|kapu|k\\x{f6}z|sor|s\\x{e9}t\\x{e1}ny|" \
	"tee|p\\x{f5}ik|tie|gata|gatan|vej|vei|veien|vegen|ulica|cesta|iela|stra\\x{df}e|strasse|gasse|weg|str\\.)"

/* The core patterns over a word pattern W: capitalised words in normal
 * text, any words in a text written all in lower case. */
#define NAMEW_(W) "(?:" W "\\.?|" CONN ")"
#define CORE(W, CMPW)                                                                                        \
	"(?:"                                                                                                \
	/* leading type: "29 Rue de Tanger", "Via Roma 131", "ul. Zamkowa 33" */                             \
	"(?<lead>" HNUM SP LEAD "(?:" SP CONN ")*" SP W "\\.?(?:" SP NAMEW_(W) "){0,5}(?:" SP NUM ")?"         \
	"|" LEAD "(?:" SP CONN ")*" SP W "\\.?(?:" SP NAMEW_(W) "){0,5}?" SP NUM ")"                          \
	/* type words after the name: "Kir\xc3\xa1ly u. 15.", "Luite tee 87" */                            \
	"|(?<hu>(?:" HNUM SP ")?" W "(?:" SP W "){0,2}" SP "(?i:" TYPE_AFTER ")" SP NUM "\\.?)"            \
	/* compound endings: "Loorenstrasse 149", "91215 Harjukuja 54" */                                   \
	"|(?<cmp>(?:" HNUM SP ")?(?:" W SP "){0,2}(?<cmpw>" CMPW CMP_END ")" SP NUM ")"                       \
	/* English: "615 Benedum Drive", "1668 Glyn St" */                                                  \
	"|(?<en>" HNUM SP NOT_MONTH W "\\.?(?:" SP NAMEW_(W) "){0,4}?" SP "(?:(?<strong>" EN_STRONG ")|" EN_WEAK \
	")\\.?(?![\\p{L}]))"                                                                                  \
	/* number, name, number: "30102 Kaevu 94" */                                                        \
	"|(?<nn>" HNUM SP NOT_MONTH "(?<nnw>" W "(?:" SP NAMEW_(W) "){0,3})" SP "[0-9]{1,6}(?![\\w])(?![.,\\-/][0-9]))" \
	/* no number, a full street word: "on Marina Fort Street" */                                        \
	"|(?<bare>(?<![\\w])" NOT_MONTH "(?<barew>" W "(?:" SP W "){0,2})" SP                                \
	"(?:Street|Avenue|Road|Boulevard|Lane|Drive|Parkway|Highway)(?![\\p{L}]))"                           \
	")"

/* Any word, for texts without capitals. */
#define ANYW "[\\p{L}\\p{M}][\\p{L}\\p{M}'\\x{2019}\\-]*"

static const char re_core_src[] = CORE(CW, "\\p{Lu}[\\p{L}\\p{M}]*");
static const char re_core_lower_src[] = CORE(ANYW, "[\\p{L}][\\p{L}\\p{M}]*");

/* An apartment, suite or unit. */
static const char re_unit_src[] =
	"(?i:apt\\.?|apartment|suite|ste\\.?|unit|flat|floor|fl\\.|room|rm\\.?|bldg\\.?|building|dept\\.?|#)"
	"[ ]?#?[0-9]{1,5}[A-Za-z]?(?![\\w])";
/* Postal codes: digits (ZIP+4), UK, Canada, Netherlands. */
static const char re_zip_src[] =
	"(?:[0-9]{4,6}(?:-[0-9]{4})?|[A-Z]{1,2}[0-9][A-Z0-9]?[ ][0-9][A-Z]{2}|[A-Z][0-9][A-Z][ ]?[0-9][A-Z][0-9]|"
	"[0-9]{4}[ ]?[A-Z]{2})(?![\\w])";
/* A city, state or country: capitalised words with particles, an optional
 * parenthesis ("Cyprus (Greek)"), or a 2-3 letter state code. */
static const char re_place_src[] =
	"(?:" CW "(?:[ ]" NAMEW "){0,3}(?:[ ]\\(" CW "(?:[ ]" CW "){0,2}\\))?|[A-Z]{2,3})(?![\\w:@])(?![ ]?:)";
static const char re_military_src[] =
	"(?i:(?:PSC|CMR|Unit)[ ][0-9]{3,5},?[ ]Box[ ][0-9]{3,5}(?:,?\\s{1,4}(?:APO|FPO|DPO)[ ](?:AA|AE|AP)[ ][0-9]{5})?"
	"|USS[ ]\\p{Lu}[\\p{L}]+(?:[ ]\\p{Lu}[\\p{L}]+)?,?\\s{1,4}FPO[ ](?:AA|AE|AP)[ ][0-9]{5}"
	"|(?:APO|FPO|DPO)[ ](?:AA|AE|AP)[ ][0-9]{5})(?![\\w])";
static const char re_pobox_src[] =
	"(?<![\\w])(?i:P\\.?[ ]?O\\.?[ ]?Box|Post[ ]Office[ ]Box|Postfach|Apartado|Caixa[ ]Postal|Boite[ ]Postale)"
	"[ ]+[0-9]{1,6}(?![\\w])";
/* "the corner of Al\xc5\xa1ova 408 and Vedzizhev Greens": after "corner of", up to six
 * words of any case up to "and", then capitalised words and numbers (any
 * words in a lower-case text). */
#define CORNER(BW)                                                                                   \
	"(?i:(?:the[ ])?corner[ ]of)[ ](?:[0-9]{1,6}\\.?[ ])?" ANYW "\\.?(?:[ ](?:" ANYW "\\.?|[0-9]{1,5}\\.?(?![\\w]))){0,5}?" \
	"[ ]and[ ](?:[0-9]{1,6}[ ])?" BW "\\.?(?:[ ](?:" BW "\\.?|" CONN "|[0-9]{1,5}(?![\\w]))){0,4}"
static const char re_corner_src[] = CORNER(CW);
static const char re_corner_lower_src[] = CORNER(ANYW);
/* A bare street and number, taken only after an address cue. */
static const char re_cued_src[] = NOT_MONTH CW "(?:" SP NAMEW "){0,3}" SP NUM "(?![.,\\-/][0-9])";

static const char *const address_cues[] = {
	"address", "addresses", "live at", "lives at", "live in", "lives in", "lived in", "live on", "lives on",
	"living at", "located at", "located on", "reside at", "resides at", "residing at", "meet me at",
	"meet you at", "ship to", "shipped to", "send to", "sent to", "send it to", "deliver to",
	"delivered to", "moved to", "mail to", "street", "located", "billing", "shipping", "return to",
	"drops you off at", "stop at", "station is on", "now live in", NULL,
};

int pii_address_init(ca_pii *p, ca_err *err)
{
	int r = pii_compile(re_core_src, 0, &p->re_addr_core, err);

	if (r == 0)
		r = pii_compile(re_core_lower_src, PCRE2_CASELESS, &p->re_addr_core_lower, err);
	if (r == 0)
		r = pii_compile(re_corner_lower_src, 0, &p->re_addr_corner_lower, err);

	if (r == 0)
		r = pii_compile(re_unit_src, 0, &p->re_addr_unit, err);
	if (r == 0)
		r = pii_compile(re_zip_src, 0, &p->re_addr_zip, err);
	if (r == 0)
		r = pii_compile(re_place_src, 0, &p->re_addr_place, err);
	if (r == 0)
		r = pii_compile(re_military_src, 0, &p->re_addr_military, err);
	if (r == 0)
		r = pii_compile(re_pobox_src, 0, &p->re_addr_pobox, err);
	if (r == 0)
		r = pii_compile(re_corner_src, 0, &p->re_addr_corner, err);
	if (r == 0)
		r = pii_compile(re_cued_src, 0, &p->re_addr_cued, err);
	return r;
}

static bool all_caps(const char *s, size_t n)
{
	bool letter = false;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'a' && c <= 'z')
			return false;
		if (c >= 'A' && c <= 'Z')
			letter = true;
		/* non-ASCII lower-case Latin-1 letters (c3 a0..c3 bf) */
		if (c == 0xC3 && i + 1 < n && (unsigned char)s[i + 1] >= 0xA0)
			return false;
		if (c >= 0xC4)
			letter = true;
	}
	return letter;
}

/* The extent of an address that starts with the core [b, e): units,
 * postal codes and place names that follow on the same line (after a comma,
 * or in capitals) or on the next few lines. *ret_parts counts them. */
static size_t extend(const ca_pii *p, pcre2_match_data *md, const char *text, size_t len, size_t e,
		     unsigned *ret_parts)
{
	unsigned parts = 0, newlines = 0;
	bool after_num = true; /* the core ends in a number or a street type */

	for (;;) {
		size_t q = e, m;
		bool comma = false, nl = false;

		while (q < len) {
			size_t bl;

			if (text[q] == ' ' || text[q] == '\t' || text[q] == ',' || text[q] == '\n' || text[q] == '\r') {
				if (text[q] == ',')
					comma = true;
				if (text[q] == '\n') {
					nl = true;
					newlines++;
				}
				q++;
			} else if (nl && (bl = pii_bullet(text, len, q)) > 0 && pii_line_start(text, q)) {
				q += bl;
			} else {
				break;
			}
		}
		if (q == e || q >= len || newlines > 6 || (nl && q > e + 1 && text[q - 1] == '\n' && text[q - 2] == '\n'))
			break;
		if ((m = pii_match_at(p->re_addr_unit, md, text, len, q)) > 0) {
			after_num = true;
		} else if ((m = pii_match_at(p->re_addr_zip, md, text, len, q)) > 0) {
			after_num = true;
		} else if ((m = pii_match_at(p->re_addr_place, md, text, len, q)) > 0) {
			/* a place word on the same line needs a comma, capitals or a
			 * unit/number just before ("Apt. 615 Moosleerau") */
			if (!comma && !nl && !after_num && !all_caps(text + q, m - q))
				break;
			after_num = false;
		} else {
			break;
		}
		parts++;
		e = m;
	}
	*ret_parts = parts;
	return e;
}

static double capped(double c)
{
	return c > 0.97 ? 0.97 : c;
}

static int push_address(const ca_pii *p, pcre2_match_data *md, const char *text, size_t len, size_t b, size_t e,
			double base, ca_pii_spans *out)
{
	unsigned parts = 0;
	size_t end = extend(p, md, text, len, e, &parts);
	double c = base + 0.15 * (parts > 2 ? 2 : parts);

	if (pii_cue_before(text, b, 48, address_cues))
		c += 0.15;
	return ca_pii_spans_push(out, (uint32_t)b, (uint32_t)end, CA_PII_STREET_ADDRESS, capped(c));
}

/* The bytes of named group `name` of the last match, false when unset. */
static bool group(const pcre2_code *re, pcre2_match_data *md, const char *name, size_t *ret_b, size_t *ret_e)
{
	int n = pcre2_substring_number_from_name(re, (PCRE2_SPTR)name);
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);

	if (n <= 0 || (uint32_t)n >= pcre2_get_ovector_count(md) || ov[2 * n] == PCRE2_UNSET || ov[2 * n + 1] <= ov[2 * n])
		return false;
	*ret_b = ov[2 * n];
	*ret_e = ov[2 * n + 1];
	return true;
}

/* Whether every word of text[b, e) is a common English word ("Musicians
 * Of The", "During"): such words name no street. False without a lexicon. */
static bool all_common(const ca_pii *p, const char *text, size_t b, size_t e)
{
	size_t i = b;

	if (!p->lx)
		return false;
	while (i < e) {
		size_t j = i;
		char *f;
		unsigned fl;

		while (j < e && text[j] != ' ')
			j++;
		if (j > i && !(text[i] >= '0' && text[i] <= '9')) {
			f = pii_fold(text + i, j - i);
			fl = f ? lx_flags(p->lx, f) : LX_COMMON;
			free(f);
			if (!(fl & LX_COMMON) || (fl & (LX_GIVEN | LX_SURNAME)))
				return false;
		}
		i = j + 1;
	}
	return true;
}

static bool has_upper_ascii(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] >= 'A' && text[i] <= 'Z')
			return true;
	return false;
}

int pii_scan_address(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out)
{
	bool lower = !has_upper_ascii(text, len);
	const pcre2_code *core = lower ? p->re_addr_core_lower : p->re_addr_core;
	const pcre2_code *corner = lower ? p->re_addr_corner_lower : p->re_addr_corner;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(core, NULL);
	pcre2_match_data *md2 = pcre2_match_data_create(64, NULL);
	size_t pos = 0, b, e, gb, ge;
	int r = 0;

	if (!md || !md2) {
		pcre2_match_data_free(md);
		pcre2_match_data_free(md2);
		return CA_ENOMEM;
	}
	while (r == 0 && pii_next(core, md, text, len, &pos, &b, &e)) {
		double base;

		if (group(core, md, "lead", &gb, &ge) || group(core, md, "hu", &gb, &ge))
			base = 0.8;
		else if (group(core, md, "cmpw", &gb, &ge))
			base = all_common(p, text, gb, ge) ? 0.0 : 0.75;
		else if (group(core, md, "en", &gb, &ge))
			base = group(core, md, "strong", &gb, &ge) ? 0.8 : 0.55;
		else if (group(core, md, "nnw", &gb, &ge))
			base = all_common(p, text, gb, ge) ? 0.0 : 0.4; /* needs more to count */
		else if (group(core, md, "barew", &gb, &ge))
			base = all_common(p, text, gb, ge) ? 0.0 : 0.45;
		else
			base = 0.0;
		if (base > 0.0)
			r = push_address(p, md2, text, len, b, e, base, out);
	}
	pos = 0;
	while (r == 0 && pii_next(p->re_addr_military, md2, text, len, &pos, &b, &e))
		r = push_address(p, md2, text, len, b, e, 0.85, out);
	pos = 0;
	while (r == 0 && pii_next(p->re_addr_pobox, md2, text, len, &pos, &b, &e))
		r = push_address(p, md2, text, len, b, e, 0.8, out);
	pos = 0;
	while (r == 0 && pii_next(corner, md2, text, len, &pos, &b, &e))
		r = push_address(p, md2, text, len, b, e, 0.85, out);
	pos = 0;
	while (r == 0 && pii_next(p->re_addr_cued, md2, text, len, &pos, &b, &e))
		if (pii_cue_before(text, b, 32, address_cues))
			r = push_address(p, md2, text, len, b, e, 0.5, out);
	pcre2_match_data_free(md);
	pcre2_match_data_free(md2);
	return r;
}
