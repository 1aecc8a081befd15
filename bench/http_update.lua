-- SPDX-License-Identifier: MIT
-- wrk script of bench/http.sh: a representative's Update from conversation,
-- POST /api/v1/cases/{ref}/update-from-conversation, over existing cases
-- taken in turn; the two threads take alternate cases, so two requests
-- never update the same case at once (a thread has fewer connections than
-- cases).
-- Env: CA_TOKEN (a representative's API token), CA_CASES (ticket numbers,
-- comma-separated). done() prints "updates_2xx=N non_2xx=N".
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "wrk_threads.lua")

function init(args)
	k, ok, bad = 0, 0, 0
	refs = {}
	local all = {}
	for ref in string.gmatch(os.getenv("CA_CASES") or "", "[^,]+") do
		table.insert(all, ref)
	end
	-- Two threads (bench/http.sh runs -t2): odd and even positions.
	for i, ref in ipairs(all) do
		if (i - 1) % 2 == (tid - 1) % 2 then
			table.insert(refs, ref)
		end
	end
	headers = {["Authorization"] = "Bearer " .. (os.getenv("CA_TOKEN") or ""),
		   ["Content-Type"] = "application/json"}
end

function request()
	local ref = refs[k % #refs + 1]
	k = k + 1
	return wrk.format("POST", "/api/v1/cases/" .. ref .. "/update-from-conversation", headers, "{}")
end

function response(status, headers, body)
	if status >= 200 and status < 300 then
		ok = ok + 1
	else
		bad = bad + 1
	end
end

function done(summary, latency, requests)
	io.write(string.format("updates_2xx=%d non_2xx=%d\n", total("ok"), total("bad")))
end
