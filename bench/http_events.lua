-- SPDX-License-Identifier: MIT
-- wrk script of bench/http.sh: the live-chat platform's load. Every request
-- posts one chat event with a unique id to POST
-- /api/v1/conversations/{id}/events; each conversation is a short chat
-- (open, three messages, accept, a message, update, wrap-up, close) and
-- every thread keeps M conversations going at once, taking them in turn.
-- A conversation's next event is issued M requests after its previous one;
-- since a thread has fewer than M connections (at most that many requests
-- in flight), the previous one has been answered by then, so each
-- conversation's events arrive in order. Env: CA_TOKEN (an Integration
-- user's API token), CA_RUN (a prefix keeping conversation ids unique).
-- done() prints "events_2xx=N non_2xx=N replays=N seconds=S".
local M = 64
local threads = {}
local nthreads = 0

function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
	table.insert(threads, thread)
end

local people = {
	{"jide.okafor@example.net", "my parcel has not arrived and the tracking has not moved for a week"},
	{"marit.torvik@example.com", "my Aurel Smart Kettle is broken, it stopped working and will not turn on"},
	{"lena.brennan@example.org", "my Quill 10 Tablet is broken, the screen stopped working"},
}

local function message(conv, n, role, text)
	return string.format('"type":"message","message":{"id":"%s-m%d","role":"%s","text":"%s"}', conv, n, role, text)
end

-- The body of step s (0-based) of conversation conv, number c.
local function event(conv, c, s)
	local p = people[c % #people + 1]
	local steps = {
		'"type":"open"',
		message(conv, 1, "customer", "Hello, " .. p[2] .. "."),
		message(conv, 2, "agent", "Sorry to hear that. Which e-mail is it under?"),
		message(conv, 3, "customer", p[1]),
		'"type":"accept","actor":"rep"',
		message(conv, 4, "customer", "The serial number is SN-" .. string.format("%06d", c % 1000000) .. "."),
		'"type":"update","actor":"rep"',
		'"type":"wrapup","actor":"rep"',
		'"type":"close","actor":"rep"',
	}
	return #steps, string.format('{"id":"%s-e%d","conversation":"%s",%s}', conv, s + 1, conv, steps[s + 1])
end

function init(args)
	k, ok, bad, replays = 0, 0, 0, 0
	steps_per_chat = event("x", 0, 0)
	run = os.getenv("CA_RUN") or "bench"
	headers = {["Authorization"] = "Bearer " .. (os.getenv("CA_TOKEN") or ""),
		   ["Content-Type"] = "application/json"}
end

function request()
	local slot, round = k % M, math.floor(k / M)
	local c = math.floor(round / steps_per_chat) * M + slot
	local conv = string.format("%s-t%d-%d", run, tid, c)
	local _, body = event(conv, c, round % steps_per_chat)
	k = k + 1
	return wrk.format("POST", "/api/v1/conversations/" .. conv .. "/events", headers, body)
end

function response(status, headers, body)
	if status >= 200 and status < 300 then
		ok = ok + 1
		if body:find('"replayed":true', 1, true) then
			replays = replays + 1
		end
	else
		bad = bad + 1
	end
end

function done(summary, latency, requests)
	local o, b, r = 0, 0, 0
	for _, t in ipairs(threads) do
		o, b, r = o + t:get("ok"), b + t:get("bad"), r + t:get("replays")
	end
	io.write(string.format("events_2xx=%d non_2xx=%d replays=%d seconds=%.3f\n", o, b, r,
			       summary.duration / 1e6))
end
