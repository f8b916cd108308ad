-- wrk script for scripts/load.sh: each request carries the next of the
-- tokens in the file given after --, one per line, round robin.
local tokens = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = "Bearer " .. line
  end
  -- Threads start at different places, so they do not send in step.
  i = math.random(#tokens)
end

function request()
  i = i % #tokens + 1
  return wrk.format(nil, nil, { Authorization = tokens[i] })
end
