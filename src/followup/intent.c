/* SPDX-License-Identifier: MIT */
/*
 * Reading a customer's reply (issue 12, docs/replies.md): an embedded,
 * explainable classifier of what the reply says: resolved (solved, thanks,
 * no longer needed), still has the problem, asks a question or gives the
 * information asked for, out of office / automatic, or unclear.
 *
 * The reply's new part is taken with the e-mail channel's quote and
 * signature stripping (ca_email_reply_text), tokenised and split into
 * sentences with the text module. Cue phrases from the tables below match
 * on folded words, longest first, each word used by one cue only; a
 * favourable cue ("fixed", "works now") with a negator shortly before it in
 * the same sentence ("not fixed", "still doesn't work") counts for the
 * problem instead, and a thanks next to a problem or a question is only
 * politeness. Questions (a sentence ending in "?", or opening with a
 * question word), identifiers and e-mail addresses (information given) and
 * the headers of automatic mail (RFC 3834 Auto-Submitted, X-Autoreply,
 * Precedence) are features too, with the reply's words and word pairs and
 * the signs of the message it answers (the context: "anything else?", a
 * yes/no question, a request for information, a proposed fix). A
 * multinomial logistic regression fitted on the training part of the
 * labelled set (src/followup/reply_model.c, drawn to the cue tables' intent
 * as its prior) turns them into probabilities; below its intent's floor a
 * reading is "unclear" and a person decides. The features that favour the
 * reading most are its evidence, with byte offsets into the caller's text.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "followup.h"
#include "email.h"
#include "text.h"

#define MAX_REPLY_BYTES ((size_t)256 * 1024)
/* The intent of a reply is in its opening: at most this many words are
 * read, so the work per reply is bounded whatever its size. */
#define MAX_WORDS 2000
#define MAX_EVIDENCE 12

static const char *const intent_names[CA_REPLY_N] = {
	[CA_REPLY_RESOLVED] = "resolved",
	[CA_REPLY_STILL_PROBLEM] = "still_problem",
	[CA_REPLY_QUESTION_OR_INFO] = "question_or_info",
	[CA_REPLY_UNCLEAR] = "unclear",
	[CA_REPLY_AUTOMATIC] = "automatic",
};

const char *ca_reply_intent_name(ca_reply_intent i)
{
	return (unsigned)i < CA_REPLY_N ? intent_names[i] : "unknown";
}

ca_reply_intent ca_reply_intent_parse(const char *name)
{
	for (unsigned i = 0; name && i < CA_REPLY_N; i++)
		if (strcmp(name, intent_names[i]) == 0)
			return (ca_reply_intent)i;
	return CA_REPLY_N;
}

/* ---- the model ---- */

enum {
	NEGATABLE = 1, /* favourable cue a negator before it turns into the problem */
	THANKS = 2,    /* politeness: discounted next to a problem or a question */
	OPENING = 4,   /* counts only as the first word(s) of a sentence */
	FEATURE_SIGN = 8, /* not a phrase: a question mark, an identifier, shouting */
};

typedef struct cue_def {
	const char *phrase; /* folded words without apostrophes, space-separated; "x*" = prefix */
	uint8_t intent;
	uint8_t flags;
} cue_def;

#define R CA_REPLY_RESOLVED
#define S CA_REPLY_STILL_PROBLEM
#define Q CA_REPLY_QUESTION_OR_INFO
#define A CA_REPLY_AUTOMATIC
#define U CA_REPLY_UNCLEAR

static const cue_def cues[] = {
	/* automatic: out-of-office and auto-reply wording */
	{ "out of office", A, 0 },
	{ "out of the office", A, 0 },
	{ "automatic reply", A, 0 },
	{ "automated reply", A, 0 },
	{ "automated response", A, 0 },
	{ "auto-reply", A, 0 },
	{ "autoreply", A, 0 },
	{ "auto reply", A, 0 },
	{ "this is an automated", A, 0 },
	{ "away from the office", A, 0 },
	{ "away from my desk", A, 0 },
	{ "on annual leave", A, 0 },
	{ "on holiday with", A, 0 },
	{ "on vacation with", A, 0 },
	{ "no internet access", A, 0 },
	{ "on parental leave", A, 0 },
	{ "on maternity leave", A, 0 },
	{ "on leave until", A, 0 },
	{ "currently on leave", A, 0 },
	{ "currently on vacation", A, 0 },
	{ "currently on holiday", A, 0 },
	{ "currently away", A, 0 },
	{ "limited access to email", A, 0 },
	{ "limited access to my email", A, 0 },
	{ "limited access to e-mail", A, 0 },
	{ "until my return", A, 0 },
	{ "upon my return", A, 0 },
	{ "when i return", A, 0 },
	{ "when i am back", A, 0 },
	{ "this mailbox is not monitored", A, 0 },
	{ "do not reply to this", A, 0 },
	{ "for urgent matters", A, 0 },
	{ "in my absence", A, 0 },
	{ "we have received your", A, 0 },

	/* unclear: the outcome is still to come */
	{ "havent had a chance", U, 0 },
	{ "not had a chance", U, 0 },
	{ "havent tried", U, 0 },
	{ "not tried it yet", U, 0 },
	{ "will try", U, 0 },
	{ "ill try", U, 0 },
	{ "let you know", U, 0 },
	{ "give it a shot", U, 0 },
	{ "give it a try", U, 0 },
	{ "give that a try", U, 0 },
	{ "give that a shot", U, 0 },
	{ "keep you posted", U, 0 },
	{ "keep you updated", U, 0 },
	{ "will dm", U, 0 },
	{ "ill dm", U, 0 },
	{ "will send", U, 0 },
	{ "ill send", U, 0 },
	{ "will do so", U, 0 },
	{ "will reach out", U, 0 },
	{ "we shall see", U, 0 },
	{ "well see", U, 0 },
	{ "tomorrow", U, 0 },
	{ "get back to you", U, 0 },
	{ "come back to you", U, 0 },
	{ "not sure yet", U, 0 },
	{ "will check", U, 0 },
	{ "ill check", U, 0 },

	/* resolved: no longer needed, explicit before the problem words they hold */
	{ "no longer an issue", R, 0 },
	{ "no longer a problem", R, 0 },
	{ "no longer need", R, 0 },
	{ "no longer needed", R, 0 },
	{ "not an issue anymore", R, 0 },
	{ "not a problem anymore", R, 0 },
	{ "not needed anymore", R, 0 },
	{ "dont need it anymore", R, 0 },
	{ "dont need help anymore", R, 0 },
	{ "no need anymore", R, 0 },
	{ "never mind", R, 0 },
	{ "nevermind", R, 0 },
	{ "no problem", R, 0 },
	{ "no worries", R, 0 },
	{ "no issues now", R, 0 },
	{ "no more issues", R, 0 },
	{ "you can close", R, 0 },
	{ "close the case", R, 0 },
	{ "close the ticket", R, 0 },
	{ "close this ticket", R, 0 },
	{ "all sorted", R, NEGATABLE },
	{ "all good", R, NEGATABLE },
	{ "all set", R, NEGATABLE },
	{ "all fixed", R, NEGATABLE },
	{ "working now", R, NEGATABLE },
	{ "works now", R, NEGATABLE },
	{ "working again", R, NEGATABLE },
	{ "works again", R, NEGATABLE },
	{ "working fine", R, NEGATABLE },
	{ "works fine", R, NEGATABLE },
	{ "working perfectly", R, NEGATABLE },
	{ "is working", R, NEGATABLE },
	{ "its working", R, NEGATABLE },
	{ "it works", R, NEGATABLE },
	{ "that worked", R, NEGATABLE },
	{ "it worked", R, NEGATABLE },
	{ "this worked", R, NEGATABLE },
	{ "did the trick", R, NEGATABLE },
	{ "that did it", R, NEGATABLE },
	{ "problem solved", R, NEGATABLE },
	{ "issue solved", R, NEGATABLE },
	{ "figured it out", R, NEGATABLE },
	{ "up and running", R, NEGATABLE },
	{ "back up", R, NEGATABLE },
	{ "back to normal", R, NEGATABLE },
	{ "got it sorted", R, NEGATABLE },
	{ "got it working", R, NEGATABLE },
	{ "fixed", R, NEGATABLE },
	{ "resolved", R, NEGATABLE },
	{ "solved", R, NEGATABLE },
	{ "sorted", R, NEGATABLE },
	{ "sorted out", R, NEGATABLE },
	{ "received it", R, NEGATABLE },
	{ "arrived", R, NEGATABLE },
	{ "helped", R, NEGATABLE },
	{ "helping", R, NEGATABLE },
	{ "helpful", R, NEGATABLE },
	{ "perfect", R, NEGATABLE },
	{ "great", R, NEGATABLE },
	{ "awesome", R, NEGATABLE },
	{ "excellent", R, NEGATABLE },
	{ "brilliant", R, NEGATABLE },
	{ "amazing", R, NEGATABLE },
	{ "wonderful", R, NEGATABLE },
	{ "appreciate it", R, THANKS },
	{ "appreciate*", R, THANKS },
	{ "thanks again", R, THANKS },
	{ "thank you again", R, THANKS },
	{ "thats all", R, 0 },
	{ "that is all", R, 0 },
	{ "thats it", R, 0 },
	{ "that is it", R, 0 },
	{ "that will be all", R, 0 },
	{ "thats everything", R, 0 },
	{ "nothing else", R, 0 },
	{ "all i needed", R, 0 },
	{ "all i need", R, 0 },
	{ "you too", R, 0 },
	{ "u too", R, 0 },
	{ "have a nice day", R, 0 },
	{ "have a good day", R, 0 },
	{ "have a great day", R, 0 },
	{ "have a good night", R, 0 },
	{ "have a great night", R, 0 },
	{ "take care", R, 0 },
	{ "bye", R, 0 },
	{ "goodbye", R, 0 },
	{ "peace out", R, 0 },
	{ "makes sense", R, NEGATABLE },
	{ "fair enough", R, 0 },
	{ "no need", R, 0 },
	{ "answered", R, NEGATABLE },
	{ "glad", R, NEGATABLE },
	{ "happy", R, NEGATABLE },
	{ "love", R, NEGATABLE },
	{ "good", R, NEGATABLE },
	{ "nice", R, NEGATABLE },
	{ "fine", R, NEGATABLE },
	{ "exceptional", R, NEGATABLE },
	{ "look forward", R, 0 },
	{ "looking forward", R, 0 },
	{ "thanks for nothing", S, 0 },
	{ "thank you for nothing", S, 0 },
	{ "thank you so much", R, THANKS },
	{ "thanks so much", R, THANKS },
	{ "thank you", R, THANKS },
	{ "thanks", R, THANKS },
	{ "thank", R, THANKS },
	{ "thanx", R, THANKS },
	{ "thx", R, THANKS },
	{ "ty", R, THANKS },
	{ "cheers", R, THANKS },
	/* a bare acknowledgement is unclear (rule 5); beside a thanks it closes */
	{ "ok", U, 0 },
	{ "okay", U, 0 },
	{ "will do", U, 0 },
	{ "got it", R, NEGATABLE },

	/* still has the problem, or a complaint */
	{ "but it still", S, 0 },
	{ "but still", S, 0 },
	{ "still not", S, 0 },
	{ "still no", S, 0 },
	{ "still doesnt", S, 0 },
	{ "still dont", S, 0 },
	{ "still didnt", S, 0 },
	{ "still cant", S, 0 },
	{ "still having", S, 0 },
	{ "still waiting", S, 0 },
	{ "still getting", S, 0 },
	{ "still the same", S, 0 },
	{ "still broken", S, 0 },
	{ "still", S, 0 },
	{ "not yet", S, 0 },
	{ "not interested", S, 0 },
	{ "no option", S, 0 },
	{ "what a mess", S, 0 },
	{ "stopped responding", S, 0 },
	{ "dont help", S, 0 },
	{ "doesnt do anything", S, 0 },
	{ "does nothing", S, 0 },
	{ "same problem", S, 0 },
	{ "same issue", S, 0 },
	{ "same thing", S, 0 },
	{ "same error", S, 0 },
	{ "no luck", S, 0 },
	{ "no joy", S, 0 },
	{ "no change", S, 0 },
	{ "no difference", S, 0 },
	{ "no response", S, 0 },
	{ "no reply", S, 0 },
	{ "no one", S, 0 },
	{ "nobody", S, 0 },
	{ "nothing happens", S, 0 },
	{ "nothing has changed", S, 0 },
	{ "not working", S, 0 },
	{ "not resolved", S, 0 },
	{ "not fixed", S, 0 },
	{ "doesnt work", S, 0 },
	{ "didnt work", S, 0 },
	{ "didnt help", S, 0 },
	{ "doesnt help", S, 0 },
	{ "wont work", S, 0 },
	{ "wont let me", S, 0 },
	{ "isnt working", S, 0 },
	{ "wasnt working", S, 0 },
	{ "tried that", S, 0 },
	{ "no dice", S, 0 },
	{ "spoke too soon", S, 0 },
	{ "already tried", S, 0 },
	{ "already did", S, 0 },
	{ "already done", S, 0 },
	{ "tried everything", S, 0 },
	{ "keeps", S, 0 },
	{ "again", S, 0 },
	{ "cant", S, 0 },
	{ "cannot", S, 0 },
	{ "unable", S, 0 },
	{ "wont", S, 0 },
	{ "doesnt", S, 0 },
	{ "didnt", S, 0 },
	{ "havent", S, 0 },
	{ "hasnt", S, 0 },
	{ "isnt", S, 0 },
	{ "broken", S, 0 },
	{ "crash*", S, 0 },
	{ "freez*", S, 0 },
	{ "error", S, 0 },
	{ "issue", S, 0 },
	{ "problem", S, 0 },
	{ "worse", S, 0 },
	{ "worst", S, 0 },
	{ "terrible", S, 0 },
	{ "horrible", S, 0 },
	{ "awful", S, 0 },
	{ "ridiculous", S, 0 },
	{ "unacceptable", S, 0 },
	{ "pathetic", S, 0 },
	{ "useless", S, 0 },
	{ "joke", S, 0 },
	{ "disappoint*", S, 0 },
	{ "frustrat*", S, 0 },
	{ "annoy*", S, 0 },
	{ "waste", S, 0 },
	{ "never again", S, 0 },
	{ "fed up", S, 0 },
	{ "sick of", S, 0 },
	{ "complain*", S, 0 },
	{ "refund", S, 0 },
	{ "wtf", S, 0 },
	{ "not much help", S, 0 },
	{ "wasnt much help", S, 0 },
	{ "not helpful", S, 0 },
	{ "unhelpful", S, 0 },
	{ "no help", S, 0 },
	{ "please help", S, 0 },
	{ "help me", S, 0 },
	{ "heard nothing", S, 0 },
	{ "no update yet", S, 0 },
	{ "still no update", S, 0 },
	{ "havent heard", S, 0 },
	{ "not heard", S, 0 },
	{ "no answer", S, 0 },
	{ "nothing at all", S, 0 },
	{ "nothing", S, 0 },
	{ "never", S, 0 },
	{ "not", S, 0 },
	{ "dont", S, 0 },
	{ "wasnt", S, 0 },
	{ "no one", S, 0 },
	{ "zero", S, 0 },
	{ "refus*", S, 0 },
	{ "ignor*", S, 0 },
	{ "wrong", S, 0 },
	{ "late", S, 0 },
	{ "delay*", S, 0 },
	{ "missing", S, 0 },
	{ "lost", S, 0 },
	{ "stuck", S, 0 },
	{ "fail*", S, 0 },
	{ "poor", S, 0 },
	{ "bad", S, 0 },
	{ "rubbish", S, 0 },
	{ "shame*", S, 0 },
	{ "disgrace*", S, 0 },
	{ "scam*", S, 0 },
	{ "lie", S, 0 },
	{ "liars", S, 0 },
	{ "lying", S, 0 },
	{ "fuck*", S, 0 },
	{ "shit*", S, 0 },
	{ "piss*", S, 0 },
	{ "crap", S, 0 },
	{ "damn", S, 0 },
	{ "why", S, 0 },
	{ "but", S, 0 },
	{ "however", S, 0 },
	{ "although", S, 0 },
	{ "though", S, 0 },
	{ "unfortunately", S, 0 },
	{ "sadly", S, 0 },
	{ "wait*", S, 0 },
	{ "smh", S, 0 },
	{ "seriously", S, 0 },
	{ "do you even", S, 0 },
	{ "so helpful", S, 0 },
	{ "what a service", S, 0 },
	{ "what is wrong", S, 0 },
	{ "whats wrong", S, 0 },
	{ "what was the point", S, 0 },
	{ "whats the point", S, 0 },

	/* question, or the information asked for */
	{ "how do i", Q, 0 },
	{ "how can i", Q, 0 },
	{ "what do i", Q, 0 },
	{ "can you", Q, 0 },
	{ "could you", Q, 0 },
	{ "is there", Q, OPENING },
	{ "do you", Q, OPENING },
	{ "any update", Q, 0 },
	{ "any news", Q, 0 },
	{ "how", Q, OPENING },
	{ "what", Q, OPENING },
	{ "when", Q, OPENING },
	{ "where", Q, OPENING },
	{ "which", Q, OPENING },
	{ "wondering", Q, 0 },
	{ "call me", Q, 0 },
	{ "please advise", Q, 0 },
	{ "request*", Q, 0 },
	{ "kindly", Q, 0 },
	{ "please send", Q, 0 },
	{ "please cancel", Q, 0 },
	{ "sent you a dm", Q, 0 },
	{ "sent a dm", Q, 0 },
	{ "sent you a message", Q, 0 },
	{ "sent you a private message", Q, 0 },
	{ "just sent", Q, 0 },
	{ "i sent", Q, 0 },
	{ "ive sent", Q, 0 },
	{ "have sent", Q, 0 },
	{ "dm sent", Q, 0 },
	{ "dmed", Q, 0 },
	{ "dmd", Q, 0 },
	{ "dm", Q, 0 },
	{ "direct message", Q, 0 },
	{ "check your dm", Q, 0 },
	{ "check dm", Q, 0 },
	{ "followed", Q, 0 },
	{ "following you", Q, 0 },
	{ "here it is", Q, 0 },
	{ "here is", Q, 0 },
	{ "heres", Q, 0 },
	{ "attached", Q, 0 },
	{ "https", Q, 0 },
	{ "http", Q, 0 },
	{ "my email is", Q, 0 },
	{ "my email address is", Q, 0 },
	{ "my number is", Q, 0 },
	{ "my order number", Q, 0 },
	{ "order number is", Q, 0 },
	{ "version", Q, 0 },
	{ "ios", Q, 0 },
	{ "android", Q, 0 },
	{ "windows", Q, 0 },
	{ "model", Q, 0 },
	{ "done", Q, 0 },
	{ "let me know", Q, 0 },
	{ "sure", Q, OPENING },
	{ "im on", Q, 0 },
	{ "i am on", Q, 0 },
	{ "im using", Q, 0 },
	{ "i use", Q, 0 },
	{ "it is", Q, 0 },
	{ "it does", Q, 0 },
	{ "ps4", Q, 0 },
	{ "xbox", Q, 0 },
	{ "playstation", Q, 0 },
	{ "iphone", Q, 0 },
	{ "ipad", Q, 0 },
	{ "mac", Q, 0 },
	{ "pc", Q, 0 },
	{ "laptop", Q, 0 },
	{ "chrome", Q, 0 },
	{ "firefox", Q, 0 },
	{ "safari", Q, 0 },
	{ "wi-fi", Q, 0 },
	{ "wifi", Q, 0 },
	{ "bluetooth", Q, 0 },
	{ "account", Q, 0 },
	{ "yes", Q, OPENING },
	{ "yep", Q, OPENING },
	{ "yeah", Q, OPENING },
	{ "no", Q, OPENING },
	{ "nope", Q, OPENING },
	{ "i did", Q, 0 },
	{ "i have", Q, OPENING },
	{ "it says", Q, 0 },
	{ "says", Q, 0 },
};

#undef R
#undef S
#undef Q
#undef A
#undef U

/* Words that negate a favourable cue up to NEG_WINDOW words after them. */
static const char *const negator_list[] = {
	"not", "no", "never", "nothing", "neither", "nor", "without", "hardly", "dont", "doesnt", "didnt",
	"isnt", "wasnt", "arent", "werent", "havent", "hasnt", "hadnt", "cant", "cannot", "couldnt",
	"wont", "wouldnt", "shouldnt", "aint", "nt", "yet",
};
static ca_wordset negators = CA_WORDSET(negator_list);
#define NEG_WINDOW 6

/* Words of what the customer will do: the outcome may be still to come. */
static const char *const future_list[] = { "ill", "will", "gonna", "going", "tomorrow", "later", "tonight", "monday" };
static ca_wordset future = CA_WORDSET(future_list);

/* A reply of at most this many words with no cue is a short answer. */
#define SHORT_ANSWER_WORDS 8
/* Words of the reply read as word and word-pair features. */
#define MAX_WORD_FEATURES 64

/* ---- matching ---- */

typedef struct hit {
	uint32_t begin, end; /* in the analysed (stripped) text */
	const char *cue;     /* table phrase, or a feature's name */
	ca_reply_intent intent;
	bool negated;
	uint8_t flags;
} hit;

typedef struct scan {
	ca_tokens toks;
	uint32_t *sent;  /* sentence index per token */
	bool *used;      /* token taken by a cue */
	hit *hits;
	size_t n_hits, cap_hits;
} scan;

static int add_hit(scan *sc, hit h)
{
	if (sc->n_hits == sc->cap_hits) {
		size_t cap = sc->cap_hits ? sc->cap_hits * 2 : 16;
		hit *v = realloc(sc->hits, cap * sizeof(*v));
		if (!v)
			return CA_ENOMEM;
		sc->hits = v;
		sc->cap_hits = cap;
	}
	sc->hits[sc->n_hits++] = h;
	return 0;
}

static size_t phrase_words(const char *p)
{
	size_t n = 1;
	for (; *p; p++)
		n += *p == ' ';
	return n;
}

/* Does word w equal the phrase word p[0..n) ("x*": starts with x)? */
static bool word_is(const char *w, const char *p, size_t n)
{
	if (n > 1 && p[n - 1] == '*')
		return strncmp(w, p, n - 1) == 0;
	return strlen(w) == n && memcmp(w, p, n) == 0;
}

/* Number of words the cue matches from token i on (0 when it does not). */
static size_t match_at(const scan *sc, size_t i, const char *phrase)
{
	size_t k = 0;
	for (const char *p = phrase;; k++) {
		const char *e = strchr(p, ' ');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		size_t t = i + k;
		if (t >= sc->toks.n || sc->used[t] || sc->sent[t] != sc->sent[i] || !word_is(sc->toks.v[t].norm, p, n))
			return 0;
		if (!e)
			return k + 1;
		p = e + 1;
	}
}

/* Index of a negator among the NEG_WINDOW words before token i in its
 * sentence, or SIZE_MAX. */
static size_t negator_before(const scan *sc, size_t i)
{
	for (size_t k = 1; k <= NEG_WINDOW && k <= i; k++) {
		size_t t = i - k;
		if (sc->sent[t] != sc->sent[i])
			break;
		if (sc->used[t])
			continue; /* part of another cue: "not a problem anymore" */
		if (ca_wordset_has(&negators, sc->toks.v[t].norm))
			return t;
	}
	return SIZE_MAX;
}

static bool sentence_opening(const scan *sc, size_t i)
{
	return i == 0 || sc->sent[i - 1] != sc->sent[i];
}

static int match_cues(scan *sc)
{
	size_t max_words = 1;
	for (size_t c = 0; c < CA_ARRAY_SIZE(cues); c++) {
		size_t n = phrase_words(cues[c].phrase);
		max_words = n > max_words ? n : max_words;
	}
	int r;
	for (size_t len = max_words; len >= 1; len--) {
		for (size_t c = 0; c < CA_ARRAY_SIZE(cues); c++) {
			const cue_def *cu = &cues[c];
			if (phrase_words(cu->phrase) != len)
				continue;
			bool counted = false; /* a cue counts once, however often it is said */
			for (size_t i = 0; i < sc->toks.n; i++) {
				if (sc->used[i] || (cu->flags & OPENING && !sentence_opening(sc, i)))
					continue;
				size_t k = match_at(sc, i, cu->phrase);
				if (!k)
					continue;
				hit h = { sc->toks.v[i].begin, sc->toks.v[i + k - 1].end, cu->phrase,
					  (ca_reply_intent)cu->intent, false, cu->flags };
				size_t neg;
				if (cu->flags & NEGATABLE && (neg = negator_before(sc, i)) != SIZE_MAX) {
					/* "not fixed", "still doesn't work": the problem persists. */
					h.begin = sc->toks.v[neg].begin;
					h.intent = CA_REPLY_STILL_PROBLEM;
					h.negated = true;
					sc->used[neg] = true;
				}
				for (size_t t = i; t < i + k; t++)
					sc->used[t] = true;
				if (counted && !h.negated)
					continue;
				counted = true;
				if ((r = add_hit(sc, h)) < 0)
					return r;
			}
		}
	}
	return 0;
}

static bool identifier(const ca_token *t)
{
	if (t->kind == CA_TOK_EMAIL)
		return true;
	if (t->kind == CA_TOK_ALNUM)
		return t->end - t->begin >= 3;
	return t->kind == CA_TOK_NUMBER && t->end - t->begin >= 5;
}

/* Features beyond cue phrases: questions and identifiers. */
static int match_features(scan *sc, const char *text, const ca_span *sents, size_t n_sents)
{
	int r;
	size_t questions = 0;
	for (size_t s = 0; s < n_sents && questions < 1; s++) { /* one question is the ask */
		const ca_span *sp = &sents[s];
		/* The sentence splitter keeps the terminator; "??" and "?!" count. */
		bool q = false;
		for (uint32_t e = sp->end; e > sp->begin && (text[e - 1] == '?' || text[e - 1] == '!'); e--)
			q = q || text[e - 1] == '?';
		if (!q)
			continue;
		questions++;
		if ((r = add_hit(sc, (hit){ sp->begin, sp->end, "?", CA_REPLY_QUESTION_OR_INFO, false, FEATURE_SIGN })) < 0)
			return r;
	}
	for (size_t i = 0; i < sc->toks.n; i++) {
		if (!identifier(&sc->toks.v[i]))
			continue;
		const ca_token *t = &sc->toks.v[i];
		const char *what = t->kind == CA_TOK_EMAIL ? "e-mail address" : "identifier";
		if ((r = add_hit(sc, (hit){ t->begin, t->end, what, CA_REPLY_QUESTION_OR_INFO, false, FEATURE_SIGN })) < 0)
			return r;
		break; /* one is enough: a list of numbers is still one answer */
	}

	/* Shouting: words in capitals, runs of exclamation marks. */
	size_t caps = 0, first_caps = SIZE_MAX;
	for (size_t i = 0; i < sc->toks.n; i++) {
		const ca_token *t = &sc->toks.v[i];
		bool upper = t->kind == CA_TOK_WORD && t->end - t->begin >= 3;
		for (uint32_t b = t->begin; upper && b < t->end; b++)
			upper = (text[b] >= 'A' && text[b] <= 'Z') || text[b] == '\'';
		if (upper && caps++ == 0)
			first_caps = i;
	}
	if (caps >= 3 && (r = add_hit(sc, (hit){ sc->toks.v[first_caps].begin, sc->toks.v[first_caps].end,
						 "words in capitals", CA_REPLY_STILL_PROBLEM, false, FEATURE_SIGN })) < 0)
		return r;
	const char *bang = strstr(text, "!!");
	if (bang && (r = add_hit(sc, (hit){ (uint32_t)(bang - text), (uint32_t)(bang - text) + 2, "!!",
					    CA_REPLY_STILL_PROBLEM, false, FEATURE_SIGN })) < 0)
		return r;
	return 0;
}

/* A short answer with no cue at all ("PS4 console", "From my phone via
 * Bluetooth") is most often the information asked for. */
static int short_answer(scan *sc)
{
	if (sc->n_hits > 0 || sc->toks.n < 2 || sc->toks.n > SHORT_ANSWER_WORDS)
		return 0;
	return add_hit(sc, (hit){ sc->toks.v[0].begin, sc->toks.v[sc->toks.n - 1].end, "short answer",
				  CA_REPLY_QUESTION_OR_INFO, false, FEATURE_SIGN });
}

/* Words as the cue tables spell them: folded, without apostrophes. */
static void plain_words(ca_tokens *t)
{
	for (size_t i = 0; i < t->n; i++) {
		char *w = t->v[i].norm, *o = w;
		for (const char *p = w; *p; p++)
			if (*p != '\'')
				*o++ = *p;
		*o = '\0';
	}
}

/* ---- the stripped reply's offsets in the caller's text ---- */

typedef struct seg {
	uint32_t from, to, len; /* stripped[from..from+len) == text[to..to+len) */
} seg;

typedef struct offmap {
	seg *v;
	size_t n;
} offmap;

/* The first occurrence of needle[0..k) in hay[0..n), or NULL (memmem is
 * a GNU extension). */
static const char *find(const char *hay, size_t n, const char *needle, size_t k)
{
	for (const char *p = hay; k <= n && (p = memchr(p, needle[0], n - k + 1 - (size_t)(p - hay))); p++)
		if (memcmp(p, needle, k) == 0)
			return p;
	return NULL;
}

/* ca_email_reply_text keeps whole lines (less a trailing \r) in their
 * order: find each in the original, after the previous one. */
static int map_lines(const char *text, size_t len, const char *stripped, offmap *m)
{
	size_t n = 1;
	for (const char *p = stripped; *p; p++)
		n += *p == '\n';
	if (!(m->v = calloc(n, sizeof(*m->v))))
		return CA_ENOMEM;
	size_t cursor = 0;
	for (const char *p = stripped;;) {
		const char *e = strchr(p, '\n');
		size_t k = e ? (size_t)(e - p) : strlen(p);
		if (k > 0 && cursor < len) {
			const char *at = find(text + cursor, len - cursor, p, k);
			if (at) {
				m->v[m->n++] = (seg){ (uint32_t)(p - stripped), (uint32_t)(at - text), (uint32_t)k };
				cursor = (size_t)(at - text) + k;
			}
		}
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

static uint32_t map_off(const offmap *m, uint32_t off, bool end)
{
	for (size_t i = 0; i < m->n; i++) {
		const seg *s = &m->v[i];
		if (off >= s->from && (off < s->from + s->len || (end && off == s->from + s->len)))
			return s->to + (off - s->from);
	}
	return off;
}

/* ---- the reading ---- */

static int header_value(const json_t *headers, const char *name, const char **ret)
{
	const char *k;
	json_t *v;
	*ret = NULL;
	json_object_foreach((json_t *)headers, k, v) {
		if (strcasecmp(k, name) != 0)
			continue;
		if (json_is_array(v))
			v = json_array_get(v, 0);
		if (json_is_string(v))
			*ret = json_string_value(v);
		return 0;
	}
	return 0;
}

/* The first token of a header value, lower case, in out. */
static void first_token(const char *v, char *out, size_t cap)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t i = 0;
	for (; v[i] && v[i] != ';' && v[i] != ' ' && v[i] != '\t' && v[i] != '(' && i + 1 < cap; i++)
		out[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] - 'A' + 'a' : v[i]);
	out[i] = '\0';
}

static bool token_false(const char *tok)
{
	return !*tok || strcmp(tok, "no") == 0 || strcmp(tok, "false") == 0 || strcmp(tok, "0") == 0;
}

/* The header that marks the reply automatic, or NULL; *ret_value its value. */
static const char *automatic_header(const json_t *headers, const char **ret_value)
{
	static const char *const flags[] = { "Auto-Submitted", "X-Autoreply", "X-Autorespond",
					     "X-Autoresponder", "X-Auto-Reply", "X-Mail-Autoreply",
					     "X-Auto-Response-Suppress" };
	const char *v;
	char tok[32];
	if (!json_is_object(headers))
		return NULL;
	for (size_t i = 0; i < CA_ARRAY_SIZE(flags); i++) {
		header_value(headers, flags[i], &v);
		if (v && (first_token(v, tok, sizeof(tok)), !token_false(tok))) {
			*ret_value = v;
			return flags[i];
		}
	}
	header_value(headers, "Precedence", &v);
	if (v && (first_token(v, tok, sizeof(tok)),
		  strcmp(tok, "auto_reply") == 0 || strcmp(tok, "bulk") == 0 || strcmp(tok, "junk") == 0)) {
		*ret_value = v;
		return "Precedence";
	}
	header_value(headers, "Subject", &v);
	if (v && ca_email_subject_auto(v)) {
		*ret_value = v;
		return "Subject";
	}
	return NULL;
}

/* ---- features ---- */

/* The prior of the features the cue tables hold: a cue for its intent, an
 * automatic-mail header strongest. */
#define PRIOR_CUE 2.0f
#define PRIOR_HEADER 4.0f

static int add_feature_for(ca_reply_features *f, char where, const char *src, uint32_t begin, uint32_t end,
			   const char *prefix, const char *name, ca_reply_intent intent, float prior)
{
	char full[CA_REPLY_FEATURE_NAME];
	if ((size_t)snprintf(full, sizeof(full), "%s%s", prefix, name) >= sizeof(full))
		return 0; /* a name that long is no word anyone repeats */
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].name, full) == 0)
			return 0; /* a feature counts once; the first place is its evidence */
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 32;
		ca_reply_feature *v = realloc(f->v, cap * sizeof(*v));
		if (!v)
			return CA_ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	ca_reply_feature *x = &f->v[f->n++];
	memcpy(x->name, full, strlen(full) + 1);
	x->where = where;
	x->src = src;
	x->start = begin;
	x->end = end;
	x->intent = (uint8_t)intent;
	x->prior = prior;
	return 0;
}

static int add_feature(ca_reply_features *f, char where, const char *src, uint32_t begin, uint32_t end,
		       const char *prefix, const char *name)
{
	return add_feature_for(f, where, src, begin, end, prefix, name, CA_REPLY_N, 0);
}

void ca_reply_features_done(ca_reply_features *f)
{
	if (!f)
		return;
	free(f->v);
	memset(f, 0, sizeof(*f));
}

/* The sentence of the token that starts at or after `off`. */
static uint32_t sentence_at(const scan *sc, uint32_t off)
{
	for (size_t i = 0; i < sc->toks.n; i++)
		if (sc->toks.v[i].end > off)
			return sc->sent[i];
	return sc->toks.n ? sc->sent[sc->toks.n - 1] : 0;
}

/* Where the cues are: the intents of the first and of the last sentence
 * ("first:resolved", "last:still_problem"; a reply closes with what it
 * means: "It crashed again. Anyway, thanks" is not a thanks), and whether
 * the favourable cues are all there is ("only:resolved": "Thank you so
 * much!", not "Thanks, will try tomorrow"). */
static int shape_features(ca_reply_features *f, const scan *sc, const char *text, const offmap *m)
{
	if (!sc->toks.n)
		return 0;
	uint32_t last = sc->sent[sc->toks.n - 1];
	bool first[CA_REPLY_N] = { false }, end[CA_REPLY_N] = { false }, any[CA_REPLY_N] = { false };
	int r = 0;
	for (size_t i = 0; i < sc->n_hits && r == 0; i++) {
		const hit *h = &sc->hits[i];
		uint32_t st = sentence_at(sc, h->begin);
		any[h->intent] = true;
		if (st == 0 && !first[h->intent]) {
			first[h->intent] = true;
			r = add_feature_for(f, 'r', text, map_off(m, h->begin, false), map_off(m, h->end, true), "first:",
					    intent_names[h->intent], CA_REPLY_N, 0);
		}
		if (r == 0 && st == last && last > 0 && !end[h->intent]) {
			end[h->intent] = true;
			r = add_feature_for(f, 'r', text, map_off(m, h->begin, false), map_off(m, h->end, true), "last:",
					    intent_names[h->intent], CA_REPLY_N, 0);
		}
	}
	size_t kinds = 0;
	for (int k = 0; k < CA_REPLY_N; k++)
		kinds += any[k];
	for (int k = 0; r == 0 && k < CA_REPLY_N; k++)
		if (any[k] && kinds == 1)
			r = add_feature_for(f, 'r', text, 0, 0, sc->toks.n <= SHORT_ANSWER_WORDS ? "only short:" : "only:",
					    intent_names[k], CA_REPLY_N, 0);
	/* How much the reply says beyond its cues ("f:rest 0": every word is
	 * a cue, "Thank you so much"; "f:rest 3-6&only:resolved": "Should be
	 * with you now. Many thanks"), alone, with the one intent its cues are
	 * of, and for a reply without any cue. */
	size_t rest = 0;
	for (size_t i = 0; i < sc->toks.n; i++)
		rest += !sc->used[i];
	const char *b = rest == 0 ? "0" : rest <= 2 ? "1-2" : rest <= 6 ? "3-6" : rest <= 15 ? "7-15" : "16+";
	if (r == 0)
		r = add_feature(f, 'r', text, 0, 0, "f:rest ", b);
	for (int k = 0; r == 0 && k < CA_REPLY_N; k++)
		if (any[k] && kinds == 1) {
			char name[CA_REPLY_FEATURE_NAME];
			snprintf(name, sizeof(name), "%s&only:%s", b, intent_names[k]);
			r = add_feature(f, 'r', text, 0, 0, "f:rest ", name);
		}
	if (r == 0 && kinds == 0)
		r = add_feature(f, 'r', text, 0, 0, "f:rest ", rest == 0 ? "0&none" : "some&none");
	return r;
}

/* The cue hits as features: each cue ("cue:fixed"), negated ("not:fixed"),
 * the other signs ("f:?"), and per intent whether any of its cues is there
 * ("g:resolved"), so that the model generalises over the phrases. */
static int hit_features(ca_reply_features *f, const scan *sc, const char *text, const offmap *m)
{
	bool thanks = false, other = false, group[CA_REPLY_N] = { false };
	int r = 0;
	for (size_t i = 0; i < sc->n_hits && r == 0; i++) {
		const hit *h = &sc->hits[i];
		const char *prefix = h->negated ? "not:" : h->flags & FEATURE_SIGN ? "f:" : "cue:";
		r = add_feature_for(f, 'r', text, map_off(m, h->begin, false), map_off(m, h->end, true), prefix, h->cue,
				    h->intent, PRIOR_CUE);
		thanks = thanks || (h->flags & THANKS && !h->negated);
		other = other || h->intent == CA_REPLY_STILL_PROBLEM || h->intent == CA_REPLY_QUESTION_OR_INFO;
		if (!group[h->intent] && r == 0) {
			group[h->intent] = true;
			r = add_feature_for(f, 'r', text, map_off(m, h->begin, false), map_off(m, h->end, true), "g:",
					    intent_names[h->intent], h->intent, PRIOR_CUE);
		}
	}
	if (r == 0 && thanks && other) /* "thanks, but it still ...": politeness */
		r = add_feature(f, 'r', text, 0, 0, "g:", "thanks beside a problem or question");
	/* the customer speaks of what they will do: the outcome may be still
	 * to come (rules 8, 10) */
	for (size_t i = 0; r == 0 && i < sc->toks.n; i++)
		if (ca_wordset_has(&future, sc->toks.v[i].norm)) {
			r = add_feature(f, 'r', text, map_off(m, sc->toks.v[i].begin, false),
					map_off(m, sc->toks.v[i].end, true), "f:", "future");
			break;
		}
	/* a complaint put as a question is the problem, a question without one
	 * asks (rule 4) */
	bool asked = false;
	for (size_t i = 0; i < sc->n_hits; i++)
		asked = asked || (sc->hits[i].flags & FEATURE_SIGN && strcmp(sc->hits[i].cue, "?") == 0);
	if (r == 0 && asked)
		r = add_feature(f, 'r', text, 0, 0, "g:",
				group[CA_REPLY_STILL_PROBLEM] ? "question with a problem" : "question without a problem");
	return r == 0 ? shape_features(f, sc, text, m) : r;
}

/* Words and adjacent word pairs of the reply's opening ("w:still",
 * "b:still_not"); the model keeps only those seen often enough in
 * training. */
static int word_features(ca_reply_features *f, const scan *sc, const char *text, const offmap *m)
{
	int r = 0;
	size_t n = sc->toks.n < MAX_WORD_FEATURES ? sc->toks.n : MAX_WORD_FEATURES;
	for (size_t i = 0; i < n && r == 0; i++) {
		const ca_token *t = &sc->toks.v[i];
		if (t->kind != CA_TOK_WORD || !*t->norm)
			continue;
		r = add_feature(f, 'r', text, map_off(m, t->begin, false), map_off(m, t->end, true), "w:", t->norm);
		const ca_token *u = i + 1 < n ? &sc->toks.v[i + 1] : NULL;
		if (r == 0 && u && u->kind == CA_TOK_WORD && sc->sent[i] == sc->sent[i + 1]) {
			char pair[CA_REPLY_FEATURE_NAME];
			if ((size_t)snprintf(pair, sizeof(pair), "%s_%s", t->norm, u->norm) < sizeof(pair))
				r = add_feature(f, 'r', text, map_off(m, t->begin, false), map_off(m, u->end, true),
						"b:", pair);
		}
	}
	return r;
}

/* What the message the customer replied to asked for. */
typedef struct ctx_cue {
	const char *phrase; /* as in the cue tables */
	const char *what;
} ctx_cue;

static const ctx_cue ctx_cues[] = {
	{ "anything else", "anything else" },
	{ "anything more", "anything else" },
	{ "any other", "anything else" },
	{ "any further", "anything else" },
	{ "further assist*", "anything else" },
	{ "else i can", "anything else" },
	{ "else we can", "anything else" },
	{ "other questions", "anything else" },
	{ "dm", "asked for information" },
	{ "dms", "asked for information" },
	{ "direct message", "asked for information" },
	{ "order number", "asked for information" },
	{ "email", "asked for information" },
	{ "e-mail", "asked for information" },
	{ "email address", "asked for information" },
	{ "address", "asked for information" },
	{ "account", "asked for information" },
	{ "phone", "asked for information" },
	{ "number", "asked for information" },
	{ "details", "asked for information" },
	{ "provide", "asked for information" },
	{ "confirm", "asked for information" },
	{ "screenshot", "asked for information" },
	{ "model", "asked for information" },
	{ "version", "asked for information" },
	{ "device", "asked for information" },
	{ "which", "asked for information" },
	{ "what", "asked for information" },
	{ "send us", "asked for information" },
	{ "reach out", "asked for information" },
	{ "follow us", "asked for information" },
	{ "try", "proposed a fix" },
	{ "trying", "proposed a fix" },
	{ "restart*", "proposed a fix" },
	{ "reboot*", "proposed a fix" },
	{ "reinstall*", "proposed a fix" },
	{ "reset*", "proposed a fix" },
	{ "clear*", "proposed a fix" },
	{ "update*", "proposed a fix" },
	{ "uninstall*", "proposed a fix" },
	{ "log out", "proposed a fix" },
	{ "sign out", "proposed a fix" },
	{ "unplug*", "proposed a fix" },
	{ "power cycle", "proposed a fix" },
	{ "steps", "proposed a fix" },
	{ "glad", "closing" },
	{ "happy to help", "closing" },
	{ "welcome", "closing" },
	{ "great day", "closing" },
	{ "nice day", "closing" },
	{ "good day", "closing" },
	{ "enjoy", "closing" },
	{ "unable", "bad news" },
	{ "unfortunately", "bad news" },
	{ "cannot", "bad news" },
	{ "cant", "bad news" },
	{ "afraid", "bad news" },
	{ "not possible", "bad news" },
	{ "not able", "bad news" },
	{ "regret*", "bad news" },
	{ "sorry", "apology" },
	{ "apolog*", "apology" },
};

/* Words that open a question answered with yes or no. */
static const char *const yes_no_openers[] = {
	"is", "are", "was", "were", "do", "does", "did", "have", "has", "had", "can", "could",
	"would", "will", "should", "may", "shall", "isnt", "arent", "dont", "doesnt", "didnt",
};
static ca_wordset yes_no = CA_WORDSET(yes_no_openers);
static const char *const yes_words[] = { "yes", "yep", "yeah", "yea", "yup", "sure", "correct", "ya" };
static ca_wordset yes_set = CA_WORDSET(yes_words);
static const char *const no_words[] = { "no", "nope", "nah", "nothing" };
static ca_wordset no_set = CA_WORDSET(no_words);
#define SHORT_REPLY_WORDS 5

static int scan_text(scan *sc, const char *s, size_t len, ca_span **ret_sents, size_t *ret_n);
static void scan_done(scan *sc);

/* How the reply opens, for the context's conjunctions: "yes", "no",
 * "thanks" or "other". */
static const char *reply_opening(const scan *sc)
{
	if (!sc->toks.n)
		return "other";
	const char *w = sc->toks.v[0].norm;
	if (ca_wordset_has(&yes_set, w))
		return "yes";
	if (ca_wordset_has(&no_set, w))
		return "no";
	for (size_t i = 0; i < sc->n_hits; i++)
		if (sc->hits[i].flags & THANKS && !sc->hits[i].negated)
			return "thanks";
	return "other";
}

/* One context sign and its conjunctions with the reply's opening and
 * length ("c:anything else", "c:anything else&no", "c:anything else&short"). */
static int ctx_feature(ca_reply_features *f, const char *context, uint32_t b, uint32_t e, const char *what,
		       const char *opening, bool short_reply, const bool groups[CA_REPLY_N])
{
	char name[CA_REPLY_FEATURE_NAME];
	int r = add_feature(f, 'c', context, b, e, "c:", what);
	snprintf(name, sizeof(name), "%s&%s", what, opening);
	if (r == 0)
		r = add_feature(f, 'c', context, b, e, "c:", name);
	snprintf(name, sizeof(name), "%s&short", what);
	if (r == 0 && short_reply)
		r = add_feature(f, 'c', context, b, e, "c:", name);
	/* what the reply's cues say to it: "will do" to a request for a DM is a
	 * promise (rule 10), "great" to bad news is not praise */
	for (int k = 0; r == 0 && k < CA_REPLY_N; k++) {
		if (!groups[k])
			continue;
		snprintf(name, sizeof(name), "%s&%s", what, intent_names[k]);
		r = add_feature(f, 'c', context, b, e, "c:", name);
	}
	return r;
}

static int context_features(ca_reply_features *f, const char *context, const scan *reply)
{
	const char *opening = reply_opening(reply);
	bool short_reply = reply->toks.n <= SHORT_REPLY_WORDS, groups[CA_REPLY_N] = { false };
	for (size_t i = 0; i < reply->n_hits; i++)
		groups[reply->hits[i].intent] = true;
	size_t len = context ? strlen(context) : 0, bad;
	if (!len || len > MAX_REPLY_BYTES || !ca_utf8_valid(context, len, &bad))
		return 0; /* no context: the reading rests on the reply alone */
	scan sc = { 0 };
	ca_span *sents = NULL;
	size_t n_sents = 0;
	int r = scan_text(&sc, context, len, &sents, &n_sents);
	for (size_t c = 0; r == 0 && c < CA_ARRAY_SIZE(ctx_cues); c++)
		for (size_t i = 0; i < sc.toks.n; i++) {
			size_t k = match_at(&sc, i, ctx_cues[c].phrase);
			if (!k)
				continue;
			r = ctx_feature(f, context, sc.toks.v[i].begin, sc.toks.v[i + k - 1].end, ctx_cues[c].what, opening,
					short_reply, groups);
			break;
		}
	/* a question: one answered with yes or no when it opens with "is", "do", "can" ... */
	for (size_t s = 0; r == 0 && s < n_sents; s++) {
		const ca_span *sp = &sents[s];
		uint32_t e = sp->end;
		while (e > sp->begin && (context[e - 1] == ' ' || context[e - 1] == '\n' || context[e - 1] == ')'))
			e--;
		if (e == sp->begin || context[e - 1] != '?')
			continue;
		bool yn = false;
		for (size_t i = 0; i < sc.toks.n && !yn; i++)
			if (sc.toks.v[i].begin >= sp->begin && sc.toks.v[i].begin < sp->end)
				yn = ca_wordset_has(&yes_no, sc.toks.v[i].norm), i = sc.toks.n;
		r = ctx_feature(f, context, sp->begin, sp->end, "question", opening, short_reply, groups);
		if (r == 0 && yn)
			r = ctx_feature(f, context, sp->begin, sp->end, "yes/no question", opening, short_reply, groups);
	}
	scan_done(&sc);
	free(sents);
	return r;
}

/* ---- the learned model ---- */

static int cmp_weight(const void *key, const void *elem)
{
	return strcmp((const char *)key, ((const ca_reply_weight *)elem)->feature);
}

/* The weight row of a feature: the model's, or for a cue the fit never saw
 * its prior (what the fit would have left it at), in *tmp. NULL: no weight. */
static const ca_reply_weight *model_weight(const ca_reply_feature *f, ca_reply_weight *tmp)
{
	const ca_reply_weight *w =
		bsearch(f->name, ca_reply_model, ca_reply_model_n, sizeof(ca_reply_model[0]), cmp_weight);
	if (w || f->intent >= CA_REPLY_N)
		return w;
	memset(tmp, 0, sizeof(*tmp));
	tmp->feature = f->name;
	tmp->w[f->intent] = f->prior;
	return tmp;
}

void ca_reply_decide_floors(const double logit[CA_REPLY_N], double temperature, const double floors[CA_REPLY_N],
			    ca_reply_reading *out)
{
	double mx = logit[0], sum = 0;
	for (int k = 1; k < CA_REPLY_N; k++)
		mx = logit[k] > mx ? logit[k] : mx;
	for (int k = 0; k < CA_REPLY_N; k++)
		sum += out->scores[k] = exp((logit[k] - mx) / temperature);
	ca_reply_intent best = CA_REPLY_RESOLVED;
	for (int k = 0; k < CA_REPLY_N; k++) {
		out->scores[k] /= sum;
		if (out->scores[k] > out->scores[best])
			best = (ca_reply_intent)k;
	}
	out->guess = best;
	if (out->scores[best] < floors[best]) {
		/* Not sure enough: a person decides. The confidence of "unclear"
		 * is then the chance that the best guess is wrong. */
		out->intent = CA_REPLY_UNCLEAR;
		out->confidence = 1.0 - out->scores[best];
	} else {
		out->intent = best;
		out->confidence = out->scores[best];
	}
}

/* Below its floor an intent is "unclear". The floors are chosen with the
 * weights, on the cross-validated train part (reply_model.c). */
void ca_reply_decide(const double logit[CA_REPLY_N], double temperature, ca_reply_reading *out)
{
	ca_reply_decide_floors(logit, temperature, ca_reply_model_floor, out);
}

/* How much a weight row favours intent k over the intents' mean. */
static double lift(const ca_reply_weight *w, ca_reply_intent k)
{
	double mean = 0;
	for (int i = 0; i < CA_REPLY_N; i++)
		mean += w->w[i];
	return w->w[k] - mean / CA_REPLY_N;
}

/* The feature's name as a person reads it: "not fixed", "word thanks". */
static void cue_label(const char *name, char *out, size_t cap)
{
	static const struct {
		const char *prefix, *label;
	} labels[] = { { "cue:", "" },	    { "not:", "not " },	    { "f:", "" },	  { "g:", "any cue of " },
		       { "w:", "word " },   { "b:", "words " },	    { "c:", "context: " }, { "hdr:", "header " } };
	for (size_t i = 0; i < CA_ARRAY_SIZE(labels); i++) {
		size_t n = strlen(labels[i].prefix);
		if (strncmp(name, labels[i].prefix, n) == 0) {
			snprintf(out, cap, "%s%s", labels[i].label, name + n);
			return;
		}
	}
	snprintf(out, cap, "%s", name);
}

typedef struct contribution {
	const ca_reply_feature *f;
	double lift;
} contribution;

/* Evidence: the features that favour `k` most, strongest first. */
static int evidence_for(const ca_reply_features *fs, ca_reply_intent k, json_t *evidence)
{
	contribution top[MAX_EVIDENCE];
	size_t n = 0;
	for (size_t i = 0; i < fs->n; i++) {
		ca_reply_weight tmp;
		const ca_reply_weight *w = fs->v[i].where == 'b' ? NULL : model_weight(&fs->v[i], &tmp);
		double l = w ? lift(w, k) : 0;
		if (l <= 0.01)
			continue;
		size_t at = n < MAX_EVIDENCE ? n++ : MAX_EVIDENCE;
		while (at > 0 && top[at - 1].lift < l) {
			if (at < MAX_EVIDENCE)
				top[at] = top[at - 1];
			at--;
		}
		if (at < MAX_EVIDENCE)
			top[at] = (contribution){ &fs->v[i], l };
	}
	for (size_t i = 0; i < n; i++) {
		const ca_reply_feature *f = top[i].f;
		char cue[CA_REPLY_FEATURE_NAME + 16];
		cue_label(f->name, cue, sizeof(cue));
		uint32_t b = f->start, e = f->end > f->start ? f->end : f->start;
		const char *src = f->src ? f->src : "";
		json_t *ev = f->where == 'r'
				     ? json_pack("{s:s%,s:I,s:I,s:s,s:s,s:f}", "text", src + b, (size_t)(e - b), "start",
						 (json_int_t)b, "end", (json_int_t)e, "cue", cue, "intent",
						 ca_reply_intent_name(k), "weight", round(top[i].lift * 1e3) / 1e3)
				     : json_pack("{s:s%,s:n,s:n,s:s,s:s,s:f}", "text", src + b, (size_t)(e - b), "start",
						 "end", "cue", cue, "intent", ca_reply_intent_name(k), "weight",
						 round(top[i].lift * 1e3) / 1e3);
		if (!ev || json_array_append_new(evidence, ev) < 0)
			return CA_ENOMEM;
	}
	return 0;
}

void ca_reply_reading_clear(ca_reply_reading *r)
{
	if (!r)
		return;
	json_decref(r->evidence);
	memset(r, 0, sizeof(*r));
}

static void scan_done(scan *sc)
{
	ca_tokens_done(&sc->toks);
	free(sc->sent);
	free(sc->used);
	free(sc->hits);
}

/* Tokens (at most MAX_WORDS) of the stripped reply with their sentences. */
static int scan_text(scan *sc, const char *s, size_t len, ca_span **ret_sents, size_t *ret_n)
{
	int r = ca_tokenize(s, len, 0, NULL, &sc->toks);
	if (r < 0)
		return r;
	while (sc->toks.n > MAX_WORDS) {
		free(sc->toks.v[sc->toks.n - 1].norm);
		sc->toks.n--;
	}
	plain_words(&sc->toks);
	if ((r = ca_sentences(s, len, ret_sents, ret_n)) < 0)
		return r;
	size_t nt = sc->toks.n ? sc->toks.n : 1;
	sc->sent = calloc(nt, sizeof(*sc->sent));
	sc->used = calloc(nt, sizeof(*sc->used));
	if (!sc->sent || !sc->used)
		return CA_ENOMEM;
	size_t s_i = 0;
	for (size_t i = 0; i < sc->toks.n; i++) {
		while (s_i < *ret_n && (*ret_sents)[s_i].end <= sc->toks.v[i].begin)
			s_i++;
		sc->sent[i] = (uint32_t)s_i;
	}
	return 0;
}

static int check_input(const char *text, const json_t *headers, ca_err *err)
{
	if (!text)
		return ca_err_set(err, CA_EINVAL, "reply", "no reply text");
	size_t len = strlen(text), bad;
	if (len > MAX_REPLY_BYTES)
		return ca_err_set(err, CA_ETOOBIG, "reply", "reply of %zu bytes is over the limit of %zu", len,
				  MAX_REPLY_BYTES);
	if (!ca_utf8_valid(text, len, &bad))
		return ca_err_set(err, CA_EINVAL, "reply", "reply is not UTF-8 (bad byte at offset %zu)", bad);
	if (headers && !json_is_object(headers))
		return ca_err_set(err, CA_EINVAL, "reply", "headers must be a JSON object");
	return 0;
}

int ca_reply_features_read(const char *text, const char *context, const json_t *headers, ca_reply_features *out,
			   ca_err *err)
{
	if (!out)
		return ca_err_set(err, CA_EINVAL, "reply", "nowhere to put the features");
	memset(out, 0, sizeof(*out));
	int r = check_input(text, headers, err);
	if (r < 0)
		return r;
	scan sc = { 0 };
	offmap m = { 0 };
	ca_span *sents = NULL;
	size_t n_sents = 0;
	r = CA_ENOMEM;
	char *stripped = ca_email_reply_text(text);
	if (!stripped)
		goto fail;
	size_t len = strlen(text), slen = strlen(stripped);
	if ((r = map_lines(text, len, stripped, &m)) < 0 || (r = scan_text(&sc, stripped, slen, &sents, &n_sents)) < 0 ||
	    (r = match_cues(&sc)) < 0 || (r = match_features(&sc, stripped, sents, n_sents)) < 0 ||
	    (r = short_answer(&sc)) < 0)
		goto fail;
	if ((r = add_feature(out, 'b', NULL, 0, 0, "", "bias")) < 0 || (r = hit_features(out, &sc, text, &m)) < 0 ||
	    (r = word_features(out, &sc, text, &m)) < 0 || (r = context_features(out, context, &sc)) < 0)
		goto fail;
	const char *hv = NULL, *hname = automatic_header(headers, &hv);
	if (hname && (r = add_feature_for(out, 'h', hv, 0, (uint32_t)strlen(hv), "hdr:", hname, CA_REPLY_AUTOMATIC,
					  PRIOR_HEADER)) < 0)
		goto fail;
	if (hname && (r = add_feature_for(out, 'h', hv, 0, (uint32_t)strlen(hv), "g:", "automatic header",
					  CA_REPLY_AUTOMATIC, PRIOR_HEADER)) < 0)
		goto fail;
	r = 0;
fail:
	if (r < 0) {
		ca_reply_features_done(out);
		ca_err_set(err, r, "reply", "out of memory reading a reply");
	}
	scan_done(&sc);
	free(sents);
	free(m.v);
	free(stripped);
	return r;
}

int ca_reply_read_ctx(const char *text, const char *context, const json_t *headers, ca_reply_reading *out,
		      ca_err *err)
{
	if (!out)
		return ca_err_set(err, CA_EINVAL, "reply", "nowhere to put the reading");
	ca_reply_features fs;
	int r = ca_reply_features_read(text, context, headers, &fs, err);
	if (r < 0)
		return r;
	ca_reply_reading rd = { 0 };
	double logit[CA_REPLY_N] = { 0 };
	for (size_t i = 0; i < fs.n; i++) {
		ca_reply_weight tmp;
		const ca_reply_weight *w = model_weight(&fs.v[i], &tmp);
		for (int k = 0; w && k < CA_REPLY_N; k++)
			logit[k] += w->w[k];
	}
	ca_reply_decide(logit, ca_reply_model_temperature, &rd);
	if (!(rd.evidence = json_array()) || evidence_for(&fs, rd.guess, rd.evidence) < 0) {
		ca_reply_features_done(&fs);
		json_decref(rd.evidence);
		return ca_err_set(err, CA_ENOMEM, "reply", "out of memory reading a reply");
	}
	ca_reply_features_done(&fs);
	*out = rd;
	return 0;
}

int ca_reply_read(const char *text, const json_t *headers, ca_reply_reading *out, ca_err *err)
{
	return ca_reply_read_ctx(text, NULL, headers, out, err);
}

json_t *ca_reply_reading_json(const ca_reply_reading *r)
{
	json_t *scores = json_object();
	for (int k = 0; scores && k < CA_REPLY_N; k++)
		if (json_object_set_new(scores, intent_names[k], json_real(round(r->scores[k] * 1e4) / 1e4)) < 0) {
			json_decref(scores);
			return NULL;
		}
	if (!scores)
		return NULL;
	json_t *evidence = r->evidence ? json_incref(r->evidence) : json_array();
	return json_pack("{s:s,s:f,s:o,s:o}", "intent", ca_reply_intent_name(r->intent), "confidence",
			 round(r->confidence * 1e4) / 1e4, "evidence", evidence, "scores", scores);
}

int ca_reply_classify(ca_agent *a, const char *text, const char *headers_json, char **ret_json, ca_err *err)
{
	(void)a; /* pure: the reading needs neither the store nor the settings */
	json_t *headers = NULL;
	if (headers_json) {
		json_error_t je;
		headers = json_loads(headers_json, 0, &je);
		if (!json_is_object(headers)) {
			json_decref(headers);
			return ca_err_set(err, CA_EINVAL, "headers", "headers are not a JSON object: %s",
					  headers ? "another JSON value" : je.text);
		}
	}
	ca_reply_reading rd;
	int r = ca_reply_read(text, headers, &rd, err);
	json_decref(headers);
	if (r < 0)
		return r;
	json_t *j = ca_reply_reading_json(&rd);
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	ca_reply_reading_clear(&rd);
	if (!s)
		return ca_err_set(err, CA_ENOMEM, "reply", "out of memory");
	*ret_json = s;
	return 0;
}
