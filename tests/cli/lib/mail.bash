# SPDX-License-Identifier: MIT
# Helpers of the e-mail CLI tests (sourced). The test defines T (its scratch
# folder), ca (caseagent on its database) and j (a Python expression over
# JSON on stdin, `d`).
# mail FILE FROM SUBJECT MESSAGE-ID [EXTRA-HEADER...] < body: writes $T/FILE,
# a plain-text message to support@brightwave.example.
mail() {
	local f=$1 from=$2 subject=$3 mid=$4; shift 4
	{ printf 'From: %s\r\nTo: Support <support@brightwave.example>\r\nSubject: %s\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n' "$from" "$subject"
	  [ -n "$mid" ] && printf 'Message-ID: <%s>\r\n' "$mid"
	  for h in "$@"; do printf '%s\r\n' "$h"; done
	  printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'; cat; } > "$T/$f"
}
# outcome FILE: ingests $T/FILE and prints "OUTCOME CASE REASON".
outcome() { ca --json email ingest "$T/$1" | j 'd["emails_detail"][0]["outcome"] + " " + str(d["emails_detail"][0].get("case")) + " " + d["emails_detail"][0]["reason"]'; }
