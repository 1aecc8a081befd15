-- SPDX-License-Identifier: MIT
-- What the wrk scripts of bench/http.sh share (loaded with dofile): setup()
-- numbers the threads (the global `tid` in each, from 1) and keeps them, so
-- done() can add up a per-thread counter with total(name).
local threads = {}

function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
end

function total(name)
	local n = 0
	for _, t in ipairs(threads) do
		n = n + t:get(name)
	end
	return n
end
