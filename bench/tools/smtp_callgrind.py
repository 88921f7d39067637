#!/usr/bin/env python3
"""Instructions the SMTP hot path costs per message, counted by callgrind.

  smtp_callgrind.py PATH/TO/tempmail-server [--messages N] [--base M]

Runs tempmail-server (in memory, one I/O thread) under valgrind's callgrind
twice: once sending M 1 KB messages and once N, each over one reused
connection (a raw socket that waits for each reply, as smtplib does). Prints
(Ir(N) - Ir(M)) / (N - M): the instructions per message, start-up and
shutdown cancelled out, for the whole process and for the SMTP code alone (the
session's read handler and all it calls, less the store's deliver and
accepts_recipient; how much of the store's work lands on the I/O thread
depends on timing, so the I/O thread's total is not a stable figure). Instruction counts,
unlike wall time, do not move with the load of a busy machine.
"""
import argparse
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

def body(to):
    head = f"From: bench@example.org\r\nTo: {to}\r\nSubject: bench\r\n\r\n".encode()
    line = b"y" * 62 + b"\r\n"
    text = head + line * ((1024 - len(head)) // len(line))
    return text + b"\r\n.\r\n"


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.buffer = b""

    def reply(self):
        while True:
            while b"\r\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise RuntimeError("server closed the connection")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            if line[3:4] != b"-":
                return line

    def command(self, data, want):
        self.sock.sendall(data)
        line = self.reply()
        if not line.startswith(want):
            raise RuntimeError(f"expected {want!r}, got {line!r}")


def run(server, messages, out_dir):
    out = os.path.join(out_dir, f"callgrind.{messages}")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--separate-threads=yes",
         f"--callgrind-out-file={out}.%p", server, "--http", "127.0.0.1:0", "--smtp",
         "127.0.0.1:0", "--threads", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        api = info["http"]
        port = int(info["smtp"].rsplit(":", 1)[1])
        headers = {"Authorization": "Bearer local-dev-key"}
        box = requests.post(api + "/api/emails", headers=headers, timeout=120).json()["data"]["email"]
        c = Client(port)
        if not c.reply().startswith(b"220"):
            raise RuntimeError("no greeting")
        c.command(b"EHLO bench.test\r\n", b"250")
        text = body(box)
        for _ in range(messages):
            c.command(b"MAIL FROM:<bench@example.org>\r\n", b"250")
            c.command(f"RCPT TO:<{box}>\r\n".encode(), b"250")
            c.command(b"DATA\r\n", b"354")
            c.command(text, b"250")
        c.command(b"QUIT\r\n", b"221")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # every message parsed: the counts are complete
            r = requests.get(api + f"/api/messages?email={box}", headers=headers, timeout=120)
            if len(r.json()["messages"]) == messages:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=300)
    per_thread = {}
    for path in glob.glob(out + ".*"):
        with open(path) as f:
            text = f.read()
        thread = re.search(r"^thread: (\d+)", text, re.M)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if not total:
            continue  # the file callgrind writes besides the per-thread ones
        # The I/O thread is the one that ran the session (its name is in the file).
        if "SmtpSession::pump" in text:
            per_thread["io"] = int(total.group(1))
            per_thread["session"] = session_cost(path)
        else:
            per_thread[f"thread {thread.group(1)}"] = int(total.group(1))
    return per_thread


def inclusive(path, pattern):
    """The inclusive cost of every function whose name matches, summed."""
    report = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                            capture_output=True, text=True, check=True).stdout
    total = 0
    for line in report.splitlines():
        # A function's own line names its object file ("... [/path/tempmail-server]");
        # lines without it are code inlined from headers, already counted there.
        m = re.match(r"^\s*([\d,]+) \([^)]*\)\s+\S+?:(.*) \[/[^\]]*\]$", line)
        if m and re.search(pattern, m.group(2)):
            total += int(m.group(1).replace(",", ""))
    return total


def session_cost(path):
    """The session's read handler and all it calls, but not the store it hands
    messages to: what the SMTP code itself costs, whatever the store does."""
    handler = inclusive(path, r"^tempmail::local::detail::SmtpSession::start_read\(\)::"
                              r"\{lambda\(boost::system::error_code const&, unsigned long\)#1\}"
                              r"::operator\(\)")
    store = inclusive(path, r"^tempmail::local::detail::Store::(deliver|accepts_recipient)\(")
    return handler - store


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--base", type=int, default=200)
    parser.add_argument("--keep", help="directory for the callgrind files (default: deleted)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out_dir = args.keep or scratch
        os.makedirs(out_dir, exist_ok=True)
        low = run(args.server, args.base, out_dir)
        high = run(args.server, args.messages, out_dir)
    n = args.messages - args.base
    total = (sum(high.values()) - sum(low.values())) / n
    session = (high.pop("session") - low.pop("session")) / n
    print(f"Ir per 1 KB message, one reused connection: {total:,.0f} whole process, "
          f"{session:,.0f} SMTP session and protocol (the read handler without the store)")
    for thread in sorted(high):
        print(f"  {thread}: {(high[thread] - low.get(thread, 0)) / n:,.0f}")


if __name__ == "__main__":
    sys.exit(main())
