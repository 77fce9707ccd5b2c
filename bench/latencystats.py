"""The stats file both latency harnesses serve (latencyfs.py, latencyfs3.py): one format, read by bench/network.ts."""

import json


def stats_text(harness, entry_timeout, attr_timeout):
    """The harness's delay, timeouts and request counts as the JSON bytes of its stats file."""
    return json.dumps(
        {
            "delayMs": harness.delay * 1000,
            "timeouts": {"entry": entry_timeout, "attr": attr_timeout},
            "totals": harness.totals,
            "maxInFlight": harness.max_in_flight,
            "chain": harness.chain,
            "files": harness.files,
        }
    ).encode()
