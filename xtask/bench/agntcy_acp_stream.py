"""Join a settled stateless run's stream with agntcy-acp (AsyncACPClient.stream_stateless_run_output).

Usage: python agntcy_acp_stream.py URL RUN_ID EXPECTED THREAD_ID|- LIMIT_SECS

Prints one JSON object. agntcy-acp's sse_astream keeps every line it has seen and re-parses all
of them after each chunk, so it yields earlier events again: `yielded` counts what the iterator
produced, `distinct` the different event ids among them. `events_per_s` is distinct events per
second (the useful rate). The loop stops after LIMIT_SECS (`complete` is then false).
"""

import asyncio
import json
import sys
import time

from agntcy_acp import ApiClientConfiguration, AsyncACPClient


async def main() -> None:
    url, run_id, expected, _thread, limit = sys.argv[1:6]
    expected, limit = int(expected), float(limit)
    client = AsyncACPClient(configuration=ApiClientConfiguration(host=url))
    yielded, ids, complete = 0, set(), False
    start = time.perf_counter()
    try:
        async for ev in client.stream_stateless_run_output(run_id):
            yielded += 1
            ids.add(ev.id)
            if len(ids) >= expected:
                complete = True
                break
            if time.perf_counter() - start > limit:
                break
        else:
            complete = len(ids) >= expected
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        print(json.dumps({"client": "agntcy-acp", "error": f"{type(e).__name__}: {e}"[:300]}))
        return
    secs = time.perf_counter() - start
    await client.api_client.close()
    print(json.dumps({
        "client": "agntcy-acp",
        "sent": expected,
        "yielded": yielded,
        "distinct": len(ids),
        "complete": complete,
        "secs": secs,
        "events_per_s": len(ids) / secs,
        "yielded_per_s": yielded / secs,
    }))


asyncio.run(main())
