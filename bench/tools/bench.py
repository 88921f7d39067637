#!/usr/bin/env python3
"""Runs every benchmark row side by side with its peer and prints one table.

Called by bench/run after it has installed the peers (bench/setup), built the
Release tree and generated the corpus:

  bench.py --build DIR [--quick | --full] [--awake]
           [--only smtp,durability,api,client,wait,extract,footprint]

Each row alternates ours and its peer in the same run (--rounds times) and
reports the median of each, so a machine that gets slower or faster during the
run moves both. Every server is started here on loopback with free ports and
stopped here; every loop is bounded by a count or a deadline.
Writes OUT/results.md (the table, the machine, the versions and every command)
and OUT/results.json.
"""
import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
REPO = os.path.dirname(BENCH)
KEY = "local-dev-key"
MAILDEV_JS = os.path.join(BENCH, ".peers", "maildev", "node_modules", "maildev", "dist", "bin",
                          "maildev.js")

COMMANDS = []  # every command a row ran, for results.md
PROCS = []     # servers still running, stopped at exit whatever happens


def log(text):
    print(text, file=sys.stderr, flush=True)


def run(cmd, timeout, check=True, record=True, **kw):
    """Runs a bounded command; returns (CompletedProcess, seconds)."""
    if record:
        COMMANDS.append(" ".join(cmd))
    start = time.perf_counter()
    cp = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    elapsed = time.perf_counter() - start
    if check and cp.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {cp.returncode}: {cp.stderr.strip()[-800:]}")
    return cp, elapsed


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def port_open(port):
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def peak_rss_kb(pid):
    """VmHWM: the process's peak resident set size."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for pid {pid}")


class Proc:
    """A server in its own process group, output to files in OUT."""

    def __init__(self, name, cmd, out_dir, **kw):
        self.name = name
        self.cmd = cmd
        COMMANDS.append(" ".join(cmd))
        self.stdout_path = os.path.join(out_dir, f"{name}.out")
        self.stderr_path = os.path.join(out_dir, f"{name}.err")
        self.p = subprocess.Popen(cmd, stdout=open(self.stdout_path, "w"),
                                  stderr=open(self.stderr_path, "w"), start_new_session=True, **kw)
        PROCS.append(self)

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def first_line(self, timeout=20.0):
        def ready():
            if not self.alive():
                raise RuntimeError(f"{self.name} exited: {open(self.stderr_path).read()[-800:]}")
            with open(self.stdout_path) as f:
                return f.readline().endswith("\n")
        wait_until(f"{self.name} to start", ready, timeout)
        with open(self.stdout_path) as f:
            return f.readline()

    def kill9(self):
        os.killpg(self.p.pid, signal.SIGKILL)
        self.p.wait(10)
        PROCS.remove(self)

    def stop(self, timeout=20.0):
        if self not in PROCS:
            return
        PROCS.remove(self)
        if self.p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(10)


def stop_all():
    for p in list(PROCS):
        with contextlib.suppress(Exception):
            p.stop(5)


# --- the servers -------------------------------------------------------------

class Ours:
    def __init__(self, build, out_dir, name, db=None, extra=()):
        self.db = db
        cmd = [os.path.join(build, "apps", "tempmail-server", "tempmail-server"),
               "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0", "--quota", "1000000000",
               "--ttl", "3600", *extra]
        if db:
            cmd += ["--db", db]
        self.proc = Proc(name, cmd, out_dir)
        info = json.loads(self.proc.first_line())
        self.url = info["http"]
        host, port = info["smtp"].rsplit(":", 1)
        self.smtp_port = int(port)
        self.http_port = int(self.url.rsplit(":", 1)[1])
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + KEY

    def create_mailbox(self):
        r = self.session.post(self.url + "/api/emails", timeout=10)
        r.raise_for_status()
        return r.json()["data"]["email"]

    def list_path(self, email):
        return f"/api/messages?email={email}"

    def delete_mailbox(self, email):
        self.session.delete(self.url + "/api/emails/" + email, timeout=120).raise_for_status()

    def count(self, email):
        r = self.session.get(self.url + "/api/messages", params={"email": email}, timeout=120)
        r.raise_for_status()
        return len(r.json()["messages"])

    def subjects(self, email):
        r = self.session.get(self.url + "/api/messages", params={"email": email}, timeout=120)
        r.raise_for_status()
        return {m["subject"] for m in r.json()["messages"]}

    def stop(self):
        self.proc.stop()


class MailDev:
    def __init__(self, out_dir, name="maildev"):
        self.smtp_port = free_port()
        self.http_port = free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        cmd = ["node", MAILDEV_JS, "--smtp", str(self.smtp_port), "--ip", "127.0.0.1",
               "--web", str(self.http_port), "--web-ip", "127.0.0.1", "--silent"]
        self.proc = Proc(name, cmd, out_dir)
        wait_until("MailDev to answer",
                   lambda: requests.get(self.url + "/api/healthz", timeout=1).ok
                   and port_open(self.smtp_port), 60)
        self.session = requests.Session()

    def create_mailbox(self):
        return "bench@example.com"  # MailDev keeps one inbox for every recipient

    def list_path(self, email):
        return "/api/email"  # every email, full content: the counterpart of our list endpoint

    def count(self, email):
        r = self.session.get(self.url + "/api/email/summary", params={"limit": 1}, timeout=120)
        r.raise_for_status()
        return r.json()["total"]

    def clear(self):
        self.session.delete(self.url + "/api/email/all", timeout=120).raise_for_status()

    def stop(self):
        self.proc.stop()


class Sink:
    """Postfix's smtp-sink: accepts and discards, the do-nothing upper bound."""

    def __init__(self, out_dir):
        self.smtp_port = free_port()
        cmd = [tool("smtp-sink"), "-u", "nobody", f"127.0.0.1:{self.smtp_port}", "1024"]
        self.proc = Proc("smtp-sink", cmd, out_dir)
        wait_until("smtp-sink to listen", lambda: port_open(self.smtp_port))

    def create_mailbox(self):
        return "bench@example.com"

    def stop(self):
        self.proc.stop()


def tool(name):
    for d in ("/usr/sbin", "/usr/lib/postfix/sbin", "/usr/bin"):
        if os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    raise RuntimeError(f"{name} not found: run bench/setup")


# --- the table ---------------------------------------------------------------

ROWS = []


def row(section, name, ours, peer, ratio=None, target=None, met=None, check=""):
    ROWS.append(dict(section=section, name=name, ours=ours, peer=peer, ratio=ratio,
                     target=target, met=met, check=check))
    r = "" if ratio is None else f"{ratio:.2f}x"
    log(f"  {name}: ours {ours} | peer {peer} | {r} | {target or ''} | "
        f"{'' if met is None else ('yes' if met else 'NO')} {check}")


def fmt_rate(x, unit):
    return f"{x:,.0f} {unit}"


def median(xs):
    return statistics.median(xs)


# --- 1. SMTP ingest ----------------------------------------------------------

SMTP_CONFIGS = [
    # name, sessions, bytes, reuse, target vs smtp-sink, target vs MailDev
    ("1 KB, 1 session", 1, 1024, False, None, None),
    ("1 KB, 20 sessions", 20, 1024, False, 0.5, None),
    ("50 KB, 1 session", 1, 50 * 1024, False, None, None),
    ("50 KB, 20 sessions", 20, 50 * 1024, False, 0.5, None),
    ("1 KB, 1 reused connection", 1, 1024, True, 0.5, 3.0),
    ("50 KB, 1 reused connection", 1, 50 * 1024, True, 0.5, 3.0),
]
# --fsync (power-loss durability) is measured where its cost shows: one flush
# per message on a single connection, one per batch with 20.
FSYNC_CONFIGS = {"1 KB, 20 sessions", "1 KB, 1 reused connection"}


def smtp_source(port, to, sessions, size, reuse, count, timeout=300):
    cmd = [tool("smtp-source"), "-s", str(sessions), "-m", str(count), "-l", str(size),
           "-f", "bench@source.test", "-t", to, "-M", "source.test"]
    if reuse:
        cmd.append("-d")
    cmd.append(f"127.0.0.1:{port}")
    _, elapsed = run(cmd, timeout, record=False)
    return count / elapsed, cmd


def ingest_once(server, sessions, size, reuse, count):
    """Sends `count` messages; returns (msg/s, stored or None, command)."""
    to = server.create_mailbox()
    if isinstance(server, MailDev):
        server.clear()
    rate, cmd = smtp_source(server.smtp_port, to, sessions, size, reuse, count)
    stored = server.count(to) if hasattr(server, "count") else None
    if isinstance(server, Ours):
        server.delete_mailbox(to)  # as MailDev is cleared: neither piles up gigabytes
    return rate, stored, cmd


def measure_ingest(args, active, sessions, size, reuse):
    """Calibrates each server with a short run, sizes the measured runs to the
    budget, then alternates them for args.smtp_rounds rounds.
    Returns (rates per key, counts, lost, commands)."""
    counts = {}
    for key, server in active.items():
        slow_greeting = key == "maildev" and not reuse  # 100 ms per connection
        c0 = max(20, 2 * sessions) if slow_greeting or key == "fsync" else (
            300 if size <= 4096 else 100)
        rate, _, _ = ingest_once(server, sessions, size, reuse, c0)
        cap = 40000 if size <= 4096 else 4000
        counts[key] = int(min(cap, max(c0, rate * args.seconds * 0.6)))
    rates = {k: [] for k in active}
    lost = {k: 0 for k in active}
    cmds = {}
    for _ in range(args.smtp_rounds):
        for key, server in active.items():
            rate, stored, cmd = ingest_once(server, sessions, size, reuse, counts[key])
            rates[key].append(rate)
            cmds[key] = " ".join(cmd)
            if stored is not None and stored != counts[key]:
                lost[key] += counts[key] - stored
    COMMANDS.extend(cmds.values())
    return rates, counts, lost


def bench_smtp(args, out_dir):
    log("SMTP ingest")
    db_dir = tempfile.mkdtemp(prefix="tempmail-bench-db-")
    servers = {
        "db": Ours(args.build, out_dir, "ours-db", db=os.path.join(db_dir, "ingest.db")),
        "mem": Ours(args.build, out_dir, "ours-mem"),
        "fsync": Ours(args.build, out_dir, "ours-fsync", db=os.path.join(db_dir, "fsync.db"),
                      extra=["--fsync"]),
        "sink": Sink(out_dir),
    }
    maildev = None
    try:
        for name, sessions, size, reuse, sink_target, maildev_target in SMTP_CONFIGS:
            # Two phases, each side by side: ours against smtp-sink, then ours
            # against MailDev. MailDev runs only during its own phase: once it
            # has taken mail, node keeps a core busy in the background, which
            # slowed ours and smtp-sink alike (smtp-sink on one reused connection
            # from ~27,000 to ~4,500 msg/s), so the sink rows measured the
            # neighbour more than either program.
            active = {k: v for k, v in servers.items() if k != "fsync" or name in FSYNC_CONFIGS}
            rates, counts, lost = measure_ingest(args, active, sessions, size, reuse)
            med = {k: median(v) for k, v in rates.items()}

            # The ratio is the median of each round's ratio: runs next to each other
            # share the machine's mood, so a slow moment moves both sides.
            def ratio_of(rates, key, peer):
                return median([a / b for a, b in zip(rates[key], rates[peer])])

            def check(counts, lost, key):
                return (f"{counts[key]} sent x{args.smtp_rounds}, all counted through the API"
                        if lost[key] == 0 else f"{lost[key]} LOST")
            labels = [("db", "--db FILE"), ("mem", "in memory")]
            if "fsync" in active:
                labels.append(("fsync", "--db FILE --fsync"))
            for key, label in labels:
                ratio = ratio_of(rates, key, "sink")
                target = sink_target if key != "fsync" else None
                row("SMTP ingest", f"{name}, ours ({label}) vs smtp-sink",
                    fmt_rate(med[key], "msg/s"), "smtp-sink " + fmt_rate(med["sink"], "msg/s"),
                    ratio, f">= {target:.2f}x" if target else None,
                    (ratio >= target and lost[key] == 0) if target else None,
                    check(counts, lost, key))

            maildev = MailDev(out_dir)
            try:
                pair = {"db": servers["db"], "maildev": maildev}
                m_rates, m_counts, m_lost = measure_ingest(args, pair, sessions, size, reuse)
            finally:
                maildev.stop()
                maildev = None
            m_med = {k: median(v) for k, v in m_rates.items()}
            ratio = ratio_of(m_rates, "db", "maildev")
            note = "" if reuse else " (MailDev greets each connection after 100 ms)"
            row("SMTP ingest", f"{name}, ours (--db FILE) vs MailDev{note}",
                fmt_rate(m_med["db"], "msg/s"), "MailDev " + fmt_rate(m_med["maildev"], "msg/s"),
                ratio, f">= {maildev_target:.1f}x" if maildev_target else None,
                (ratio >= maildev_target and m_lost["db"] == 0) if maildev_target else None,
                "MailDev: " + check(m_counts, m_lost, "maildev") +
                ("" if m_lost["db"] == 0 else f"; ours {m_lost['db']} LOST"))
    finally:
        for s in servers.values():
            s.stop()
        if maildev:
            maildev.stop()
        shutil.rmtree(db_dir, ignore_errors=True)


# --- kill -9: every acknowledged message survives -----------------------------

def bench_durability(args, out_dir):
    log("kill -9 durability")
    db_dir = tempfile.mkdtemp(prefix="tempmail-bench-kill-")
    db = os.path.join(db_dir, "kill.db")
    server = Ours(args.build, out_dir, "ours-kill9", db=db)
    to = server.create_mailbox()
    acked = []
    acked_lock = threading.Lock()
    stop = threading.Event()

    def sender(t):
        i = 0
        try:
            with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
                while not stop.is_set() and i < 100000:
                    subject = f"kill9 {t} {i}"
                    smtp.sendmail("bench@source.test", [to],
                                  f"Subject: {subject}\r\nFrom: bench@source.test\r\n\r\n"
                                  f"{'x' * 1000}\r\n")
                    with acked_lock:  # sendmail returned: the 250 after DATA was read
                        acked.append(subject)
                    i += 1
        except (smtplib.SMTPException, OSError):
            pass  # the server was killed

    threads = [threading.Thread(target=sender, args=(t,)) for t in range(20)]
    for t in threads:
        t.start()
    time.sleep(args.seconds)  # let the load run: the kill lands in the middle of it
    server.proc.kill9()
    stop.set()
    for t in threads:
        t.join(30)
    with acked_lock:
        acknowledged = set(acked)
    restarted = Ours(args.build, out_dir, "ours-kill9-restart", db=db)
    try:
        stored = restarted.subjects(to)
    finally:
        restarted.stop()
        shutil.rmtree(db_dir, ignore_errors=True)
    missing = acknowledged - stored
    row("SMTP ingest", "kill -9 during 20-session ingest (--db FILE), then restart",
        f"{len(acknowledged):,} acknowledged, {len(acknowledged & stored):,} of them stored",
        "—", None, "every acknowledged message stored", not missing,
        f"{len(missing)} missing; {len(stored) - len(acknowledged & stored)} stored but not yet "
        "acknowledged when killed")


# --- 2. API: wrk on the list endpoint ----------------------------------------

def sample_email(corpus, subject_no):
    msg = EmailMessage()
    msg["From"] = "Northwind <no-reply@northwind.test>"
    msg["To"] = "bench@example.com"
    msg["Subject"] = f"Confirm your email address ({subject_no})"
    with open(os.path.join(corpus, "005k_0.html"), encoding="utf-8") as f:
        html = f.read()
    msg.set_content("Your verification code is 993908.")
    msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def fill(server, to, n, corpus):
    """The same n messages into `to` over one SMTP connection."""
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        for i in range(n):
            smtp.sendmail("no-reply@northwind.test", [to], sample_email(corpus, i))


def wrk(url, path, seconds, headers=()):
    cmd = ["wrk", "-t", "2", "-c", "16", "-d", f"{max(1, round(seconds))}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url + path)
    cp, _ = run(cmd, seconds + 60, record=False)
    out = cp.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99_ms = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return rps, p99_ms, int(bad.group(1)) if bad else 0, errors.group(0) if errors else "", cmd


def bench_api(args, out_dir):
    log("API: wrk on the list endpoint")
    db_dir = tempfile.mkdtemp(prefix="tempmail-bench-api-")
    ours = Ours(args.build, out_dir, "ours-api", db=os.path.join(db_dir, "api.db"))
    auth = ["Authorization: Bearer " + KEY]
    try:
        for n in (10, 1000):
            maildev = MailDev(out_dir, f"maildev-api-{n}")
            try:
                to = ours.create_mailbox()
                fill(ours, to, n, args.corpus)
                fill(maildev, "bench@example.com", n, args.corpus)
                assert ours.count(to) == n and maildev.count(None) == n
                size_ours = len(ours.session.get(ours.url + ours.list_path(to)).content)
                size_md = len(maildev.session.get(maildev.url + "/api/email").content)
                r_ours, r_md, p_ours, p_md = [], [], [], []
                for _ in range(args.rounds):
                    rps, p99, bad, err, cmd_o = wrk(ours.url, ours.list_path(to), args.seconds, auth)
                    if bad or err:
                        raise RuntimeError(f"wrk on ours: {bad} non-2xx; {err}")
                    r_ours.append(rps)
                    p_ours.append(p99)
                    rps, p99, bad, err, cmd_m = wrk(maildev.url, "/api/email", args.seconds)
                    if bad or err:
                        raise RuntimeError(f"wrk on MailDev: {bad} non-2xx; {err}")
                    r_md.append(rps)
                    p_md.append(p99)
                COMMANDS.extend([" ".join(cmd_o), " ".join(cmd_m)])
                ratio = median([a / b for a, b in zip(r_ours, r_md)])
                row("API", f"list endpoint, {n:,} messages (wrk -t2 -c16)",
                    f"{median(r_ours):,.0f} req/s, p99 {median(p_ours):.2f} ms",
                    f"MailDev {median(r_md):,.0f} req/s, p99 {median(p_md):.2f} ms",
                    ratio, ">= 5.0x", ratio >= 5.0,
                    f"response {size_ours / 1024:,.0f} KiB vs MailDev {size_md / 1024:,.0f} KiB")
            finally:
                maildev.stop()
    finally:
        ours.stop()
        shutil.rmtree(db_dir, ignore_errors=True)


# --- 3. Client ---------------------------------------------------------------

def bench_client(args, out_dir):
    log("Client: tempmail::Client vs requests.Session")
    ours = Ours(args.build, out_dir, "ours-client")
    try:
        to = ours.create_mailbox()
        fill(ours, to, 1, args.corpus)
        common = [f"--url={ours.url}", f"--key={KEY}", f"--email={to}"]
        single, shared, peer = [], [], []
        for _ in range(args.rounds):
            cmd = [os.path.join(args.build, "bench", "bench_client"), *common,
                   f"--benchmark_min_time={args.seconds:g}", "--benchmark_format=json"]
            cp, _ = run(cmd, 300, record=False)
            for b in json.loads(cp.stdout)["benchmarks"]:
                if "error_message" in b:
                    raise RuntimeError(f"bench_client: {b['error_message']}")
                (shared if "threads:8" in b["name"] else single).append(b["items_per_second"])
            pcmd = [sys.executable, os.path.join(HERE, "requests_peer.py"), "--url", ours.url,
                    "--key", KEY, "--email", to, "--seconds", f"{args.seconds:g}"]
            cp, _ = run(pcmd, 300, record=False)
            peer.append(json.loads(cp.stdout)["rps"])
        COMMANDS.extend([" ".join(cmd), " ".join(pcmd)])
        ratio = median([a / b for a, b in zip(single, peer)])
        row("Client", "sequential keep-alive GETs of the list endpoint (1 message)",
            fmt_rate(median(single), "req/s"), "requests.Session " + fmt_rate(median(peer), "req/s"),
            ratio, ">= 5.0x", ratio >= 5.0, "same server, same endpoint")
        row("Client", "8 threads sharing one Client",
            fmt_rate(median(shared), "req/s"), "requests.Session " + fmt_rate(median(peer), "req/s"),
            median(shared) / median(peer), None, None, "peer: 1 thread")
    finally:
        ours.stop()


# --- 4. Wait lag ----------------------------------------------------------------

def bench_wait(args, out_dir):
    log("Wait: detection lag and calls per wait")
    windows = "0.5,2,5,15,60" if args.full else "0.5,2,5"
    samples = 5 if args.full else 3
    cmd = [os.path.join(args.build, "bench", "bench_wait_lag"), f"--windows={windows}",
           f"--samples={samples}", "--modes=push,poll"]
    cp, _ = run(cmd, 3600)
    results = [json.loads(line) for line in cp.stdout.splitlines() if line.startswith("{")]
    poll = {r["window_s"]: r for r in results if r["mode"] == "poll" and r["supported"]}
    push = {r["window_s"]: r for r in results if r["mode"] == "push" and r["supported"]}
    for w, p in sorted(poll.items()):
        def cell(r):
            return (f"lag p50 {r['lag_ms_p50']:.1f} ms (max {r['lag_ms_max']:.1f}), "
                    f"{r['calls_mean']:.1f} quota calls, {r['polls_mean']:.1f} requests")
        if w in push:
            q = push[w]
            row("Wait", f"wait_for, message at a random moment in {w:g} s (long-poll vs polling)",
                cell(q), "polling " + cell(p),
                p["lag_ms_p50"] / q["lag_ms_p50"] if q["lag_ms_p50"] > 0 else None,
                None, None, f"{p['samples']} samples; ratio: polling lag / long-poll lag")
        else:
            row("Wait", f"wait_for, message at a random moment in {w:g} s (polling)",
                "polling " + cell(p), "TODO(#7): long-poll not in WaitOptions yet", None, None,
                None, f"{p['samples']} samples")


# --- 5. Extraction -------------------------------------------------------------

def bench_extract(args, out_dir):
    log("Extraction")
    cmd = [os.path.join(args.build, "bench", "bench_extract"), f"--corpus={args.corpus}",
           f"--benchmark_min_time={max(0.2, args.seconds / 4):g}", "--benchmark_format=json",
           f"--benchmark_repetitions={args.rounds + 1}", "--benchmark_report_aggregates_only=true"]
    cp, _ = run(cmd, 1800)
    res = {}
    for b in json.loads(cp.stdout)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            res[b["run_name"]] = b

    # CPU time: single-threaded and compute-bound, so time spent descheduled on a
    # busy machine is not the code's. MB/s from CPU time likewise.
    def mbps(b):
        return b["email_bytes"] / b["cpu_time"]  # bytes per us = MB/s

    gp = res["gumbo_parse_arena/corpus"]
    for kind in ("extract", "text", "links", "otp"):
        b = res[f"{kind}/corpus"]
        row("Extraction", f"{kind}: 28 emails of 5-200 KB (mean {b['email_bytes'] / 1024:.0f} KB), CPU time",
            f"{mbps(b):.1f} MB/s, {b['cpu_time']:.0f} us/email",
            f"Gumbo parse alone {mbps(gp):.1f} MB/s, {gp['cpu_time']:.0f} us/email",
            gp["cpu_time"] / b["cpu_time"], None, None,
            "ratio: Gumbo's parse of the email as it is / our whole extraction (above 1: we "
            "hand Gumbo a smaller document, src/extract/prepare.hpp)")
    for kb in (5, 20, 50, 100, 200):
        b = res[f"extract/{kb}KB"]
        g = res[f"gumbo_parse_arena/{kb}KB"]
        d = res[f"gumbo_parse/{kb}KB"]
        target = kb == 100
        row("Extraction", f"extract() of one {kb} KB email (text, links, ranked links, OTP), CPU time",
            f"{b['cpu_time'] / 1000:.2f} ms", f"Gumbo parse alone {g['cpu_time'] / 1000:.2f} ms",
            g["cpu_time"] / b["cpu_time"], "< 2 ms" if target else None,
            (b["cpu_time"] < 2000) if target else None,
            f"Gumbo's parse of the email as it is takes {100 * g['cpu_time'] / b['cpu_time']:.0f}% "
            f"of our whole extraction; Gumbo with default "
            f"options {d['cpu_time'] / 1000:.2f} ms; wall {b['real_time'] / 1000:.2f} ms")


# --- 6. Footprint --------------------------------------------------------------

def bench_footprint(args, out_dir):
    log("Footprint: 10,000 stored messages")
    db_dir = tempfile.mkdtemp(prefix="tempmail-bench-rss-")
    n = 10000
    ours = Ours(args.build, out_dir, "ours-rss", db=os.path.join(db_dir, "rss.db"))
    maildev = MailDev(out_dir, "maildev-rss")
    try:
        to = ours.create_mailbox()
        for server, rcpt in ((ours, to), (maildev, "bench@example.com")):
            cmd = [tool("smtp-source"), "-s", "4", "-d", "-m", str(n), "-l", "2048",
                   "-f", "bench@source.test", "-t", rcpt, "-M", "source.test",
                   f"127.0.0.1:{server.smtp_port}"]
            run(cmd, 600)
        stored_ours = ours.count(to)
        stored_md = maildev.count(None)
        ours.count(to)  # one more full list each: reading is part of the footprint
        maildev.session.get(maildev.url + "/api/email", timeout=120).raise_for_status()
        rss_ours = peak_rss_kb(ours.proc.pid)
        rss_md = peak_rss_kb(maildev.proc.pid)
        row("Footprint", f"peak RSS holding {n:,} messages of 2 KB (--db FILE; listed once)",
            f"{rss_ours / 1024:.0f} MiB", f"MailDev {rss_md / 1024:.0f} MiB", rss_md / rss_ours,
            None, None, f"stored {stored_ours:,} / MailDev {stored_md:,}; ratio: MailDev / ours")
    finally:
        ours.stop()
        maildev.stop()
        shutil.rmtree(db_dir, ignore_errors=True)
    if not args.full:
        row("Footprint", "clean Release build; full test suite", "not run (bench/run --full)",
            "—")
        return
    log("Footprint: clean Release build and the test suite (several minutes)")
    build = tempfile.mkdtemp(prefix="tempmail-bench-clean-")
    try:
        run(["cmake", "-S", REPO, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release"], 300)
        _, t_build = run(["ninja", "-C", build, "-j2"], 7200)
        cp, t_test = run(["ctest", "--test-dir", build, "-j2"], 7200, check=False)
        summary = re.search(r"\d+% tests passed, \d+ tests failed out of \d+", cp.stdout)
        row("Footprint", "clean Release build, every target (ninja -j2)",
            f"{t_build / 60:.1f} min", "—", None, None, None, f"{os.cpu_count()} cores")
        row("Footprint", "full test suite (ctest -j2, Release)", f"{t_test:.0f} s", "—", None,
            None, None, summary.group(0) if summary else f"ctest exited {cp.returncode}")
    finally:
        shutil.rmtree(build, ignore_errors=True)


# --- report --------------------------------------------------------------------

def versions(build):
    def out(cmd):
        with contextlib.suppress(Exception):
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        return "?"

    def deb(p):
        return out(["dpkg-query", "-W", "-f=${Version}", p]) or "?"

    cpu = "?"
    with contextlib.suppress(Exception):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(Exception):
        mem = f"{int(open('/proc/meminfo').readline().split()[1]) / 1024 / 1024:.0f} GiB"
    maildev = "?"
    with contextlib.suppress(Exception):
        maildev = json.load(open(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            MAILDEV_JS))), "package.json")))["version"]
    return {
        "machine": f"{cpu}, {os.cpu_count()} cores, {mem} RAM, {platform.system()} "
                   f"{platform.release()}, ext4 on virtio disk",
        "os": out(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"]),
        "compiler": out(["c++", "--version"]).splitlines()[0] if out(["c++", "--version"]) else "?",
        "tempmail": "0.1.0 (Release, -O3)",
        "postfix (smtp-source, smtp-sink)": deb("postfix"),
        "MailDev": maildev,
        "node": out(["node", "--version"]),
        "wrk": deb("wrk"),
        "python3": platform.python_version(),
        "requests": requests.__version__,
        "gumbo": deb("libgumbo1"),
        "sqlite3": deb("libsqlite3-0"),
        "gmime": deb("libgmime-3.0-0"),
        "google benchmark": deb("libbenchmark1debian"),
    }


def table():
    lines = ["| section | row | ours | peer | ratio | target | met? | check |",
             "|---|---|---|---|---|---|---|---|"]
    for r in ROWS:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(f"| {r['section']} | {r['name']} | {r['ours']} | {r['peer']} | {ratio} | "
                     f"{r['target'] or ''} | {met} | {r['check']} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--out", default=os.path.join(BENCH, "out"))
    parser.add_argument("--corpus", default=os.path.join(BENCH, "corpus"))
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the default: short runs")
    mode.add_argument("--full", action="store_true",
                      help="longer runs, wait windows up to 60 s, clean build and test-suite time")
    parser.add_argument("--only", default="smtp,durability,api,client,wait,extract,footprint")
    parser.add_argument("--awake", action="store_true",
                        help="run a nice-19 busy loop throughout, so that idle vCPUs do not halt "
                             "(on VMs where waking a halted vCPU is slow, one-connection rows "
                             "measure that wake-up, not the servers)")
    args = parser.parse_args()
    args.build = os.path.abspath(args.build)
    args.rounds = 3 if args.full else 2
    args.smtp_rounds = 9 if args.full else 5
    args.seconds = 3.0 if args.full else 1.5
    os.makedirs(args.out, exist_ok=True)
    sections = {"smtp": bench_smtp, "durability": bench_durability, "api": bench_api,
                "client": bench_client, "wait": bench_wait, "extract": bench_extract,
                "footprint": bench_footprint}
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    for s in wanted:
        if s not in sections:
            parser.error(f"--only: unknown row group '{s}' (known: {', '.join(sections)})")
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: (stop_all(), sys.exit(130)))
    started = time.time()
    failed = []
    if args.awake:
        # The lowest priority: it runs only when a core would otherwise idle.
        Proc("awake", [sys.executable, "-c", "import os\nos.nice(19)\nwhile True: pass"],
             args.out)
    try:
        for s in wanted:
            try:
                sections[s](args, args.out)
            except Exception as e:  # one broken row group must not hide the others
                failed.append(f"{s}: {e}")
                log(f"bench: {s} failed: {e}")
    finally:
        stop_all()
    info = versions(args.build)
    mode_name = ("--full" if args.full else "--quick") + (" --awake" if args.awake else "")
    md = [f"# tempmail-cpp benchmarks ({mode_name}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{(time.time() - started) / 60:.1f} min)", "", table(), ""]
    if failed:
        md += ["Row groups that failed:", ""] + [f"- {f}" for f in failed] + [""]
    md += ["Machine and versions:", ""] + [f"- {k}: {v}" for k, v in info.items()] + [""]
    md += ["Commands (servers and load generators; ports are picked at run time):", "", "```"]
    seen = set()
    for c in COMMANDS:
        if c not in seen:
            seen.add(c)
            md.append(c)
    md += ["```", ""]
    text = "\n".join(md)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"rows": ROWS, "versions": info, "failed": failed, "commands": COMMANDS}, f,
                  indent=1)
    print(table())
    if failed:
        print("\nfailed: " + "; ".join(failed))
    print(f"\n(written to {os.path.join(args.out, 'results.md')})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
