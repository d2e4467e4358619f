"""Join a settled thread run's stream with langgraph-sdk (client.runs.join_stream).

Usage: python langgraph_sdk_stream.py URL RUN_ID EXPECTED THREAD_ID LIMIT_SECS

Prints one JSON object; `events_per_s` counts every StreamPart (JSON-decoded data) yielded.
langgraph-sdk only joins thread runs (/threads/{thread_id}/runs/{run_id}/stream).
"""

import asyncio
import json
import sys
import time

from langgraph_sdk import get_client


async def main() -> None:
    url, run_id, expected, thread_id, limit = sys.argv[1:6]
    expected, limit = int(expected), float(limit)
    client = get_client(url=url, api_key=None)
    yielded, complete = 0, False
    start = time.perf_counter()
    try:
        async for part in client.runs.join_stream(thread_id, run_id):
            if part.data is None:
                continue
            yielded += 1
            if time.perf_counter() - start > limit:
                break
        complete = yielded >= expected
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        print(json.dumps({"client": "langgraph-sdk", "error": f"{type(e).__name__}: {e}"[:300]}))
        return
    secs = time.perf_counter() - start
    print(json.dumps({
        "client": "langgraph-sdk",
        "sent": expected,
        "yielded": yielded,
        "distinct": yielded,
        "complete": complete,
        "secs": secs,
        "events_per_s": yielded / secs,
    }))


asyncio.run(main())
