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
 * Precedence) are features too. Per intent a score is a bias plus the sum of
 * its cue weights; a softmax with a temperature fitted on the training part
 * of the labelled set turns scores into probabilities, so that a confidence
 * of 0.9 is right about nine times in ten; below its intent's floor a reading
 * is "unclear" and a person decides. Every cue that counted is evidence,
 * with byte offsets into the caller's text.
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
};

typedef struct cue_def {
	const char *phrase; /* folded words without apostrophes, space-separated; "x*" = prefix */
	uint8_t intent;
	uint8_t flags;
	float weight;
} cue_def;

#define R CA_REPLY_RESOLVED
#define S CA_REPLY_STILL_PROBLEM
#define Q CA_REPLY_QUESTION_OR_INFO
#define A CA_REPLY_AUTOMATIC
#define U CA_REPLY_UNCLEAR

static const cue_def cues[] = {
	/* automatic: out-of-office and auto-reply wording */
	{ "out of office", A, 0, 4.0f },
	{ "out of the office", A, 0, 4.0f },
	{ "automatic reply", A, 0, 4.0f },
	{ "automated reply", A, 0, 4.0f },
	{ "automated response", A, 0, 4.0f },
	{ "auto-reply", A, 0, 4.0f },
	{ "autoreply", A, 0, 4.0f },
	{ "auto reply", A, 0, 4.0f },
	{ "this is an automated", A, 0, 4.0f },
	{ "away from the office", A, 0, 3.5f },
	{ "away from my desk", A, 0, 3.0f },
	{ "on annual leave", A, 0, 3.5f },
	{ "on parental leave", A, 0, 3.5f },
	{ "on maternity leave", A, 0, 3.5f },
	{ "on leave until", A, 0, 3.5f },
	{ "currently on leave", A, 0, 3.5f },
	{ "currently on vacation", A, 0, 3.5f },
	{ "currently on holiday", A, 0, 3.5f },
	{ "currently away", A, 0, 3.0f },
	{ "limited access to email", A, 0, 3.0f },
	{ "limited access to my email", A, 0, 3.0f },
	{ "limited access to e-mail", A, 0, 3.0f },
	{ "until my return", A, 0, 2.5f },
	{ "upon my return", A, 0, 2.5f },
	{ "when i return", A, 0, 2.0f },
	{ "when i am back", A, 0, 2.0f },
	{ "this mailbox is not monitored", A, 0, 3.5f },
	{ "do not reply to this", A, 0, 2.5f },
	{ "for urgent matters", A, 0, 2.0f },
	{ "in my absence", A, 0, 2.5f },
	{ "we have received your", A, 0, 2.5f },

	/* unclear: the outcome is still to come */
	{ "havent had a chance", U, 0, 2.0f },
	{ "not had a chance", U, 0, 2.0f },
	{ "havent tried", U, 0, 2.0f },
	{ "not tried it yet", U, 0, 2.0f },
	{ "will try", U, 0, 1.5f },
	{ "ill try", U, 0, 1.5f },
	{ "let you know", U, 0, 1.5f },
	{ "get back to you", U, 0, 1.5f },
	{ "come back to you", U, 0, 1.5f },
	{ "not sure yet", U, 0, 2.0f },
	{ "will check", U, 0, 1.2f },
	{ "ill check", U, 0, 1.2f },

	/* resolved: no longer needed, explicit before the problem words they hold */
	{ "no longer an issue", R, 0, 3.0f },
	{ "no longer a problem", R, 0, 3.0f },
	{ "no longer need", R, 0, 3.0f },
	{ "no longer needed", R, 0, 3.0f },
	{ "not an issue anymore", R, 0, 3.0f },
	{ "not a problem anymore", R, 0, 3.0f },
	{ "not needed anymore", R, 0, 3.0f },
	{ "dont need it anymore", R, 0, 3.0f },
	{ "dont need help anymore", R, 0, 3.0f },
	{ "no need anymore", R, 0, 3.0f },
	{ "never mind", R, 0, 2.0f },
	{ "nevermind", R, 0, 2.0f },
	{ "no problem", R, 0, 1.2f },
	{ "no worries", R, 0, 1.2f },
	{ "no issues now", R, 0, 2.5f },
	{ "no more issues", R, 0, 2.5f },
	{ "you can close", R, 0, 3.0f },
	{ "close the case", R, 0, 3.0f },
	{ "close the ticket", R, 0, 3.0f },
	{ "close this ticket", R, 0, 3.0f },
	{ "all sorted", R, NEGATABLE, 3.0f },
	{ "all good", R, NEGATABLE, 2.5f },
	{ "all set", R, NEGATABLE, 2.5f },
	{ "all fixed", R, NEGATABLE, 3.0f },
	{ "working now", R, NEGATABLE, 3.0f },
	{ "works now", R, NEGATABLE, 3.0f },
	{ "working again", R, NEGATABLE, 3.0f },
	{ "works again", R, NEGATABLE, 3.0f },
	{ "working fine", R, NEGATABLE, 2.5f },
	{ "works fine", R, NEGATABLE, 2.5f },
	{ "working perfectly", R, NEGATABLE, 2.5f },
	{ "is working", R, NEGATABLE, 1.8f },
	{ "its working", R, NEGATABLE, 2.5f },
	{ "it works", R, NEGATABLE, 2.5f },
	{ "that worked", R, NEGATABLE, 3.0f },
	{ "it worked", R, NEGATABLE, 3.0f },
	{ "this worked", R, NEGATABLE, 3.0f },
	{ "did the trick", R, NEGATABLE, 3.0f },
	{ "that did it", R, NEGATABLE, 3.0f },
	{ "problem solved", R, NEGATABLE, 3.0f },
	{ "issue solved", R, NEGATABLE, 3.0f },
	{ "figured it out", R, NEGATABLE, 3.0f },
	{ "up and running", R, NEGATABLE, 3.0f },
	{ "back up", R, NEGATABLE, 1.5f },
	{ "back to normal", R, NEGATABLE, 3.0f },
	{ "got it sorted", R, NEGATABLE, 3.0f },
	{ "got it working", R, NEGATABLE, 3.0f },
	{ "fixed", R, NEGATABLE, 2.5f },
	{ "resolved", R, NEGATABLE, 2.5f },
	{ "solved", R, NEGATABLE, 2.5f },
	{ "sorted", R, NEGATABLE, 2.2f },
	{ "sorted out", R, NEGATABLE, 2.5f },
	{ "received it", R, NEGATABLE, 2.0f },
	{ "arrived", R, NEGATABLE, 1.2f },
	{ "helped", R, NEGATABLE, 1.5f },
	{ "helpful", R, NEGATABLE, 1.2f },
	{ "perfect", R, NEGATABLE, 1.5f },
	{ "great", R, NEGATABLE, 1.0f },
	{ "awesome", R, NEGATABLE, 1.2f },
	{ "excellent", R, NEGATABLE, 1.2f },
	{ "brilliant", R, NEGATABLE, 1.2f },
	{ "amazing", R, NEGATABLE, 1.0f },
	{ "wonderful", R, NEGATABLE, 1.0f },
	{ "appreciate it", R, THANKS, 2.0f },
	{ "appreciate*", R, THANKS, 2.0f },
	{ "thanks again", R, THANKS, 2.0f },
	{ "thank you again", R, THANKS, 2.0f },
	{ "thats all", R, 0, 2.5f },
	{ "that is all", R, 0, 2.5f },
	{ "thats it", R, 0, 2.0f },
	{ "that is it", R, 0, 2.0f },
	{ "that will be all", R, 0, 2.5f },
	{ "thats everything", R, 0, 2.5f },
	{ "nothing else", R, 0, 2.5f },
	{ "all i needed", R, 0, 2.5f },
	{ "all i need", R, 0, 2.0f },
	{ "you too", R, 0, 2.0f },
	{ "u too", R, 0, 2.0f },
	{ "have a nice day", R, 0, 2.0f },
	{ "have a good day", R, 0, 2.0f },
	{ "have a great day", R, 0, 2.0f },
	{ "have a good night", R, 0, 2.0f },
	{ "have a great night", R, 0, 2.0f },
	{ "take care", R, 0, 1.5f },
	{ "bye", R, 0, 1.5f },
	{ "goodbye", R, 0, 1.5f },
	{ "peace out", R, 0, 1.5f },
	{ "makes sense", R, NEGATABLE, 2.0f },
	{ "fair enough", R, 0, 2.0f },
	{ "no need", R, 0, 2.0f },
	{ "answered", R, NEGATABLE, 1.5f },
	{ "glad", R, NEGATABLE, 1.5f },
	{ "happy", R, NEGATABLE, 1.0f },
	{ "love", R, NEGATABLE, 1.0f },
	{ "good", R, NEGATABLE, 0.8f },
	{ "nice", R, NEGATABLE, 0.8f },
	{ "fine", R, NEGATABLE, 0.8f },
	{ "exceptional", R, NEGATABLE, 1.5f },
	{ "look forward", R, 0, 1.5f },
	{ "looking forward", R, 0, 1.5f },
	{ "thanks for nothing", S, 0, 3.5f },
	{ "thank you for nothing", S, 0, 3.5f },
	{ "thank you so much", R, THANKS, 2.5f },
	{ "thanks so much", R, THANKS, 2.5f },
	{ "thank you", R, THANKS, 2.0f },
	{ "thanks", R, THANKS, 2.0f },
	{ "thank", R, THANKS, 1.5f },
	{ "thanx", R, THANKS, 2.0f },
	{ "thx", R, THANKS, 2.0f },
	{ "ty", R, THANKS, 1.5f },
	{ "cheers", R, THANKS, 1.5f },
	{ "ok", R, 0, 0.5f },
	{ "okay", R, 0, 0.5f },
	{ "will do", R, 0, 0.8f },
	{ "got it", R, NEGATABLE, 1.0f },

	/* still has the problem, or a complaint */
	{ "but it still", S, 0, 3.0f },
	{ "but still", S, 0, 3.0f },
	{ "still not", S, 0, 3.0f },
	{ "still no", S, 0, 3.0f },
	{ "still doesnt", S, 0, 3.0f },
	{ "still dont", S, 0, 3.0f },
	{ "still didnt", S, 0, 3.0f },
	{ "still cant", S, 0, 3.0f },
	{ "still having", S, 0, 3.0f },
	{ "still waiting", S, 0, 3.0f },
	{ "still getting", S, 0, 2.5f },
	{ "still the same", S, 0, 3.0f },
	{ "still broken", S, 0, 3.0f },
	{ "still", S, 0, 1.6f },
	{ "not yet", S, 0, 2.0f },
	{ "not interested", S, 0, 2.0f },
	{ "no option", S, 0, 2.0f },
	{ "what a mess", S, 0, 2.5f },
	{ "stopped responding", S, 0, 2.5f },
	{ "dont help", S, 0, 3.0f },
	{ "doesnt do anything", S, 0, 3.0f },
	{ "does nothing", S, 0, 2.5f },
	{ "same problem", S, 0, 2.5f },
	{ "same issue", S, 0, 2.5f },
	{ "same thing", S, 0, 1.5f },
	{ "same error", S, 0, 2.5f },
	{ "no luck", S, 0, 2.5f },
	{ "no joy", S, 0, 2.5f },
	{ "no change", S, 0, 2.0f },
	{ "no difference", S, 0, 2.0f },
	{ "no response", S, 0, 2.0f },
	{ "no reply", S, 0, 1.5f },
	{ "no one", S, 0, 1.2f },
	{ "nobody", S, 0, 1.2f },
	{ "nothing happens", S, 0, 2.5f },
	{ "nothing has changed", S, 0, 2.5f },
	{ "not working", S, 0, 3.0f },
	{ "not resolved", S, 0, 3.0f },
	{ "not fixed", S, 0, 3.0f },
	{ "doesnt work", S, 0, 3.0f },
	{ "didnt work", S, 0, 3.0f },
	{ "didnt help", S, 0, 3.0f },
	{ "doesnt help", S, 0, 2.5f },
	{ "wont work", S, 0, 2.5f },
	{ "wont let me", S, 0, 2.5f },
	{ "isnt working", S, 0, 3.0f },
	{ "wasnt working", S, 0, 2.0f },
	{ "tried that", S, 0, 2.0f },
	{ "already tried", S, 0, 2.5f },
	{ "already did", S, 0, 2.0f },
	{ "already done", S, 0, 1.5f },
	{ "tried everything", S, 0, 2.5f },
	{ "keeps", S, 0, 1.5f },
	{ "again", S, 0, 1.0f },
	{ "cant", S, 0, 1.2f },
	{ "cannot", S, 0, 1.2f },
	{ "unable", S, 0, 1.5f },
	{ "wont", S, 0, 0.8f },
	{ "doesnt", S, 0, 1.0f },
	{ "didnt", S, 0, 1.0f },
	{ "havent", S, 0, 1.0f },
	{ "hasnt", S, 0, 1.0f },
	{ "isnt", S, 0, 0.8f },
	{ "broken", S, 0, 1.5f },
	{ "crash*", S, 0, 1.5f },
	{ "freez*", S, 0, 1.2f },
	{ "error", S, 0, 1.2f },
	{ "issue", S, 0, 0.6f },
	{ "problem", S, 0, 0.6f },
	{ "worse", S, 0, 1.5f },
	{ "worst", S, 0, 2.0f },
	{ "terrible", S, 0, 2.0f },
	{ "horrible", S, 0, 2.0f },
	{ "awful", S, 0, 2.0f },
	{ "ridiculous", S, 0, 2.0f },
	{ "unacceptable", S, 0, 2.5f },
	{ "pathetic", S, 0, 2.0f },
	{ "useless", S, 0, 2.0f },
	{ "joke", S, 0, 1.5f },
	{ "disappoint*", S, 0, 2.0f },
	{ "frustrat*", S, 0, 2.0f },
	{ "annoy*", S, 0, 1.5f },
	{ "waste", S, 0, 1.5f },
	{ "never again", S, 0, 2.5f },
	{ "fed up", S, 0, 2.0f },
	{ "sick of", S, 0, 2.0f },
	{ "complain*", S, 0, 1.5f },
	{ "refund", S, 0, 0.8f },
	{ "wtf", S, 0, 2.0f },
	{ "not much help", S, 0, 2.5f },
	{ "wasnt much help", S, 0, 2.5f },
	{ "not helpful", S, 0, 2.5f },
	{ "unhelpful", S, 0, 2.5f },
	{ "no help", S, 0, 2.5f },
	{ "please help", S, 0, 2.0f },
	{ "help me", S, 0, 1.2f },
	{ "heard nothing", S, 0, 2.5f },
	{ "havent heard", S, 0, 2.5f },
	{ "not heard", S, 0, 2.5f },
	{ "no answer", S, 0, 2.5f },
	{ "nothing at all", S, 0, 2.0f },
	{ "nothing", S, 0, 1.2f },
	{ "never", S, 0, 1.0f },
	{ "not", S, 0, 0.8f },
	{ "dont", S, 0, 0.6f },
	{ "wasnt", S, 0, 0.8f },
	{ "no one", S, 0, 1.2f },
	{ "zero", S, 0, 1.0f },
	{ "refus*", S, 0, 1.5f },
	{ "ignor*", S, 0, 1.5f },
	{ "wrong", S, 0, 1.2f },
	{ "late", S, 0, 1.0f },
	{ "delay*", S, 0, 1.0f },
	{ "missing", S, 0, 1.0f },
	{ "lost", S, 0, 1.0f },
	{ "stuck", S, 0, 1.5f },
	{ "fail*", S, 0, 1.2f },
	{ "poor", S, 0, 1.5f },
	{ "bad", S, 0, 1.2f },
	{ "rubbish", S, 0, 2.0f },
	{ "shame*", S, 0, 2.0f },
	{ "disgrace*", S, 0, 2.0f },
	{ "scam*", S, 0, 2.0f },
	{ "lie", S, 0, 1.5f },
	{ "liars", S, 0, 2.0f },
	{ "lying", S, 0, 1.5f },
	{ "fuck*", S, 0, 2.0f },
	{ "shit*", S, 0, 2.0f },
	{ "piss*", S, 0, 2.0f },
	{ "crap", S, 0, 2.0f },
	{ "damn", S, 0, 1.5f },
	{ "why", S, 0, 1.0f },
	{ "but", S, 0, 0.6f },
	{ "however", S, 0, 0.6f },
	{ "although", S, 0, 0.6f },
	{ "though", S, 0, 0.4f },
	{ "unfortunately", S, 0, 1.5f },
	{ "sadly", S, 0, 1.0f },
	{ "wait*", S, 0, 0.8f },
	{ "smh", S, 0, 1.5f },

	/* question, or the information asked for */
	{ "how do i", Q, 0, 2.0f },
	{ "how can i", Q, 0, 2.0f },
	{ "what do i", Q, 0, 1.5f },
	{ "can you", Q, 0, 1.2f },
	{ "could you", Q, 0, 1.2f },
	{ "is there", Q, OPENING, 1.0f },
	{ "do you", Q, OPENING, 1.0f },
	{ "any update", Q, 0, 1.5f },
	{ "any news", Q, 0, 1.5f },
	{ "how", Q, OPENING, 1.0f },
	{ "what", Q, OPENING, 1.0f },
	{ "when", Q, OPENING, 0.8f },
	{ "where", Q, OPENING, 1.0f },
	{ "which", Q, OPENING, 1.0f },
	{ "wondering", Q, 0, 1.2f },
	{ "sent you a dm", Q, 0, 3.0f },
	{ "sent a dm", Q, 0, 3.0f },
	{ "sent you a message", Q, 0, 2.5f },
	{ "sent you a private message", Q, 0, 3.0f },
	{ "just sent", Q, 0, 2.0f },
	{ "i sent", Q, 0, 1.5f },
	{ "ive sent", Q, 0, 2.0f },
	{ "have sent", Q, 0, 1.5f },
	{ "dm sent", Q, 0, 3.0f },
	{ "dmed", Q, 0, 2.5f },
	{ "dmd", Q, 0, 2.5f },
	{ "dm", Q, 0, 1.5f },
	{ "direct message", Q, 0, 2.0f },
	{ "check your dm", Q, 0, 3.0f },
	{ "check dm", Q, 0, 3.0f },
	{ "followed", Q, 0, 1.5f },
	{ "following you", Q, 0, 1.5f },
	{ "here it is", Q, 0, 2.0f },
	{ "here is", Q, 0, 1.2f },
	{ "heres", Q, 0, 1.2f },
	{ "attached", Q, 0, 1.5f },
	{ "https", Q, 0, 1.0f },
	{ "http", Q, 0, 1.0f },
	{ "my email is", Q, 0, 2.5f },
	{ "my email address is", Q, 0, 2.5f },
	{ "my number is", Q, 0, 2.5f },
	{ "my order number", Q, 0, 2.0f },
	{ "order number is", Q, 0, 2.5f },
	{ "version", Q, 0, 1.0f },
	{ "ios", Q, 0, 0.8f },
	{ "android", Q, 0, 0.8f },
	{ "windows", Q, 0, 0.6f },
	{ "model", Q, 0, 0.6f },
	{ "done", Q, 0, 1.2f },
	{ "will dm", Q, 0, 2.0f },
	{ "let me know", Q, 0, 0.8f },
	{ "sure", Q, OPENING, 1.0f },
	{ "im on", Q, 0, 1.0f },
	{ "i am on", Q, 0, 1.0f },
	{ "im using", Q, 0, 1.0f },
	{ "i use", Q, 0, 0.8f },
	{ "it is", Q, 0, 0.6f },
	{ "it does", Q, 0, 0.6f },
	{ "ps4", Q, 0, 1.0f },
	{ "xbox", Q, 0, 0.8f },
	{ "playstation", Q, 0, 0.8f },
	{ "iphone", Q, 0, 0.6f },
	{ "ipad", Q, 0, 0.6f },
	{ "mac", Q, 0, 0.6f },
	{ "pc", Q, 0, 0.6f },
	{ "laptop", Q, 0, 0.6f },
	{ "chrome", Q, 0, 0.6f },
	{ "firefox", Q, 0, 0.6f },
	{ "safari", Q, 0, 0.6f },
	{ "wi-fi", Q, 0, 0.6f },
	{ "wifi", Q, 0, 0.6f },
	{ "bluetooth", Q, 0, 0.6f },
	{ "account", Q, 0, 0.5f },
	{ "yes", Q, OPENING, 1.0f },
	{ "yep", Q, OPENING, 1.0f },
	{ "yeah", Q, OPENING, 0.8f },
	{ "no", Q, OPENING, 0.6f },
	{ "nope", Q, OPENING, 0.8f },
	{ "i did", Q, 0, 0.8f },
	{ "i have", Q, OPENING, 0.5f },
	{ "it says", Q, 0, 1.0f },
	{ "says", Q, 0, 0.5f },
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

/* Per-intent bias: "unclear" is the reading of a reply without cues. */
static const double bias[CA_REPLY_N] = {
	[CA_REPLY_RESOLVED] = 0.0,
	[CA_REPLY_STILL_PROBLEM] = 0.0,
	[CA_REPLY_QUESTION_OR_INFO] = 0.0,
	[CA_REPLY_UNCLEAR] = 0.7,
	[CA_REPLY_AUTOMATIC] = -1.0,
};
/* Below its floor an intent becomes "unclear". Resolved closes cases, so
 * its floor is the highest. */
static const double floor_of[CA_REPLY_N] = {
	[CA_REPLY_RESOLVED] = 0.62,
	[CA_REPLY_STILL_PROBLEM] = 0.35,
	[CA_REPLY_QUESTION_OR_INFO] = 0.35,
	[CA_REPLY_UNCLEAR] = 0.0,
	[CA_REPLY_AUTOMATIC] = 0.50,
};
/* Softmax temperature (docs/replies.md "Calibration"). */
#define TEMPERATURE 0.7
/* A question mark ends a question; an identifier, number or e-mail address
 * is information given; a headers' sign of automatic mail all but settles it. */
#define W_QUESTION_MARK 1.6
#define W_IDENTIFIER 0.7
#define W_HEADER 6.0
#define THANKS_DISCOUNT 0.35
#define W_SHOUTING 1.0
#define W_SHORT_ANSWER 1.0
#define SHORT_ANSWER_WORDS 8

/* ---- matching ---- */

typedef struct hit {
	uint32_t begin, end; /* in the analysed (stripped) text */
	const char *cue;     /* table phrase, or a feature's name */
	ca_reply_intent intent;
	double weight;
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
					  (ca_reply_intent)cu->intent, cu->weight, false, cu->flags };
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
		if ((r = add_hit(sc, (hit){ sp->begin, sp->end, "?", CA_REPLY_QUESTION_OR_INFO, W_QUESTION_MARK,
					    false, 0 })) < 0)
			return r;
	}
	for (size_t i = 0; i < sc->toks.n; i++) {
		if (!identifier(&sc->toks.v[i]))
			continue;
		const ca_token *t = &sc->toks.v[i];
		const char *what = t->kind == CA_TOK_EMAIL ? "e-mail address" : "identifier";
		if ((r = add_hit(sc, (hit){ t->begin, t->end, what, CA_REPLY_QUESTION_OR_INFO, W_IDENTIFIER, false,
					    0 })) < 0)
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
						 "words in capitals", CA_REPLY_STILL_PROBLEM, W_SHOUTING, false,
						 0 })) < 0)
		return r;
	const char *bang = strstr(text, "!!");
	if (bang && (r = add_hit(sc, (hit){ (uint32_t)(bang - text), (uint32_t)(bang - text) + 2, "!!",
					    CA_REPLY_STILL_PROBLEM, W_SHOUTING, false, 0 })) < 0)
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
				  CA_REPLY_QUESTION_OR_INFO, W_SHORT_ANSWER, false, 0 });
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

static json_t *evidence_item(const char *text, const offmap *m, const hit *h)
{
	uint32_t b = map_off(m, h->begin, false), e = map_off(m, h->end, true);
	if (e < b)
		e = b;
	char cue[128];
	snprintf(cue, sizeof(cue), "%s%s", h->negated ? "not " : "", h->cue);
	return json_pack("{s:s%,s:I,s:I,s:s,s:s,s:f}", "text", text + b, (size_t)(e - b), "start", (json_int_t)b,
			 "end", (json_int_t)e, "cue", cue, "intent", ca_reply_intent_name(h->intent), "weight",
			 h->weight);
}

/* Evidence: the hits for the chosen intent first, strongest first. */
static int cmp_hits_for(const hit *a, const hit *b, ca_reply_intent chosen)
{
	int ca = a->intent == chosen, cb = b->intent == chosen;
	if (ca != cb)
		return cb - ca;
	if (a->weight != b->weight)
		return a->weight < b->weight ? 1 : -1;
	return a->begin < b->begin ? -1 : a->begin > b->begin;
}

static void sort_hits(hit *v, size_t n, ca_reply_intent chosen)
{
	for (size_t i = 1; i < n; i++) /* insertion sort: a reply has few hits */
		for (size_t j = i; j > 0 && cmp_hits_for(&v[j - 1], &v[j], chosen) > 0; j--) {
			hit t = v[j - 1];
			v[j - 1] = v[j];
			v[j] = t;
		}
}

static void decide(ca_reply_reading *out, const double score[CA_REPLY_N])
{
	double mx = score[0], sum = 0;
	for (int k = 1; k < CA_REPLY_N; k++)
		mx = score[k] > mx ? score[k] : mx;
	for (int k = 0; k < CA_REPLY_N; k++)
		sum += out->scores[k] = exp((score[k] - mx) / TEMPERATURE);
	ca_reply_intent best = CA_REPLY_RESOLVED;
	for (int k = 0; k < CA_REPLY_N; k++) {
		out->scores[k] /= sum;
		if (out->scores[k] > out->scores[best])
			best = (ca_reply_intent)k;
	}
	if (out->scores[best] < floor_of[best]) {
		/* Not sure enough: a person decides. The confidence of "unclear"
		 * is then the chance that the best guess is wrong. */
		out->intent = CA_REPLY_UNCLEAR;
		out->confidence = 1.0 - out->scores[best];
	} else {
		out->intent = best;
		out->confidence = out->scores[best];
	}
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

int ca_reply_read(const char *text, const json_t *headers, ca_reply_reading *out, ca_err *err)
{
	if (!text || !out)
		return ca_err_set(err, CA_EINVAL, "reply", "no reply text");
	size_t len = strlen(text), bad;
	if (len > MAX_REPLY_BYTES)
		return ca_err_set(err, CA_ETOOBIG, "reply", "reply of %zu bytes is over the limit of %zu", len,
				  MAX_REPLY_BYTES);
	if (!ca_utf8_valid(text, len, &bad))
		return ca_err_set(err, CA_EINVAL, "reply", "reply is not UTF-8 (bad byte at offset %zu)", bad);
	if (headers && !json_is_object(headers))
		return ca_err_set(err, CA_EINVAL, "reply", "headers must be a JSON object");

	ca_reply_reading rd = { 0 };
	scan sc = { 0 };
	offmap m = { 0 };
	ca_span *sents = NULL;
	size_t n_sents = 0;
	int r = CA_ENOMEM;
	char *stripped = ca_email_reply_text(text);
	if (!stripped || !(rd.evidence = json_array()))
		goto fail;
	size_t slen = strlen(stripped);
	if ((r = map_lines(text, len, stripped, &m)) < 0 || (r = scan_text(&sc, stripped, slen, &sents, &n_sents)) < 0 ||
	    (r = match_cues(&sc)) < 0 || (r = match_features(&sc, stripped, sents, n_sents)) < 0 ||
	    (r = short_answer(&sc)) < 0)
		goto fail;

	double score[CA_REPLY_N];
	memcpy(score, bias, sizeof(score));
	bool other = false; /* a problem or a question beside the thanks */
	for (size_t i = 0; i < sc.n_hits; i++)
		other = other || sc.hits[i].intent == CA_REPLY_STILL_PROBLEM ||
			(sc.hits[i].intent == CA_REPLY_QUESTION_OR_INFO && sc.hits[i].weight >= 1.0);
	bool seen_thanks = false;
	for (size_t i = 0; i < sc.n_hits; i++) {
		hit *h = &sc.hits[i];
		if (h->flags & THANKS) {
			/* One thanks counts; "thanks, but it still ..." is politeness. */
			h->weight = seen_thanks ? 0 : other ? h->weight * THANKS_DISCOUNT : h->weight;
			seen_thanks = true;
		}
		score[h->intent] += h->weight;
	}
	const char *hv = NULL, *hname = automatic_header(headers, &hv);
	if (hname)
		score[CA_REPLY_AUTOMATIC] += W_HEADER;
	decide(&rd, score);

	if (hname) {
		char cue[64];
		snprintf(cue, sizeof(cue), "header %s", hname);
		json_t *ev = json_pack("{s:s++,s:n,s:n,s:s,s:s,s:f}", "text", hname, ": ", hv, "start", "end",
				       "cue", cue, "intent", "automatic", "weight", W_HEADER);
		if (!ev || json_array_append_new(rd.evidence, ev) < 0)
			goto fail;
	}
	sort_hits(sc.hits, sc.n_hits, rd.intent == CA_REPLY_UNCLEAR ? CA_REPLY_N : rd.intent);
	for (size_t i = 0; i < sc.n_hits && json_array_size(rd.evidence) < MAX_EVIDENCE; i++) {
		if (sc.hits[i].weight <= 0)
			continue;
		json_t *ev = evidence_item(text, &m, &sc.hits[i]);
		if (!ev || json_array_append_new(rd.evidence, ev) < 0)
			goto fail;
	}
	r = 0;
	*out = rd;
	rd.evidence = NULL;
fail:
	if (r < 0)
		ca_err_set(err, r, "reply", "out of memory reading a reply");
	json_decref(rd.evidence);
	scan_done(&sc);
	free(sents);
	free(m.v);
	free(stripped);
	return r;
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
