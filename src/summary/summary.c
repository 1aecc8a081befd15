/* SPDX-License-Identifier: MIT */
/*
 * The conversation summariser behind the close-of-chat note. It is extractive
 * and role-aware: every customer and representative sentence is tokenised once
 * and scored against small cue tables (problem statements, actions, outcomes,
 * confirmations, next steps, pleasantries, identity requests); sentences are
 * then handed out greedily, one section after another, so a sentence is used
 * at most once and each line carries the message id and byte span it came
 * from. System and bot messages are never read. The cue tables are plain
 * English phrases so that a support lead can read and tune them; the weights
 * are hand-set on invented chats and on the ABCD dev conversations. The
 * brief (two lines: the customer's opening statement, where the
 * representative left it) reuses the same reading, and its prose renderer
 * turns lines into reported speech about the named parties.
 */
#include "summary.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define DEFAULT_PER_SECTION 3
/* A note states the problem in one or two sentences; more is a transcript. */
#define ISSUE_MAX 2

#define ISSUE_MIN 1.0
/* A second issue sentence must carry real weight next to the first. */
#define ISSUE_SECOND_RATIO 0.3
#define ACTION_MIN 1.5
#define OUTCOME_MIN 1.0
#define NEXT_MIN 2.0
#define CONFIRM_MIN 2.0
/* Outcomes and confirmations are what the chat ends with, not what it starts with. */
#define OUTCOME_FROM 0.5
#define LATE_FROM 0.6

/*
 * A cue is a phrase matched against consecutive tokens. Words are separated
 * by spaces; "a|b" accepts either folded form; "~word" also accepts any token
 * with the same Snowball stem ("~refund" matches "refunded"); "#" accepts a
 * number token. Apostrophes compare equal whether typed ' or U+2019.
 */
typedef struct cue {
	const char *phrase;
	double w;
} cue;

/* Customer sentences that state a problem or a request. */
static const cue ISSUE_CUES[] = {
	{ "~need", 1.5 }, { "want|wanted|wanting", 1 }, { "would like", 1 }, { "i'd|id like", 1 },
	{ "trying|tried|try to", 1 }, { "can't|cant|cannot", 2 }, { "unable", 2 },
	{ "not able", 2 }, { "couldn't|couldnt", 1.5 }, { "won't|wont", 1.5 },
	{ "wrong", 2 }, { "broken|broke", 2 }, { "not working", 2.5 },
	{ "doesn't|doesnt|didn't|didnt work", 2 }, { "isn't|isnt working", 2.5 },
	{ "stopped working", 2.5 }, { "~problem", 2 }, { "~issue", 2 }, { "help", 1 },
	{ "~return", 1.5 }, { "~refund", 2 }, { "~charge", 1.5 }, { "twice|double", 1 },
	{ "overcharged", 2 }, { "missing", 2 }, { "didn't|didnt receive|recieve|get", 2.5 },
	{ "haven't|havent received|recieved|gotten|got", 2.5 },
	{ "never received|recieved|arrived|came|got", 2.5 },
	{ "not received|recieved|arrived|delivered", 2.5 }, { "hasn't|hasnt arrived|come|shipped", 2.5 },
	{ "~error", 2 }, { "how do|can i", 1.5 }, { "how to", 1 }, { "when will", 1.5 },
	{ "where is", 1.5 }, { "why", 1 }, { "~damage", 2 }, { "defective", 2 },
	{ "~delay", 1.5 }, { "late", 1 }, { "~cancel", 1.5 }, { "~change", 1 },
	{ "~exchange", 1.5 }, { "~question", 1 }, { "wondering|wonder", 1 }, { "forgot", 1.5 },
	{ "locked out", 2 }, { "~password", 1 }, { "too small|big|large|tight|short|long", 2 },
	{ "doesn't|doesnt fit", 2 }, { "~status", 1 }, { "~dispute", 1.5 }, { "stuck", 1.5 },
	{ "keeps", 1 }, { "slow", 1 }, { "~complain", 1.5 }, { "how much|long|many", 1 },
	{ "want|wanted|need|needed|like to know", 1.5 }, { "is it|that possible", 1 }, { "~curious", 1 },
	{ "been waiting", 1 },
	/* faults told plainly: "will not turn on", "does not charge" */
	{ "will|does|do|did|would not turn|switch|power|start|boot|charge|connect|pair|load|open|print|work", 2.5 },
	{ "won't|wont|doesn't|doesnt|didn't|didnt turn|switch|power|start|boot|charge|connect|pair|load|open", 1 },
	{ "nothing happens", 2 }, { "~flicker", 2 }, { "~crash", 2 }, { "~freez|frozen", 2 },
	{ "no longer", 1.5 }, { "~fail", 1.5 }, { "dead", 1.5 }, { "stays|stay dark|off|black|blank", 2 },
};

/* What the representative did or is doing. */
static const cue ACTION_CUES[] = {
	{ "i have", 2 }, { "i've|ive", 2 }, { "we have", 1.5 }, { "we've", 1.5 },
	{ "i just", 1 }, { "went|gone ahead", 1.5 }, { "i will", 1 }, { "i'll", 1 },
	{ "we will|we'll", 1 }, { "i can", 0.75 }, { "let me", 1 }, { "i'm|im going to", 1 },
	{ "i am going to", 1 }, { "~process", 1.5 }, { "~refund", 1.5 }, { "~update", 1.5 },
	{ "sent|send", 1.5 }, { "~escalate", 1.5 }, { "~notify", 1.5 }, { "~reset", 1.5 },
	{ "~cancel", 1.5 }, { "~change", 1 }, { "issued", 1.5 }, { "~check", 1.5 },
	{ "~verify", 1.5 }, { "~validate", 1.5 }, { "applied|apply", 1.5 }, { "added", 1 },
	{ "~remove", 1.5 }, { "~submit", 1.5 }, { "created", 1 }, { "~generate", 1.5 },
	{ "credited", 1.5 }, { "~replace", 1.5 }, { "~schedule", 1.5 }, { "~confirm", 1 },
	{ "looked|look up|into|at", 1 }, { "pulled up", 1.5 }, { "~waive", 1.5 },
	{ "extended", 1 }, { "upgraded", 1 }, { "transferred", 1 }, { "forwarded", 1 },
	{ "~expedite", 1.5 }, { "~reship", 1.5 }, { "~restore", 1.5 }, { "~unlock", 1.5 },
	{ "noted", 1 }, { "found", 1 }, { "approved", 1 }, { "~initiate", 1.5 },
	{ "you try", 1.5 }, { "~troubleshoot", 1.5 },
};

/* Resolution or refusal: the state the case is left in. */
static const cue OUTCOME_CUES[] = {
	{ "has|have been", 1 }, { "is|are now", 1.5 }, { "should now", 1.5 }, { "now", 0.5 },
	{ "all set", 3 }, { "unfortunately", 2 }, { "can't|cant|cannot", 1.5 }, { "unable", 1.5 },
	{ "not able", 1.5 }, { "won't|wont be able", 1.5 }, { "not eligible", 2 },
	{ "~eligible", 1 }, { "~resolve", 2 }, { "fixed", 2 }, { "~success", 2 },
	{ "approved", 2 }, { "denied", 2 }, { "declined", 1.5 }, { "went through", 2 },
	{ "on its|the way", 2 }, { "is done", 1.5 }, { "~complete", 1.5 }, { "no longer", 1 },
	{ "~refund", 1 }, { "~process", 0.5 }, { "~cancel", 0.5 }, { "~policy", 1 },
	{ "good to go", 2.5 }, { "taken care of", 2.5 }, { "in progress", 1.5 }, { "currently", 1 },
	{ "will now", 1.5 }, { "credit|money|refund back", 2 }, { "your new", 1.5 },
	{ "your username|password|pin is", 2 }, { "new username|password|pin is", 2 },
};

/* A customer accepting the outcome. */
static const cue CONFIRM_CUES[] = {
	{ "~work", 1.5 }, { "not working", -3 }, { "still", -1 },
	{ "doesn't|doesnt|didn't|didnt|isn't|isnt", -1.5 }, { "got it", 2 }, { "~receive", 2 },
	{ "see it|that", 2 }, { "that did it", 2.5 }, { "fixed", 2 }, { "~solve", 2 },
	{ "~resolve", 2 }, { "perfect", 1 }, { "great", 1 }, { "awesome", 1 }, { "excellent", 1 },
	{ "~appreciate", 0.5 }, { "that helps|helped", 2 }, { "~understand", 1.5 },
	{ "makes sense", 2 }, { "okay|ok", 0.5 }, { "sounds good", 1.5 },
	{ "that's|thats fine", 1.5 }, { "will do", 1.5 }, { "went through", 2 },
	{ "do|did|does the trick", 2.5 },
	/* asides: what the customer says beside the point is not an outcome,
	 * however agreeable its words ("not urgent, any day works") */
	{ "not urgent", -4 }, { "no hurry|rush", -4 }, { "by the way", -4 }, { "honestly", -1.5 },
	{ "anyway|anyways", -1.5 }, { "meantime|meanwhile", -2 }, { "take your time", -4 },
	{ "take time", -2 }, { "~love", -1 },
	/* complaints about the result are no agreement to it */
	{ "no|never|not", -1.5 }, { "haven't|havent|hasn't|hasnt|wasn't|wasnt", -1.5 },
	{ "~disgust", -3 }, { "sucks", -3 }, { "~frustrat", -3 }, { "quit", -2 }, { "~waiting", -2 },
};

/* Commitments and instructions for after the chat. */
static const cue NEXT_CUES[] = {
	{ "will", 1 }, { "you will", 1.5 }, { "you'll|youll", 1.5 }, { "~receive", 1 },
	{ "should|will arrive|receive|get|see|be", 1.5 }, { "within", 1.5 },
	{ "# hours|hour|days|day|weeks|week|minutes|minute|business", 1.5 },
	{ "follow up", 2 }, { "follow-up|followup", 2 }, { "reach out", 1.5 },
	{ "give you a call", 2 }, { "call you", 1.5 }, { "contact you", 1.5 },
	{ "get back to you", 2 }, { "hear from", 1.5 }, { "please", 1 }, { "make sure", 1 },
	{ "keep an eye", 1.5 }, { "next", 0.5 }, { "once", 0.5 }, { "tomorrow", 1 },
	{ "by|via e-mail|email", 1 }, { "to your e-mail|email", 1 }, { "check your", 1.5 },
	{ "~expect", 1.5 }, { "going to", 0.5 }, { "in the mail", 1 }, { "~arrive", 1 },
	{ "after that", 1 }, { "from there", 1 }, { "you can", 1 }, { "you may", 0.5 },
	{ "you need to", 1.5 }, { "you'll|youll need to", 1.5 },
};

/* Pleasantries: subtracted, so "I can help you with that" is not an action. */
static const cue POLITE_CUES[] = {
	{ "how can|may i help|assist", 3 }, { "what can i help|do", 3 }, { "anything else", 3 },
	{ "help you with", 2 }, { "help you today", 3 }, { "can i help", 2 },
	{ "have a great|good|nice|wonderful", 3 }, { "thank you for", 2 }, { "thanks for", 2 },
	{ "thank you so much", 2 }, { "sorry to hear", 2 }, { "sorry for the|any", 2 },
	{ "sorry about that", 2 }, { "i apologize|apologise", 1.5 }, { "for your patience", 2 },
	{ "one|a moment", 2 }, { "just a second|sec|minute|moment", 2 }, { "give me a", 1.5 },
	{ "bear with me", 2 }, { "you're|youre welcome", 3 }, { "glad i could", 3 },
	{ "happy to help", 3 }, { "more assistance|help", 2 }, { "of more", 1.5 }, { "take care", 2 },
	{ "is that all", 2 }, { "will that be all", 3 }, { "welcome to", 2 }, { "great day", 2 },
	{ "good day|night|morning|afternoon|evening", 2 },
	{ "i hope", 2 }, { "hope you|your", 1.5 }, { "lose you", 2 }, { "you still|there", 2 },
	{ "no problem|problems|proble|worries", 3 }, { "need from me", 3 }, { "a|my pleasure", 3 },
	{ "enjoy the|your", 2 }, { "rest of your day", 3 },
};

/* The representative asking who the customer is: never an action. */
static const cue REQUEST_CUES[] = {
	{ "may|can|could i have|get|ask|grab|know|confirm|verify", 1 },
	{ "may|can|could i please", 1 }, { "what is|was your", 1 }, { "what's|whats your", 1 },
	{ "need your", 1 }, { "need the", 1 }, { "i need", 1 }, { "give me your", 1 },
	{ "provide|confirm|verify|enter your", 1 }, { "tell me your", 1 },
	{ "can|could you provide|confirm|verify|give|tell|send", 1 },
};

/* A party offering service: whoever says these is the representative. */
static const cue OFFER_CUES[] = {
	{ "how can|may i help|assist", 1 }, { "can|may i help|assist you", 1 },
	{ "what can i do for you", 1 }, { "what can i help", 1 }, { "what can i get|show you", 1 },
	{ "how can|may we help|assist", 1 }, { "welcome to", 1 }, { "what would you like", 1 },
	{ "are you being served|helped", 1 }, { "is there anything i can", 1 },
};

/* Words that carry no content on their own: greetings, acknowledgements. */
static const char *const PLEASANT_WORDS[] = {
	"hi", "hello", "hey", "hiya", "thanks", "thank", "thx", "ty", "welcome", "ok", "okay",
	"k", "sure", "yes", "yeah", "yep", "yup", "no", "nope", "nah", "great", "good",
	"perfect", "awesome", "bye", "goodbye", "morning", "afternoon", "evening", "night",
	"day", "nice", "wonderful", "cool", "alright", "fine", "please", "sorry", "lol", "wow",
	"hmm", "um", "oh", "well", "much", "lot", "appreciate", "appreciated", "excellent",
	"cheers", "care", "take", "bit", "moment", "second", "sec", "kind", "kindly", "gotcha",
	"right", "correct", "exactly", "absolutely", "definitely", "certainly", "amazing",
	"fantastic", "super", "love", "lovely", "glad", "happy", "pleasure", "anything", "else",
	"today", "there", "just", "ah", "hmmm", "np",
};

/* Words naming an identifier: "Username: x", "my e-mail is y" are not issues. */
static const char *const IDENTITY_WORDS[] = {
	"name", "full", "username", "user", "email", "e-mail", "address", "id", "number", "phone",
	"zip", "code", "account", "membership", "member", "level", "pin", "birthday", "dob",
	"identity", "gold", "silver", "bronze", "guest", "postal",
};

enum {
	T_ISSUE,
	T_ACTION,
	T_OUTCOME,
	T_CONFIRM,
	T_NEXT,
	T_POLITE,
	T_REQUEST,
	T_OFFER,
	N_TAB
};

static const struct {
	const cue *v;
	size_t n;
} TABLES[N_TAB] = {
	[T_ISSUE] = { ISSUE_CUES, CA_ARRAY_SIZE(ISSUE_CUES) },
	[T_ACTION] = { ACTION_CUES, CA_ARRAY_SIZE(ACTION_CUES) },
	[T_OUTCOME] = { OUTCOME_CUES, CA_ARRAY_SIZE(OUTCOME_CUES) },
	[T_CONFIRM] = { CONFIRM_CUES, CA_ARRAY_SIZE(CONFIRM_CUES) },
	[T_NEXT] = { NEXT_CUES, CA_ARRAY_SIZE(NEXT_CUES) },
	[T_POLITE] = { POLITE_CUES, CA_ARRAY_SIZE(POLITE_CUES) },
	[T_REQUEST] = { REQUEST_CUES, CA_ARRAY_SIZE(REQUEST_CUES) },
	[T_OFFER] = { OFFER_CUES, CA_ARRAY_SIZE(OFFER_CUES) },
};

/* One word of a compiled cue; `s` points into the static phrase. */
typedef struct cword {
	const char *s;
	size_t len;
	char *stem; /* heap, for "~" words */
	bool num;
} cword;

typedef struct ccue {
	size_t first, n;
	double w;
} ccue;

/* The cue tables with stems resolved by the caller's stemmer, built per call
 * because the stemmer is not shareable across threads. */
typedef struct matcher {
	ca_stemmer *st;
	cword *words;
	size_t n_words;
	ccue *cues;
	size_t tab_first[N_TAB + 1];
} matcher;

/* What one sentence looks like to the section pickers. */
typedef struct sent {
	size_t msg;
	uint32_t begin, end;
	ca_role role;
	double pos; /* message index over the conversation, 0 first .. 1 last */
	double issue, action, outcome, confirm, next, polite;
	unsigned n_content, n_ident;
	bool question, bare, request;
	bool substantive; /* neither bare nor only an identifier */
	int section; /* 0 while unassigned */
} sent;

static void matcher_done(matcher *m)
{
	if (m->words)
		for (size_t i = 0; i < m->n_words; i++)
			free(m->words[i].stem);
	free(m->words);
	free(m->cues);
	ca_stemmer_free(m->st);
	memset(m, 0, sizeof(*m));
}

static size_t phrase_words(const char *p)
{
	size_t n = 1;
	for (; *p; p++)
		n += *p == ' ';
	return n;
}

static int matcher_init(matcher *m)
{
	memset(m, 0, sizeof(*m));
	size_t n_cues = 0, n_words = 0;
	for (size_t t = 0; t < N_TAB; t++) {
		n_cues += TABLES[t].n;
		for (size_t i = 0; i < TABLES[t].n; i++)
			n_words += phrase_words(TABLES[t].v[i].phrase);
	}
	m->st = ca_stemmer_new();
	m->words = calloc(n_words, sizeof(*m->words));
	m->cues = calloc(n_cues, sizeof(*m->cues));
	if (!m->st || !m->words || !m->cues)
		goto oom;
	size_t c = 0;
	for (size_t t = 0; t < N_TAB; t++) {
		m->tab_first[t] = c;
		for (size_t i = 0; i < TABLES[t].n; i++, c++) {
			const char *p = TABLES[t].v[i].phrase;
			m->cues[c].first = m->n_words;
			m->cues[c].w = TABLES[t].v[i].w;
			while (*p) {
				const char *e = strchr(p, ' ');
				size_t len = e ? (size_t)(e - p) : strlen(p);
				cword *w = &m->words[m->n_words++];
				if (*p == '#') {
					w->num = true;
				} else if (*p == '~') {
					char tmp[32];
					w->s = p + 1;
					w->len = len - 1;
					if (w->len >= sizeof(tmp))
						w->len = sizeof(tmp) - 1; /* tables are ours; never true */
					memcpy(tmp, w->s, w->len);
					tmp[w->len] = '\0';
					w->stem = ca_stem(m->st, tmp);
					if (!w->stem)
						goto oom;
				} else {
					w->s = p;
					w->len = len;
				}
				m->cues[c].n++;
				p += len;
				while (*p == ' ')
					p++;
			}
		}
	}
	m->tab_first[N_TAB] = c;
	return 0;
oom:
	matcher_done(m);
	return CA_ENOMEM;
}

/* norm equals alt[0..alen), reading a typographic apostrophe as ASCII. */
static bool apos_eq(const char *norm, const char *alt, size_t alen)
{
	const unsigned char *p = (const unsigned char *)norm;
	size_t i = 0;
	while (*p) {
		char ch;
		if (p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0x99) {
			ch = '\'';
			p += 3;
		} else {
			ch = (char)*p++;
		}
		if (i >= alen || alt[i] != ch)
			return false;
		i++;
	}
	return i == alen;
}

static bool alts_match(const char *norm, const char *s, size_t len)
{
	while (len > 0) {
		const char *bar = memchr(s, '|', len);
		size_t l = bar ? (size_t)(bar - s) : len;
		if (apos_eq(norm, s, l))
			return true;
		if (!bar)
			break;
		len -= l + 1;
		s = bar + 1;
	}
	return false;
}

static bool word_match(const cword *w, const ca_token *t)
{
	if (w->num)
		return t->kind == CA_TOK_NUMBER;
	if (w->stem && t->kind == CA_TOK_WORD && t->stem && strcmp(t->stem, w->stem) == 0)
		return true;
	return t->norm && alts_match(t->norm, w->s, w->len);
}

static bool cue_match(const matcher *m, const ccue *c, const ca_tokens *toks)
{
	if (c->n == 0 || c->n > toks->n)
		return false;
	for (size_t i = 0; i + c->n <= toks->n; i++) {
		size_t j = 0;
		while (j < c->n && word_match(&m->words[c->first + j], &toks->v[i + j]))
			j++;
		if (j == c->n)
			return true;
	}
	return false;
}

/* Sum of the weights of the cues of one table found in the sentence; each
 * cue counts once, so repeating a word does not inflate a sentence. */
static double table_score(const matcher *m, int tab, const ca_tokens *toks)
{
	double s = 0;
	for (size_t c = m->tab_first[tab]; c < m->tab_first[tab + 1]; c++)
		if (cue_match(m, &m->cues[c], toks))
			s += m->cues[c].w;
	return s;
}

static bool word_in(const char *norm, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (apos_eq(norm, set[i], strlen(set[i])))
			return true;
	return false;
}

static double cap(double v, double hi)
{
	return v > hi ? hi : v;
}

/* Early customer turns usually state the problem; later ones answer questions. */
static double issue_weight(unsigned n_content, unsigned turn)
{
	double len = n_content <= 1 ? 0.7 : n_content == 2 ? 0.85 : n_content <= 25 ? 1.0 : 0.85;
	return len / (1.0 + 0.12 * turn);
}

/* Customers often drop the question mark: "do they come in red". */
static const char *const QUESTION_STARTS[] = {
	"do", "does", "did", "is", "are", "can", "could", "will", "would", "how", "what", "when",
	"where", "why", "which", "should",
};

static bool starts_question(const ca_tokens *toks)
{
	size_t i = 0;
	/* skip a greeting in front: "hi, is this jacket dry clean only" */
	while (i < toks->n && toks->v[i].kind == CA_TOK_WORD &&
	       word_in(toks->v[i].norm, PLEASANT_WORDS, CA_ARRAY_SIZE(PLEASANT_WORDS)))
		i++;
	return i < toks->n && toks->v[i].kind == CA_TOK_WORD &&
	       word_in(toks->v[i].norm, QUESTION_STARTS, CA_ARRAY_SIZE(QUESTION_STARTS));
}

/*
 * Score one sentence. `turn` counts the customer's earlier substantive
 * messages; *ret_substantive says whether this sentence makes the current
 * message one.
 */
static int analyse(const matcher *m, const ca_msg *msg, sent *s, unsigned turn, ca_tokens *toks,
		   bool *ret_substantive)
{
	ca_tokens_reset(toks);
	int r = ca_tokenize(msg->text + s->begin, s->end - s->begin, s->begin, m->st, toks);
	if (r < 0)
		return r;

	unsigned n_content = 0, n_ident = 0, n_id = 0;
	for (size_t i = 0; i < toks->n; i++) {
		const ca_token *t = &toks->v[i];
		if (t->kind != CA_TOK_WORD) {
			n_id++;
			continue;
		}
		if (ca_stopword(t->norm) || word_in(t->norm, PLEASANT_WORDS, CA_ARRAY_SIZE(PLEASANT_WORDS)))
			continue;
		n_content++;
		if (word_in(t->norm, IDENTITY_WORDS, CA_ARRAY_SIZE(IDENTITY_WORDS)))
			n_ident++;
	}
	s->n_content = n_content;
	s->n_ident = n_ident;
	s->bare = n_content == 0 && n_id == 0;
	s->question = memchr(msg->text + s->begin, '?', s->end - s->begin) != NULL;
	s->polite = table_score(m, T_POLITE, toks);
	/* "Order ID: 3348917502" or "cminh730@email.com" names the customer, it
	 * does not describe the problem. */
	bool idish = n_id > 0 && n_id * 2 >= n_content - n_ident;
	if (n_content == 0 && n_id > 0)
		idish = true;
	*ret_substantive = !s->bare && !idish;
	s->substantive = *ret_substantive;

	if (s->role == CA_ROLE_CUSTOMER) {
		if (s->bare)
			return 0;
		/* agreement is short and no question ("Got it?" asks) */
		if (!s->question && !starts_question(toks) && n_content <= 12)
			s->confirm = table_score(m, T_CONFIRM, toks);
		if (idish)
			return 0;
		double cues = cap(table_score(m, T_ISSUE, toks), 6);
		/* The opening question of a chat is usually the whole issue. */
		double q = s->question || starts_question(toks) ? (turn == 0 ? 1.25 : 0.75) : 0;
		double base = cues + q - s->polite;
		if (base > 0)
			s->issue = base * issue_weight(n_content, turn);
		return 0;
	}

	/* CA_ROLE_AGENT */
	if (s->bare)
		return 0;
	s->request = n_ident > 0 && table_score(m, T_REQUEST, toks) > 0;
	if (s->request)
		return 0;
	double a = cap(table_score(m, T_ACTION, toks), 5) - s->polite;
	double o = cap(table_score(m, T_OUTCOME, toks), 5) - s->polite;
	double x = cap(table_score(m, T_NEXT, toks), 6) - s->polite;
	if (s->question) {
		/* An offer phrased as a question ("shall I send a new label?") may
		 * still be an action; a question is never an outcome. */
		a *= 0.4;
		x *= 0.3;
		o = 0;
	}
	s->action = a;
	s->outcome = o;
	s->next = x;
	return 0;
}

typedef struct picker {
	const ca_msg *msgs;
	sent *v;
	size_t n;
	double *sc;     /* per-sentence score for the section being filled; < 0 = not eligible */
	size_t *chosen; /* indices given a section so far */
	size_t n_chosen;
} picker;

static bool same_text(const picker *p, const sent *a, const sent *b)
{
	size_t la = a->end - a->begin, lb = b->end - b->begin;
	return la == lb && memcmp(p->msgs[a->msg].text + a->begin, p->msgs[b->msg].text + b->begin, la) == 0;
}

/* A customer who repeats "I need a refund" should not fill a section twice. */
static bool duplicate(const picker *p, size_t i)
{
	for (size_t j = 0; j < p->n_chosen; j++)
		if (same_text(p, &p->v[p->chosen[j]], &p->v[i]))
			return true;
	return false;
}

/*
 * Give `section` to up to k unused sentences scoring at least `min`, best
 * first; ties go to the earlier sentence, or the later with `late`. Returns
 * how many were taken; *ret_best (may be NULL) gets the best score taken.
 */
static size_t pick(picker *p, int section, double min, size_t k, bool late, double *ret_best)
{
	size_t taken = 0;
	double best = 0;
	while (taken < k) {
		size_t arg = SIZE_MAX;
		for (size_t i = 0; i < p->n; i++) {
			if (p->v[i].section || p->sc[i] < min)
				continue;
			bool better = arg == SIZE_MAX || p->sc[i] > p->sc[arg] || (late && p->sc[i] == p->sc[arg]);
			if (better && !duplicate(p, i))
				arg = i;
		}
		if (arg == SIZE_MAX)
			break;
		p->v[arg].section = section;
		p->chosen[p->n_chosen++] = arg;
		if (taken == 0)
			best = p->sc[arg];
		taken++;
	}
	if (ret_best)
		*ret_best = best;
	return taken;
}

static void clear_scores(picker *p)
{
	for (size_t i = 0; i < p->n; i++)
		p->sc[i] = -1;
}

/* Pick up to k of the representative's sentences by one feature (a
 * `double` member of sent, given by offsetof) at or above `min`. */
static void pick_agent_by(picker *p, size_t feature, int section, double min, size_t k)
{
	clear_scores(p);
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].role == CA_ROLE_AGENT)
			p->sc[i] = *(const double *)((const char *)&p->v[i] + feature);
	pick(p, section, min, k, false, NULL);
}

static size_t count_role(const picker *p, int section, ca_role role)
{
	size_t c = 0;
	for (size_t i = 0; i < p->n; i++)
		c += p->v[i].section == section && p->v[i].role == role;
	return c;
}

/* Whether a representative's line already in the note (an action, an
 * outcome, a next step) comes before sentence i. */
static bool agent_line_before(const picker *p, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (p->v[j].role == CA_ROLE_AGENT && p->v[j].section != 0)
			return true;
	return false;
}

/* Issue first (only the customer states it), then the outcome, so that
 * "your refund has been processed" is read as a result, then next steps,
 * and whatever the representative did besides is an action. */
static void assign(picker *p, size_t k)
{
	double best = 0;
	sent *v = p->v;

	clear_scores(p);
	for (size_t i = 0; i < p->n; i++)
		if (v[i].role == CA_ROLE_CUSTOMER && v[i].issue > 0)
			p->sc[i] = v[i].issue;
	size_t ki = k < ISSUE_MAX ? k : ISSUE_MAX;
	if (pick(p, CA_SUM_ISSUE, ISSUE_MIN, 1, false, &best) == 1 && ki > 1) {
		double min2 = best * ISSUE_SECOND_RATIO;
		pick(p, CA_SUM_ISSUE, min2 > ISSUE_MIN ? min2 : ISSUE_MIN, ki - 1, false, NULL);
	}
	/* A note always says what the customer came with: with no cue strong
	 * enough, the customer's first statement, as the brief has it
	 * ("The screen of my tablet flickers since Monday."). */
	if (count_role(p, CA_SUM_ISSUE, CA_ROLE_CUSTOMER) == 0) {
		/* three content words: a sentence, not a name typed in answer */
		clear_scores(p);
		for (size_t i = 0; i < p->n; i++)
			if (v[i].role == CA_ROLE_CUSTOMER && v[i].substantive && v[i].polite <= 0 && v[i].n_content >= 3)
				p->sc[i] = 1.0 - (double)i / (double)p->n; /* earliest first */
		pick(p, CA_SUM_ISSUE, 0, 1, false, NULL);
	}

	/* One representative statement and at most one customer confirmation. */
	clear_scores(p);
	for (size_t i = 0; i < p->n; i++)
		if (v[i].role == CA_ROLE_AGENT && v[i].pos >= OUTCOME_FROM && v[i].outcome >= OUTCOME_MIN)
			p->sc[i] = v[i].outcome * (0.4 + 0.6 * v[i].pos);
	pick(p, CA_SUM_OUTCOME, 0, 1, true, NULL);

	pick_agent_by(p, offsetof(sent, next), CA_SUM_NEXT_STEPS, NEXT_MIN, k);
	pick_agent_by(p, offsetof(sent, action), CA_SUM_ACTIONS, ACTION_MIN, k);

	/* No explicit resolution cue: the last plain statement of the
	 * representative near the end is what the customer was left with. */
	if (count_role(p, CA_SUM_OUTCOME, CA_ROLE_AGENT) == 0) {
		clear_scores(p);
		for (size_t i = 0; i < p->n; i++)
			if (v[i].role == CA_ROLE_AGENT && v[i].pos >= LATE_FROM && !v[i].bare && !v[i].question &&
			    !v[i].request && v[i].polite <= 0 && v[i].n_content >= v[i].n_ident + 2)
				p->sc[i] = 1.0 + v[i].pos;
		pick(p, CA_SUM_OUTCOME, 0, 1, true, NULL);
	}
	/* A customer's confirmation is an outcome only as agreement to what the
	 * representative did or proposed before it. */
	if (k > count_role(p, CA_SUM_OUTCOME, CA_ROLE_AGENT)) {
		clear_scores(p);
		for (size_t i = 0; i < p->n; i++)
			if (v[i].role == CA_ROLE_CUSTOMER && v[i].pos >= LATE_FROM && v[i].confirm >= CONFIRM_MIN &&
			    agent_line_before(p, i))
				p->sc[i] = 1.0 + v[i].pos;
		pick(p, CA_SUM_OUTCOME, 0, 1, true, NULL);
	}
}

void ca_summary_done(ca_summary *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->lines[i].text);
		free(s->lines[i].msg_id);
	}
	free(s->lines);
	s->lines = NULL;
	s->n = 0;
}

static int emit(const picker *p, ca_summary *out)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++)
		n += p->v[i].section != 0;
	if (n == 0)
		return 0;
	out->lines = calloc(n, sizeof(*out->lines));
	if (!out->lines)
		return CA_ENOMEM;
	for (int sec = CA_SUM_ISSUE; sec <= CA_SUM_NEXT_STEPS; sec++) {
		for (size_t i = 0; i < p->n; i++) {
			const sent *s = &p->v[i];
			if (s->section != sec)
				continue;
			const ca_msg *m = &p->msgs[s->msg];
			ca_summary_line *l = &out->lines[out->n];
			size_t len = s->end - s->begin;
			l->section = (ca_summary_section)sec;
			l->role = s->role;
			l->begin = s->begin;
			l->end = s->end;
			l->text = malloc(len + 1);
			l->msg_id = strdup(m->id ? m->id : "");
			/* count the line now so ca_summary_done frees a half-made one */
			out->n++;
			if (!l->text || !l->msg_id)
				return CA_ENOMEM;
			memcpy(l->text, m->text + s->begin, len);
			l->text[len] = '\0';
		}
	}
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * Split every customer and representative message of msgs[0..n) into
 * sentences and score each into p->v (p->msgs set by the caller); then
 * allocate the pickers' scratch arrays. On error p may hold partial
 * arrays, which picker_done frees.
 */
static int read_chat(const ca_msg *msgs, size_t n, const matcher *m, picker *p, ca_err *err)
{
	ca_tokens toks = { 0 };
	size_t cap_v = 0;
	int r = 0;
	unsigned turn = 0;

	for (size_t mi = 0; mi < n && r == 0; mi++) {
		const ca_msg *msg = &msgs[mi];
		if ((msg->role != CA_ROLE_CUSTOMER && msg->role != CA_ROLE_AGENT) || !msg->text || msg->len == 0)
			continue;
		if (msg->len > UINT32_MAX) {
			r = ca_err_set(err, CA_ETOOBIG, msg->id, "message %s is longer than 4 GiB",
				       msg->id ? msg->id : "(no id)");
			break;
		}
		ca_span *spans = NULL;
		size_t n_spans = 0;
		r = ca_sentences(msg->text, msg->len, &spans, &n_spans);
		if (r < 0) {
			ca_err_set(err, r, msg->id, "cannot split message %s into sentences",
				   msg->id ? msg->id : "(no id)");
			break;
		}
		bool substantive = false;
		for (size_t si = 0; si < n_spans; si++) {
			uint32_t b = spans[si].begin, e = spans[si].end;
			while (b < e && is_space(msg->text[b]))
				b++;
			while (e > b && is_space(msg->text[e - 1]))
				e--;
			if (b >= e || e > msg->len)
				continue;
			if (p->n == cap_v) {
				size_t nc = cap_v ? cap_v * 2 : 64;
				sent *nv = realloc(p->v, nc * sizeof(*nv));
				if (!nv) {
					r = ca_err_set(err, CA_ENOMEM, "summary", "out of memory");
					break;
				}
				p->v = nv;
				cap_v = nc;
			}
			sent *s = &p->v[p->n];
			memset(s, 0, sizeof(*s));
			s->msg = mi;
			s->begin = b;
			s->end = e;
			s->role = msg->role;
			s->pos = n > 1 ? (double)mi / (double)(n - 1) : 1.0;
			bool sub = false;
			r = analyse(m, msg, s, turn, &toks, &sub);
			if (r < 0) {
				ca_err_set(err, r, msg->id, "cannot read message %s (%s)",
					   msg->id ? msg->id : "(no id)", ca_strerror(r));
				break;
			}
			substantive |= sub;
			p->n++;
		}
		free(spans);
		if (msg->role == CA_ROLE_CUSTOMER && substantive)
			turn++;
	}
	ca_tokens_done(&toks);

	if (r == 0 && p->n > 0) {
		p->sc = malloc(p->n * sizeof(*p->sc));
		p->chosen = malloc(p->n * sizeof(*p->chosen));
		if (!p->sc || !p->chosen)
			r = ca_err_set(err, CA_ENOMEM, "summary", "out of memory");
	}
	return r;
}

static void picker_done(picker *p)
{
	free(p->sc);
	free(p->chosen);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

typedef void (*assign_fn)(picker *p, size_t k);

/* Read, let `fn` hand out the sections, write the lines. */
static int summarize(const ca_msg *msgs, size_t n, size_t k, assign_fn fn, ca_summary *out, ca_err *err)
{
	if (!out || (n > 0 && !msgs))
		return ca_err_set(err, CA_EINVAL, "summary", "no conversation or no output given");
	ca_summary res = { 0 };
	matcher m;
	picker p = { .msgs = msgs };

	if (n == 0) {
		*out = res;
		return 0;
	}
	int r = matcher_init(&m);
	if (r < 0)
		return ca_err_set(err, r, "summary", "out of memory preparing the summariser");
	r = read_chat(msgs, n, &m, &p, err);
	if (r == 0 && p.n > 0) {
		fn(&p, k);
		r = emit(&p, &res);
		if (r < 0)
			ca_err_set(err, r, "summary", "out of memory writing the summary");
	}
	picker_done(&p);
	matcher_done(&m);
	if (r < 0) {
		ca_summary_done(&res);
		return r;
	}
	*out = res;
	return 0;
}

int ca_summarize(const ca_msg *msgs, size_t n, unsigned max_per_section, ca_summary *out, ca_err *err)
{
	return summarize(msgs, n, max_per_section ? max_per_section : DEFAULT_PER_SECTION, assign, out, err);
}

const char *ca_summary_section_name(ca_summary_section s)
{
	switch (s) {
	case CA_SUM_ISSUE:
		return "Issue";
	case CA_SUM_ACTIONS:
		return "Actions taken";
	case CA_SUM_OUTCOME:
		return "Outcome";
	case CA_SUM_NEXT_STEPS:
		return "Next steps";
	}
	return "Unknown";
}

static const char *section_key(ca_summary_section s)
{
	switch (s) {
	case CA_SUM_ISSUE:
		return "issue";
	case CA_SUM_ACTIONS:
		return "actions_taken";
	case CA_SUM_OUTCOME:
		return "outcome";
	case CA_SUM_NEXT_STEPS:
		return "next_steps";
	}
	return NULL;
}

int ca_summary_render(const ca_summary *s, ca_buf *out)
{
	if (!s || !out)
		return CA_EINVAL;
	for (int sec = CA_SUM_ISSUE; sec <= CA_SUM_NEXT_STEPS; sec++) {
		bool first = true;
		for (size_t i = 0; i < s->n; i++) {
			const ca_summary_line *l = &s->lines[i];
			if ((int)l->section != sec)
				continue;
			int r = first ? ca_buf_printf(out, "%s: ", ca_summary_section_name(l->section))
				      : ca_buf_puts(out, " ");
			if (r == 0)
				r = ca_buf_puts(out, l->text);
			if (r < 0)
				return r;
			first = false;
		}
		if (!first && ca_buf_puts(out, "\n") < 0)
			return CA_ENOMEM;
	}
	return 0;
}

json_t *ca_summary_to_json(const ca_summary *s)
{
	if (!s)
		return NULL;
	json_t *root = json_object();
	if (!root)
		return NULL;
	for (int sec = CA_SUM_ISSUE; sec <= CA_SUM_NEXT_STEPS; sec++) {
		json_t *arr = json_array();
		if (!arr || json_object_set_new(root, section_key((ca_summary_section)sec), arr) < 0)
			goto fail;
		for (size_t i = 0; i < s->n; i++) {
			const ca_summary_line *l = &s->lines[i];
			if ((int)l->section != sec)
				continue;
			json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "text", l->text, "message",
					      l->msg_id ? l->msg_id : "", "begin", (json_int_t)l->begin, "end",
					      (json_int_t)l->end);
			if (!o || json_array_append_new(arr, o) < 0)
				goto fail;
		}
	}
	return root;
fail:
	json_decref(root);
	return NULL;
}

/* ---- the brief ---- */

/* The customer's first sentence that says something: the issue when no
 * sentence carries an issue cue (a chat that opens "My flight is at 9."). */
static void pick_first_statement(picker *p, int section, ca_role role)
{
	clear_scores(p);
	for (size_t i = 0; i < p->n; i++) {
		const sent *s = &p->v[i];
		if (s->role == role && s->substantive && !s->request && s->polite <= 0 && s->n_content >= 2)
			p->sc[i] = 1.0 - (double)i / (double)p->n; /* earliest first */
	}
	pick(p, section, 0, 1, false, NULL);
}

static size_t count_agent_lines(const picker *p)
{
	size_t c = 0;
	for (size_t i = 0; i < p->n; i++)
		c += p->v[i].section != 0 && p->v[i].role == CA_ROLE_AGENT;
	return c;
}

/*
 * The brief: the customer's opening statement, then where the representative
 * left it. Customers open with the reason they came (the lead of a
 * conversation is its best single predictor of what a person will say it
 * was about), so the issue here is the customer's first substantive
 * sentence, not the one with the most cues, which in long chats is often a
 * later complaint about the wait.
 */
static void assign_brief(picker *p, size_t k)
{
	sent *v = p->v;
	(void)k;

	pick_first_statement(p, CA_SUM_ISSUE, CA_ROLE_CUSTOMER);

	/* Where the representative left it: the outcome rule of the note ... */
	clear_scores(p);
	for (size_t i = 0; i < p->n; i++)
		if (v[i].role == CA_ROLE_AGENT && v[i].pos >= OUTCOME_FROM && v[i].outcome >= OUTCOME_MIN)
			p->sc[i] = v[i].outcome * (0.4 + 0.6 * v[i].pos);
	pick(p, CA_SUM_OUTCOME, 0, 1, true, NULL);
	/* ... else a next step, else an action ... */
	if (count_agent_lines(p) == 0)
		pick_agent_by(p, offsetof(sent, next), CA_SUM_NEXT_STEPS, NEXT_MIN, 1);
	if (count_agent_lines(p) == 0)
		pick_agent_by(p, offsetof(sent, action), CA_SUM_ACTIONS, ACTION_MIN, 1);
	/* ... else the last plain statement near the end ... */
	if (count_agent_lines(p) == 0) {
		clear_scores(p);
		for (size_t i = 0; i < p->n; i++)
			if (v[i].role == CA_ROLE_AGENT && v[i].pos >= LATE_FROM && !v[i].bare && !v[i].question &&
			    !v[i].request && v[i].polite <= 0 && v[i].n_content >= v[i].n_ident + 2)
				p->sc[i] = 1.0 + v[i].pos;
		pick(p, CA_SUM_OUTCOME, 0, 1, true, NULL);
	}
	/* ... else the first thing of substance the representative said. */
	if (count_agent_lines(p) == 0)
		pick_first_statement(p, CA_SUM_ACTIONS, CA_ROLE_AGENT);
}

int ca_summarize_brief(const ca_msg *msgs, size_t n, ca_summary *out, ca_err *err)
{
	return summarize(msgs, n, 1, assign_brief, out, err);
}

/* ---- who is the customer ---- */

/* Messages of each party read for the decision: roles show in the opening. */
#define ROLE_OPENING 3

int ca_summary_customer_is_second(const ca_msg *msgs, size_t n, bool *ret_second, ca_err *err)
{
	if (!ret_second || (n > 0 && !msgs))
		return ca_err_set(err, CA_EINVAL, "summary", "no conversation or no output given");
	double need[2] = { 0, 0 };
	unsigned offer[2] = { 0, 0 }, seen[2] = { 0, 0 };
	matcher m;
	ca_tokens toks = { 0 };
	int r = matcher_init(&m);
	if (r < 0)
		return ca_err_set(err, r, "summary", "out of memory preparing the summariser");

	for (size_t mi = 0; mi < n && r == 0; mi++) {
		const ca_msg *msg = &msgs[mi];
		int party = msg->role == CA_ROLE_CUSTOMER ? 0 : msg->role == CA_ROLE_AGENT ? 1 : -1;
		if (party < 0 || !msg->text || msg->len == 0 || seen[party] >= ROLE_OPENING)
			continue;
		if (msg->len > UINT32_MAX) {
			r = ca_err_set(err, CA_ETOOBIG, msg->id, "message %s is longer than 4 GiB",
				       msg->id ? msg->id : "(no id)");
			break;
		}
		seen[party]++;
		ca_span *spans = NULL;
		size_t n_spans = 0;
		r = ca_sentences(msg->text, msg->len, &spans, &n_spans);
		for (size_t si = 0; r == 0 && si < n_spans; si++) {
			ca_tokens_reset(&toks);
			r = ca_tokenize(msg->text + spans[si].begin, spans[si].end - spans[si].begin, spans[si].begin,
					m.st, &toks);
			if (r < 0)
				break;
			if (table_score(&m, T_OFFER, &toks) > 0)
				offer[party]++;
			double s = cap(table_score(&m, T_ISSUE, &toks), 6) - table_score(&m, T_POLITE, &toks);
			if (s > 0)
				need[party] += s;
		}
		free(spans);
		if (r < 0)
			ca_err_set(err, r, msg->id, "cannot read message %s (%s)", msg->id ? msg->id : "(no id)",
				   ca_strerror(r));
	}
	ca_tokens_done(&toks);
	matcher_done(&m);
	if (r < 0)
		return r;
	if ((offer[0] > 0) != (offer[1] > 0))
		*ret_second = offer[0] > 0;
	else
		*ret_second = need[1] > need[0];
	return 0;
}

/* ---- reported speech ---- */

/*
 * Reported speech. A line is read as words (split at white space, with
 * leading and trailing punctuation kept apart from the core); furniture is
 * dropped; a question is turned into an indirect one; then every first- and
 * second-person word is replaced by the party it designates, and a present-
 * tense verb whose subject became a third person agrees with it.
 */

/* How a first- or second-person word is said of a named party. `who` is 'S'
 * for the speaker, 'L' for the listener; `then` follows the name; `subject`
 * says the word can be a clause's subject (so its verb must agree). */
typedef struct person_word {
	const char *word;
	char who;
	const char *then;
	bool subject;
} person_word;

static const person_word PERSON_WORDS[] = {
	{ "i", 'S', "", true }, { "me", 'S', "", false }, { "myself", 'S', "", false },
	{ "my", 'S', "'s", false }, { "mine", 'S', "'s", false },
	{ "i'm", 'S', " is", false }, { "i've", 'S', " has", false }, { "i'll", 'S', " will", false },
	{ "i'd", 'S', " would", false },
	{ "you", 'L', "", true }, { "yourself", 'L', "", false }, { "your", 'L', "'s", false },
	{ "yours", 'L', "'s", false }, { "you're", 'L', " is", false }, { "you've", 'L', " has", false },
	{ "you'll", 'L', " will", false }, { "you'd", 'L', " would", false },
};

/* Verbs whose form changes with a third-person subject. */
static const struct {
	const char *from, *to;
} AGREE[] = {
	{ "am", "is" }, { "are", "is" }, { "have", "has" }, { "do", "does" }, { "don't", "doesn't" },
	{ "dont", "doesn't" }, { "were", "was" }, { "go", "goes" }, { "haven't", "hasn't" },
	{ "havent", "hasn't" }, { "aren't", "isn't" }, { "arent", "isn't" }, { "weren't", "wasn't" },
};

/* Common verbs that take -s after a third-person subject: the ones people
 * use of themselves in service talk (a closed list; other words are left as
 * they are rather than guessed at). */
static const char *const PRESENT_VERBS[] = {
	"need", "want", "think", "know", "like", "love", "hate", "feel", "hope", "guess", "believe",
	"mean", "see", "understand", "agree", "live", "work", "wish", "prefer", "get", "say",
	"remember", "forget", "try", "buy", "plan", "suppose", "play", "study", "come", "take",
	"make", "look", "enjoy", "find", "expect", "use", "call", "pay", "send", "keep", "stay",
	"travel", "teach", "learn", "read", "write", "speak", "suggest", "recommend", "miss", "owe",
	"own", "seem", "worry", "care", "doubt", "wonder", "apologize", "apologise", "recall",
	"receive", "require", "ask", "tell", "sell", "offer", "order", "start", "stop", "book",
	"visit", "watch", "wait", "eat", "drink", "drive", "run", "pick", "check", "reckon", "mind",
	"complain", "develop", "spend", "give", "bring", "help", "show", "change", "move", "open",
	"close", "cancel", "return", "exchange", "apply", "sign", "log", "fly", "leave", "meet",
	"hear", "listen", "talk", "walk", "cook", "clean", "wear", "fit", "fix", "lose", "win",
	"choose", "decide", "accept", "refuse", "hold", "insist", "intend", "promise", "realize",
	"realise", "appreciate", "sleep", "smoke", "hurt", "happen", "rent", "save", "share",
};

/* Adverbs that may stand between a subject and its verb ("I really need"). */
static const char *const MID_ADVERBS[] = {
	"really", "just", "also", "usually", "always", "often", "still", "only", "actually",
	"sometimes", "never", "even", "already", "certainly", "definitely", "probably", "totally",
};

/* Words after which "you" or "I" begins a clause, so it is a subject. */
static const char *const CLAUSE_OPENERS[] = {
	"and", "but", "so", "because", "if", "when", "that", "then", "or", "as", "since", "while",
	"what", "how", "why", "where", "whether", "though", "although", "unless", "until", "once",
	"which", "who", "think", "hope", "guess", "know", "believe", "sure", "afraid", "whenever",
};

static const char *const WH_WORDS[] = { "how", "what", "where", "when", "which", "why", "who", "whom" };
/* Auxiliaries that open a question and are dropped in the indirect one. */
static const char *const DO_AUX[] = { "do", "does", "did" };
/* Auxiliaries that open a question and follow the subject in the indirect one. */
static const char *const MOVE_AUX[] = {
	"can", "could", "will", "would", "should", "may", "might", "must", "shall",
	"are", "is", "am", "was", "were", "have", "has",
};
/* Subjects an auxiliary may invert with. */
static const char *const PRONOUNS[] = { "i", "you", "we", "they", "he", "she", "it" };

typedef struct word {
	const char *s; /* into the normalised line */
	size_t len;
	size_t core_b, core_e; /* the word without leading and trailing punctuation */
	char lc[24];           /* the core lower-cased when short enough, else "" */
	bool noise;
} word;

static bool is_alnum_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static bool all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* "1/2", "(2/2)", "(1)": the numbering of a reply split over messages. */
static bool thread_counter(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == '.' || s[len - 1] == ',' || s[len - 1] == ':'))
		len--;
	bool paren = len >= 2 && s[0] == '(' && s[len - 1] == ')';
	if (paren) {
		s++;
		len -= 2;
	}
	const char *slash = memchr(s, '/', len);
	if (!slash)
		return paren && all_digits(s, len) && len <= 2;
	size_t a = (size_t)(slash - s), b = len - a - 1;
	/* "24/7" is not a counter: the part never exceeds the whole */
	return a == 1 && b == 1 && all_digits(s, 1) && all_digits(slash + 1, 1) && s[0] <= slash[1];
}

/*
 * Handles, links, hashtags, reply counters and sign-offs are the furniture
 * of social-media support, not what was said. "#Person1#", a speaker's
 * label, is a name, not a hashtag. A sign-off ("^PB", "-JW", "*HEC", "/NY")
 * is recognised as the last word of a line only.
 */
static bool noise_word(const char *s, size_t len, bool last)
{
	if (thread_counter(s, len))
		return true;
	while (len > 1 && (*s == '(' || *s == '[' || *s == '"' || *s == '\''))
	{
		s++;
		len--;
	}
	if (len >= 2 && s[0] == '@')
		return true;
	if ((len > 7 && strncmp(s, "http://", 7) == 0) || (len > 8 && strncmp(s, "https://", 8) == 0) ||
	    (len > 4 && strncmp(s, "www.", 4) == 0))
		return true;
	if (len >= 2 && s[0] == '^' && is_alnum_byte((unsigned char)s[1]))
		return true;
	if (len >= 2 && s[0] == '#' && is_alnum_byte((unsigned char)s[1]) && s[len - 1] != '#')
		return true;
	if (last && len >= 3 && len <= 13 && (s[0] == '-' || s[0] == '*' || s[0] == '/' || s[0] == '~')) {
		size_t i = 1;
		while (i < len && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
			i++;
		return i == len && s[1] >= 'A' && s[1] <= 'Z';
	}
	return false;
}

/*
 * The line's text with typographic apostrophes made ASCII and tokenised
 * apostrophes joined ("don ' t" -> "don't"), into *nb.
 */
static int normalise_line(const char *t, size_t len, ca_buf *nb)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c == 0xE2 && i + 2 < len && (unsigned char)t[i + 1] == 0x80 && (unsigned char)t[i + 2] == 0x99) {
			if (ca_buf_append(nb, "'", 1) < 0)
				return CA_ENOMEM;
			i += 2;
			continue;
		}
		/* "X ' Y" with letters around a lone apostrophe */
		if (c == ' ' && i + 3 < len && t[i + 1] == '\'' && t[i + 2] == ' ' && i > 0 &&
		    is_alnum_byte((unsigned char)t[i - 1]) && is_alnum_byte((unsigned char)t[i + 3])) {
			if (ca_buf_append(nb, "'", 1) < 0)
				return CA_ENOMEM;
			i += 2;
			continue;
		}
		if (ca_buf_append(nb, t + i, 1) < 0)
			return CA_ENOMEM;
	}
	return 0;
}

static bool lc_in(const char *lc, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(lc, set[i]) == 0)
			return true;
	return false;
}

#define LC_IN(lc, set) lc_in((lc), (set), CA_ARRAY_SIZE(set))

static const person_word *person_word_of(const char *lc)
{
	for (size_t i = 0; i < CA_ARRAY_SIZE(PERSON_WORDS); i++)
		if (strcmp(lc, PERSON_WORDS[i].word) == 0)
			return &PERSON_WORDS[i];
	return NULL;
}

static const char *agree_of(const char *lc)
{
	for (size_t i = 0; i < CA_ARRAY_SIZE(AGREE); i++)
		if (strcmp(lc, AGREE[i].from) == 0)
			return AGREE[i].to;
	return NULL;
}

/* Split the normalised line into words; *ret_v is the caller's to free. */
static int split_words(const char *t, size_t len, word **ret_v, size_t *ret_n)
{
	size_t cap_w = 0, n = 0;
	for (size_t i = 0; i < len; i++)
		cap_w += !is_space(t[i]) && (i == 0 || is_space(t[i - 1]));
	word *v = calloc(cap_w ? cap_w : 1, sizeof(*v));
	if (!v)
		return CA_ENOMEM;
	for (size_t i = 0; i < len;) {
		if (is_space(t[i])) {
			i++;
			continue;
		}
		word *w = &v[n++];
		w->s = t + i;
		while (i < len && !is_space(t[i]))
			i++;
		w->len = (size_t)(t + i - w->s);
		size_t b = 0, e = w->len;
		while (b < e && !is_alnum_byte((unsigned char)w->s[b]))
			b++;
		while (e > b && !is_alnum_byte((unsigned char)w->s[e - 1]) && w->s[e - 1] != '\'')
			e--;
		w->core_b = b;
		w->core_e = e;
		if (e > b && e - b < sizeof(w->lc)) {
			for (size_t k = b; k < e; k++) {
				unsigned char c = (unsigned char)w->s[k];
				w->lc[k - b] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
			}
			w->lc[e - b] = '\0';
		}
	}
	for (size_t k = 0; k < n; k++)
		v[k].noise = noise_word(v[k].s, v[k].len, k + 1 == n);
	*ret_v = v;
	*ret_n = n;
	return 0;
}

/* A word of the reported sentence: a source word, or one we put in. */
typedef struct oword {
	const word *w;    /* NULL for an inserted word */
	const char *text; /* inserted word, or a replacement of w's core */
	bool agree;       /* w is a verb whose subject became third person */
} oword;

/* The word has no punctuation attached, so it may move or go. */
static bool bare_word(const word *w)
{
	return w->core_b == 0 && w->core_e == w->len && w->lc[0];
}

/* "go" -> "goes", "try" -> "tries", "need" -> "needs", into buf. */
static const char *third_person(const char *lc, char *buf, size_t size)
{
	const char *irregular = agree_of(lc);
	if (irregular)
		return irregular;
	size_t n = strlen(lc);
	const char *suffix = "s";
	size_t keep = n;
	if (n >= 2 && lc[n - 1] == 'y' && !strchr("aeiou", lc[n - 2])) {
		suffix = "ies";
		keep = n - 1;
	} else if ((n >= 1 && strchr("sxzo", lc[n - 1])) ||
		   (n >= 2 && (strcmp(lc + n - 2, "sh") == 0 || strcmp(lc + n - 2, "ch") == 0))) {
		suffix = "es";
	}
	if (keep + strlen(suffix) + 1 > size)
		return lc;
	memcpy(buf, lc, keep);
	memcpy(buf + keep, suffix, strlen(suffix) + 1);
	return buf;
}

/*
 * Turn a direct question at o[0..*n) into an indirect one, in place:
 * "how do I reset it" -> "how to reset it"; "what time do you open" ->
 * "what time you open" (the verb agreeing later); "can you send it" -> "if
 * you can send it"; "do you sell gloves" -> "if you sell gloves". Only
 * words without punctuation attached move.
 */
static void indirect_question(oword *o, size_t *n)
{
	size_t k = *n, i = 0;
	if (k < 2 || !o[0].w)
		return;
	if (LC_IN(o[0].w->lc, WH_WORDS)) {
		/* the wh-phrase: "what time", "which plan", "how long" */
		i = 1;
		while (i < k && i < 3 && o[i].w && bare_word(o[i].w) && !LC_IN(o[i].w->lc, DO_AUX) &&
		       !LC_IN(o[i].w->lc, MOVE_AUX) && !LC_IN(o[i].w->lc, PRONOUNS))
			i++;
	}
	if (i + 1 >= k || !o[i].w || !o[i + 1].w || !bare_word(o[i].w) || !bare_word(o[i + 1].w) ||
	    !LC_IN(o[i + 1].w->lc, PRONOUNS))
		return;
	bool is_do = LC_IN(o[i].w->lc, DO_AUX), is_move = LC_IN(o[i].w->lc, MOVE_AUX);
	if (!is_do && !is_move)
		return;
	bool first_person = strcmp(o[i + 1].w->lc, "i") == 0 || strcmp(o[i + 1].w->lc, "we") == 0;
	if (i > 0 && first_person && strcmp(o[0].w->lc, "why") != 0 &&
	    (is_do || strcmp(o[i].w->lc, "can") == 0 || strcmp(o[i].w->lc, "should") == 0 ||
	     strcmp(o[i].w->lc, "could") == 0)) {
		/* "how do I" -> "how to": the customer asks how to do it */
		o[i] = (oword){ .text = "to" };
		memmove(&o[i + 1], &o[i + 2], (k - i - 2) * sizeof(*o));
		*n = k - 1;
		return;
	}
	oword aux = o[i], subj = o[i + 1];
	if (is_do) {
		/* "do you sell" -> "you sell": the verb agrees with the subject */
		memmove(&o[i], &o[i + 1], (k - i - 1) * sizeof(*o));
		k--;
		size_t v = i + 1;
		if (v < k && o[v].w && LC_IN(o[v].w->lc, MID_ADVERBS))
			v++;
		if (v < k && o[v].w && strcmp(aux.w->lc, "did") != 0)
			o[v].agree = true;
	} else {
		/* "can you send" -> "you can send" */
		o[i] = subj;
		o[i + 1] = aux;
		o[i + 1].agree = true;
	}
	if (i == 0) {
		/* a yes/no question: "asks if you sell" */
		memmove(&o[1], &o[0], k * sizeof(*o));
		o[0] = (oword){ .text = "if" };
		k++;
	}
	*n = k;
}

/* Append one word separated by a space from what came before in this sentence. */
static int put(ca_buf *out, const char *s, size_t len)
{
	if (out->len > 0 && ca_buf_append(out, " ", 1) < 0)
		return CA_ENOMEM;
	return ca_buf_append(out, s, len);
}

/* Is o[i] at the start of a clause (so "you" there is a subject)? */
static bool clause_start(const oword *o, size_t i)
{
	if (i == 0)
		return true;
	const oword *p = &o[i - 1];
	if (!p->w)
		return true; /* after an inserted "if" */
	if (p->w->core_e < p->w->len && strchr(",;:.!?", p->w->s[p->w->core_e]))
		return true;
	return LC_IN(p->w->lc, CLAUSE_OPENERS) || LC_IN(p->w->lc, WH_WORDS);
}

/*
 * Render o[0..n) about `self` and `other` into sb, at most max_words words.
 * `first` is the line's first word unless it is furniture: its capital was
 * the sentence's, not a name's, so it goes.
 */
static int render_owords(oword *o, size_t n, const word *first, const char *self, const char *other,
			 unsigned max_words, ca_buf *sb)
{
	int r = 0;
	unsigned words = 0;
	char buf[40];
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (max_words && words >= max_words)
			break;
		words++;
		const word *x = o[i].w;
		if (!x) {
			r = put(sb, o[i].text, strlen(o[i].text));
			continue;
		}
		const char *core = x->s + x->core_b;
		size_t core_len = x->core_e - x->core_b;
		const person_word *pw = x->lc[0] ? person_word_of(x->lc) : NULL;
		r = put(sb, x->s, x->core_b); /* leading punctuation, if any */
		if (r < 0)
			break;
		if (pw) {
			r = ca_buf_puts(sb, pw->who == 'S' ? self : other);
			if (r == 0)
				r = ca_buf_puts(sb, pw->then);
			/* its verb agrees: "I need" -> "Customer needs", "I really need" too */
			if (pw->subject && clause_start(o, i) && x->core_e == x->len) {
				size_t j = i + 1;
				if (j < n && o[j].w && LC_IN(o[j].w->lc, MID_ADVERBS))
					j++;
				if (j < n && o[j].w && (agree_of(o[j].w->lc) || LC_IN(o[j].w->lc, PRESENT_VERBS)))
					o[j].agree = true;
			}
		} else if (o[i].agree && x->lc[0] && (agree_of(x->lc) || LC_IN(x->lc, PRESENT_VERBS))) {
			r = ca_buf_puts(sb, third_person(x->lc, buf, sizeof(buf)));
		} else if (x == first && core_len > 1 && core[0] >= 'A' && core[0] <= 'Z' && core[1] >= 'a' && core[1] <= 'z' &&
			   x->core_b == 0) {
			/* a sentence-initial capital, now mid-sentence */
			char c = (char)(core[0] - 'A' + 'a');
			r = ca_buf_append(sb, &c, 1);
			if (r == 0)
				r = ca_buf_append(sb, core + 1, core_len - 1);
		} else {
			r = ca_buf_append(sb, core, core_len);
		}
		if (r == 0)
			r = ca_buf_append(sb, x->s + x->core_e, x->len - x->core_e);
	}
	return r;
}

/* One summary line as a sentence about `self` (who said it) addressed to `other`. */
static int prose_line(const ca_summary_line *l, const char *self, const char *other, unsigned max_words, ca_buf *out)
{
	ca_buf nb = { 0 }, sb = { 0 };
	word *w = NULL;
	oword *o = NULL;
	size_t nw = 0, no = 0;
	int r = normalise_line(l->text, strlen(l->text), &nb);
	if (r == 0 && nb.len > 0)
		r = split_words(nb.data, nb.len, &w, &nw);
	if (r < 0 || nw == 0)
		goto done;

	/* Greetings in front go when something follows them. */
	size_t start = 0;
	while (start + 1 < nw && (w[start].noise || w[start].core_b == w[start].core_e ||
				  (w[start].lc[0] && word_in(w[start].lc, PLEASANT_WORDS, CA_ARRAY_SIZE(PLEASANT_WORDS)))))
		start++;
	o = calloc(nw - start + 2, sizeof(*o));
	if (!o) {
		r = CA_ENOMEM;
		goto done;
	}
	for (size_t i = start; i < nw; i++)
		if (!w[i].noise && w[i].core_e > w[i].core_b)
			o[no++] = (oword){ .w = &w[i] };
	if (no == 0)
		goto done;
	bool question = memchr(l->text, '?', strlen(l->text)) != NULL;
	if (question)
		indirect_question(o, &no);
	const word *first = NULL;
	for (size_t i = 0; i < nw && !first; i++)
		if (!w[i].noise)
			first = &w[i];
	r = render_owords(o, no, first, self, other, max_words, &sb);
	if (r < 0)
		goto done;
	/* Reported speech ends with a full stop. */
	while (sb.len > 0 && strchr("?!.,:;", sb.data[sb.len - 1]))
		sb.data[--sb.len] = '\0';
	if (sb.len == 0)
		goto done;
	size_t self_len = strlen(self);
	bool named = !question && sb.len >= self_len && strncmp(sb.data, self, self_len) == 0 &&
		     (sb.len == self_len || sb.data[self_len] == ' ' || sb.data[self_len] == '\'');
	if (out->len > 0 && (r = ca_buf_puts(out, " ")) < 0)
		goto done;
	if (named)
		r = ca_buf_printf(out, "%s.", sb.data);
	else
		r = ca_buf_printf(out, "%s %s %s.", self, question ? "asks" : "says", sb.data);
done:
	free(o);
	free(w);
	ca_buf_done(&nb);
	ca_buf_done(&sb);
	return r;
}

int ca_summary_render_prose(const ca_summary *s, const ca_summary_prose_opts *o, ca_buf *out)
{
	if (!s || !out)
		return CA_EINVAL;
	const char *cust = o && o->customer ? o->customer : "Customer";
	const char *agent = o && o->agent ? o->agent : "Agent";
	unsigned max_words = o ? o->max_words : 0;
	for (size_t i = 0; i < s->n; i++) {
		const ca_summary_line *l = &s->lines[i];
		bool is_agent = l->role == CA_ROLE_AGENT;
		int r = prose_line(l, is_agent ? agent : cust, is_agent ? cust : agent, max_words, out);
		if (r < 0)
			return r;
	}
	return 0;
}
