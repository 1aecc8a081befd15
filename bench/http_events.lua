-- SPDX-License-Identifier: MIT
-- wrk script of bench/http.sh: the live-chat platform's load. Every request
-- posts one chat event with a unique id to POST
-- /api/v1/conversations/{id}/events; each conversation is a short chat
-- (open, three messages, accept, a message, update, wrap-up, close). A
-- conversation's next event is sent only once its previous one has been
-- answered (the answer names the conversation and the event), so each
-- conversation's events arrive in order however many connections a thread
-- has; a connection with no conversation ready opens a new one. Env:
-- CA_TOKEN (an Integration user's API token), CA_RUN (a prefix keeping
-- conversation ids unique). done() prints "events_2xx=N non_2xx=N
-- replays=N opens=N seconds=S".
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "wrk_threads.lua")

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
	ok, bad, replays, opens, next_chat = 0, 0, 0, 0, 0
	ready = {}
	run = os.getenv("CA_RUN") or "bench"
	steps_per_chat = event("x", 0, 0)
	headers = {["Authorization"] = "Bearer " .. (os.getenv("CA_TOKEN") or ""),
		   ["Content-Type"] = "application/json"}
end

function request()
	local item = table.remove(ready, 1)
	if not item then
		item = {next_chat, 0}
		next_chat = next_chat + 1
	end
	local c, step = item[1], item[2]
	local conv = string.format("%s-t%d-%d", run, tid, c)
	local _, body = event(conv, c, step)
	return wrk.format("POST", "/api/v1/conversations/" .. conv .. "/events", headers, body)
end

function response(status, headers, body)
	if status < 200 or status >= 300 then
		bad = bad + 1
		return
	end
	ok = ok + 1
	if body:find('"replayed"%s*:%s*true') then
		replays = replays + 1
	end
	local c, n = body:match('"event"%s*:%s*"[^"]*%-t%d+%-(%d+)%-e(%d+)"')
	if c then
		n = tonumber(n)
		if n == 1 then
			opens = opens + 1
		end
		if n < steps_per_chat then
			table.insert(ready, {tonumber(c), n})
		end
	end
end

function done(summary, latency, requests)
	io.write(string.format("events_2xx=%d non_2xx=%d replays=%d opens=%d seconds=%.3f\n", total("ok"),
			       total("bad"), total("replays"), total("opens"), summary.duration / 1e6))
end
