# SPDX-License-Identifier: MIT
# The "people win" scenario the CLI tests share (sourced): settings with a
# priority option field that an update rule predicts once the customer is
# known, and a conversation in two halves whose second half pushes the
# agent towards "urgent". A test edits priority between the halves and
# checks that the next update from conversation leaves it alone.
# priority_settings FILE [EXTRA [CHANNELS]]: writes the settings to FILE;
# EXTRA (JSON members, e.g. "email": {...}) is added to the document,
# CHANNELS (default "chat": true) are the channels' members.
priority_settings() {
	local extra=${2:-} channels=${3:-'"chat": true'}
	{ printf '{"version": 1, "channels": {%s},\n' "$channels"
	  cat <<'EOF'
 "fields": [
  {"name": "customer", "type": "lookup", "lookup": "contact", "threshold": 0.6},
  {"name": "category", "type": "option", "threshold": 0.3, "options": [
    {"value": "device_fault", "description": "A product does not work: will not charge, power on, pair or connect, disconnects, is faulty."},
    {"value": "billing_question", "description": "Money taken or owed: double charge, declined card, invoices."}]},
  {"name": "description", "type": "text", "threshold": 0.3},
  {"name": "priority", "type": "option", "threshold": 0.5, "options": [
    {"value": "low", "description": "A question with no deadline; nothing is broken."},
    {"value": "normal", "description": "An ordinary request about a product or account, handled in turn."},
    {"value": "high", "description": "The customer is blocked or out of pocket."},
    {"value": "urgent", "description": "Needs action today: fraud, a safety issue such as an overheating battery or smoke, a formal complaint.",
     "cues": ["urgent", "smoke", "overheating", "complaint", "immediately"]}]}],
 "default_fields": ["customer", "category", "description"],
 "update_rules": [{"name": "priority once the customer is known",
   "condition": {"match": "all", "conditions": [{"field": "customer", "operator": "is_not_empty"}]},
   "predict": ["priority"]}]
EOF
	  [ -n "$extra" ] && printf ',\n %s' "$extra"
	  printf '}\n'; } >"$1"
}
# first_half CONV, second_half_messages CONV: the conversation's events,
# one per line (open, three messages, accept by alice; then two messages).
first_half() { local c=$1; cat <<EOF
{"id":"$c-e1","type":"open","conversation":"$c"}
{"id":"$c-e2","type":"message","conversation":"$c","message":{"id":"$c-m1","role":"customer","text":"Hi, my Orbit Mini speaker keeps disconnecting from the Wi-Fi, I think it is faulty."}}
{"id":"$c-e3","type":"message","conversation":"$c","message":{"id":"$c-m2","role":"agent","text":"Sorry about that. Could I have the email on your account?"}}
{"id":"$c-e4","type":"message","conversation":"$c","message":{"id":"$c-m3","role":"customer","text":"priya.vantassel@example.com"}}
{"id":"$c-e5","type":"accept","conversation":"$c","actor":"alice"}
EOF
}
second_half_messages() { local c=$1; cat <<EOF
{"id":"$c-e6","type":"message","conversation":"$c","message":{"id":"$c-m4","role":"customer","text":"This is urgent: the speaker is overheating and I saw smoke coming out of it. I want to make a formal complaint and need action immediately."}}
{"id":"$c-e7","type":"message","conversation":"$c","message":{"id":"$c-m5","role":"agent","text":"I am very sorry. Please unplug it right away; I am escalating this now."}}
EOF
}
