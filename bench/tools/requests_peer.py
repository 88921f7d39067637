#!/usr/bin/env python3
"""The client row's peer: Python requests.Session, sequential keep-alive GETs of
the list endpoint, each answer decoded from JSON (as tempmail::Client decodes
its answers into Message values). Prints one JSON line: {"rps": ..., "requests": N}.

  requests_peer.py --url URL --key KEY --email ADDRESS [--seconds 2]
"""
import argparse
import json
import time

import requests


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + args.key
    url = args.url + "/api/messages"
    params = {"email": args.email}
    expected = len(session.get(url, params=params, timeout=10).json()["messages"])
    n = 0
    start = time.perf_counter()
    deadline = start + args.seconds
    while time.perf_counter() < deadline:
        r = session.get(url, params=params, timeout=10)
        r.raise_for_status()
        if len(r.json()["messages"]) != expected:
            raise SystemExit("requests_peer: the list endpoint returned an unexpected count")
        n += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"rps": n / elapsed, "requests": n}))


if __name__ == "__main__":
    main()
