#!/usr/bin/env python3
"""Integration tests of the `tempmail` command line against a real tempmail-server.

Usage: test_cli.py PATH/TO/tempmail PATH/TO/tempmail-server [unittest arguments, e.g. a TestCase]

Every TestCase starts its own tempmail-server on ephemeral loopback ports (reading the
JSON line it prints), runs `tempmail` as a subprocess and sends mail with smtplib to the
server's SMTP port. Every run checks the contract pipelines rely on: the API key never
appears on stdout or stderr, and a failing command writes nothing to stdout.
"""
import json
import os
import pty
import selectors
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from email.message import EmailMessage

TEMPMAIL = None  # set from argv in __main__
SERVER = None
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data")
KEY = "cli-secret-key-5f3a9c71"  # distinctive, so any leak is found
DEADLINE = 60  # seconds any single tempmail run may take

(EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_AUTH, EXIT_TIMEOUT, EXIT_QUOTA, EXIT_NOT_FOUND,
 EXIT_UNEXPECTED) = range(8)


class ServerProcess:
    """One tempmail-server on ephemeral loopback ports."""

    def __init__(self, *args):
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [SERVER, "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0", "--api-key", KEY, *args],
            stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=20):
            self.stop()
            raise AssertionError("tempmail-server printed no JSON line within 20 s")
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"tempmail-server exited ({self.proc.wait()}): {self.log()}")
        info = json.loads(line)
        self.url = info["http"]
        host, port = info["smtp"].rsplit(":", 1)
        self.smtp = (host, int(port))

    def log(self):
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.stderr.close()


def email(to, subject, text=None, html=None, sender="MyApp <noreply@myapp.test>", attachment=None):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(text or "See the HTML part.")
    if html:
        msg.add_alternative(html, subtype="html")
    if attachment:
        name, data = attachment
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg


class Result:
    def __init__(self, code, stdout, stderr):
        self.code, self.stdout, self.stderr = code, stdout, stderr

    @property
    def out(self):
        return self.stdout.decode()

    @property
    def err(self):
        return self.stderr.decode(errors="replace")

    def __repr__(self):
        return f"exit {self.code}\nstdout: {self.stdout[:2000]!r}\nstderr: {self.err[:3000]}"


class CliTestCase(unittest.TestCase):
    """A tempmail-server for the class; helpers that run tempmail and check its contract."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess(*cls.server_args)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPMAIL_")}
        env.update(TEMPMAIL_BASE_URL=self.server.url, TEMPMAIL_API_KEY=KEY)
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def check_contract(self, r):
        for stream, text in (("stdout", r.stdout), ("stderr", r.stderr)):
            self.assertNotIn(KEY.encode(), text, f"the API key appears on {stream}: {r!r}")
        if r.code != EXIT_OK:
            self.assertEqual(r.stdout, b"", f"a failing command wrote to stdout: {r!r}")
            self.assertTrue(r.err.startswith("tempmail: "), f"no message on stderr: {r!r}")

    def run_cli(self, *args, expect=EXIT_OK, stdin=None, env=None):
        proc = subprocess.run([TEMPMAIL, *args], input=stdin, capture_output=True,
                              env=env if env is not None else self.env(), timeout=DEADLINE)
        r = Result(proc.returncode, proc.stdout, proc.stderr)
        self.check_contract(r)
        self.assertEqual(r.code, expect, repr(r))
        return r

    def run_json(self, *args, **kwargs):
        """Runs a command that succeeds; its stdout must be exactly one JSON document on one line."""
        r = self.run_cli(*args, **kwargs)
        self.assertTrue(r.out.endswith("\n") and r.out.count("\n") == 1, repr(r))
        return json.loads(r.out)  # json.loads rejects anything after the document

    def start_cli(self, *args, stderr=subprocess.PIPE):
        return subprocess.Popen([TEMPMAIL, *args], stdout=subprocess.PIPE, stderr=stderr,
                                env=self.env())

    def finish(self, proc, expect=EXIT_OK):
        stdout, stderr = proc.communicate(timeout=DEADLINE)
        r = Result(proc.returncode, stdout, stderr or b"")
        self.check_contract(r)
        self.assertEqual(r.code, expect, repr(r))
        return r

    def create(self):
        return self.run_json("create")["email"]

    def send(self, msg):
        with smtplib.SMTP(*self.server.smtp, timeout=30) as smtp:
            smtp.send_message(msg)

    def send_and_list(self, box, msg, count=1):
        """Sends and waits (with tempmail wait) until the mailbox holds `count` messages."""
        self.send(msg)
        self.run_cli("wait", box, "--count", str(count), "--timeout", "30s")


class Mailboxes(CliTestCase):
    def test_domains_prints_the_data_object(self):
        doc = self.run_json("domains")
        self.assertEqual(doc, {"requested_type": "free", "allowed_types": ["free"],
                               "domains": [{"domain": "example.com", "type": "Free", "custom": False}]})

    def test_domains_of_a_type_the_plan_lacks_is_exit_3(self):
        r = self.run_cli("domains", "--type", "premium", expect=EXIT_AUTH)
        self.assertIn("403", r.err)
        self.assertIn("tempmail domains", r.err)

    def test_create_prints_the_mailbox(self):
        doc = self.run_json("create")
        self.assertEqual(list(doc), ["id", "email", "domain", "expire_at", "expires_in_seconds",
                                     "created_at", "email_token"])
        self.assertTrue(doc["email"].endswith("@example.com"))
        self.assertRegex(doc["expire_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
        self.assertEqual(doc["expires_in_seconds"], 600)

    def test_create_with_username_and_domain(self):
        doc = self.run_json("create", "--username", "chosen.name", "--domain", "example.com")
        self.assertEqual(doc["email"], "chosen.name@example.com")

    def test_create_of_a_taken_address_is_exit_1(self):
        self.run_json("create", "--username", "taken")
        r = self.run_cli("create", "--username", "taken", expect=EXIT_ERROR)
        self.assertIn("already taken", r.err)

    def test_domain_without_username_is_a_usage_error(self):
        r = self.run_cli("create", "--domain", "example.com", expect=EXIT_USAGE)
        self.assertIn("--username", r.err)

    def test_switch_moves_the_mailbox(self):
        box = self.create()
        doc = self.run_json("switch", box, "moved", "example.com")
        self.assertEqual(doc["email"], "moved@example.com")
        self.run_cli("messages", box, expect=EXIT_NOT_FOUND)
        self.assertEqual(self.run_json("messages", "moved@example.com")["messages"], [])

    def test_delete_then_delete_again_is_exit_6(self):
        box = self.create()
        self.assertEqual(self.run_json("delete", box), {"status": True, "email": box})
        r = self.run_cli("delete", box, expect=EXIT_NOT_FOUND)
        self.assertIn("tempmail create", r.err)


class Messages(CliTestCase):
    def setUp(self):
        self.box = self.create()
        self.send_and_list(self.box, email(self.box, "Report", "Attached.",
                                           attachment=("report.bin", bytes(range(256)) * 4)))
        self.message = self.run_json("messages", self.box)["messages"][0]

    def test_messages_prints_the_list_body(self):
        doc = self.run_json("messages", self.box)
        self.assertEqual(list(doc), ["status", "mailbox", "messages"])
        self.assertEqual((doc["status"], doc["mailbox"]), (True, self.box))
        m = doc["messages"][0]
        self.assertEqual((m["subject"], m["from"], m["from_email"], m["is_seen"]),
                         ("Report", "MyApp", "noreply@myapp.test", False))
        self.assertEqual(m["attachments"][0]["name"], "report.bin")

    def test_read_prints_the_message_marked_seen(self):
        doc = self.run_json("read", self.message["id"])
        self.assertEqual(doc["id"], self.message["id"])
        self.assertTrue(doc["is_seen"])
        self.assertEqual(doc["subject"], "Report")

    def test_read_of_an_unknown_id_is_exit_6(self):
        r = self.run_cli("read", "NoSuchMessageId", expect=EXIT_NOT_FOUND)
        self.assertIn("tempmail messages EMAIL", r.err)

    def test_messages_of_an_unknown_mailbox_is_exit_6(self):
        self.run_cli("messages", "nobody@example.com", expect=EXIT_NOT_FOUND)

    def test_delete_message(self):
        mid = self.message["id"]
        self.assertEqual(self.run_json("delete-message", mid), {"status": True, "id": mid})
        self.assertEqual(self.run_json("messages", self.box)["messages"], [])
        self.run_cli("delete-message", mid, expect=EXIT_NOT_FOUND)

    def test_attachment_to_a_file_prints_a_summary(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "out.bin")
            doc = self.run_json("attachment", self.message["id"], "report.bin", "-o", path)
            self.assertEqual(doc, {"status": True, "id": self.message["id"], "name": "report.bin",
                                   "file": path, "size": 1024})
            with open(path, "rb") as f:
                self.assertEqual(f.read(), bytes(range(256)) * 4)

    def test_attachment_without_output_writes_the_bytes_to_stdout(self):
        for extra in ([], ["-o", "-"]):
            with self.subTest(args=extra):
                r = self.run_cli("attachment", self.message["id"], "report.bin", *extra)
                self.assertEqual(r.stdout, bytes(range(256)) * 4)

    def test_unknown_attachment_is_exit_6_and_writes_nothing(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "out.bin")
            self.run_cli("attachment", self.message["id"], "nope.txt", "-o", path,
                         expect=EXIT_NOT_FOUND)
            self.assertFalse(os.path.exists(path))
        self.run_cli("attachment", self.message["id"], "nope.txt", expect=EXIT_NOT_FOUND)


OTP_HTML = """<html><body><p>Welcome!</p><p>Your verification code is</p>
<div style="font-size:28px;letter-spacing:4px"><b>482913</b></div>
<p><a href="https://myapp.test/verify?token=Q2hlY2tUb2tlbjEyMw">Verify my address</a></p>
<p><a href="https://myapp.test/unsubscribe?u=1">Unsubscribe</a></p></body></html>"""


class Wait(CliTestCase):
    def setUp(self):
        self.box = self.create()

    def test_wait_returns_a_message_that_arrives_while_waiting(self):
        proc = self.start_cli("wait", self.box, "--subject", "^Verify", "--timeout", "30s")
        self.send(email(self.box, "Verify your address", html=OTP_HTML))
        r = self.finish(proc)
        doc = json.loads(r.out)
        self.assertEqual(doc["subject"], "Verify your address")
        self.assertEqual(r.out.count("\n"), 1)

    def test_print_otp_link_and_id(self):
        self.send(email(self.box, "Verify your address", html=OTP_HTML))
        base = ("wait", self.box, "--subject", "Verify", "--from", r"@myapp\.test$")
        self.assertEqual(self.run_cli(*base, "--print", "otp").out, "482913\n")
        self.assertEqual(self.run_cli(*base, "--print", "link").out,
                         "https://myapp.test/verify?token=Q2hlY2tUb2tlbjEyMw\n")
        mid = self.run_json("messages", self.box)["messages"][0]["id"]
        self.assertEqual(self.run_cli(*base, "--print", "id").out, mid + "\n")

    def test_json_has_the_message_and_what_was_extracted(self):
        self.send(email(self.box, "Verify your address", html=OTP_HTML))
        doc = self.run_json("wait", self.box, "--json")
        self.assertEqual(list(doc), ["message", "otp", "otp_candidates", "verification_link", "links"])
        self.assertEqual(doc["message"]["subject"], "Verify your address")
        self.assertEqual(doc["otp"], "482913")
        self.assertEqual(doc["otp_candidates"][0]["value"], "482913")
        self.assertEqual(sorted(doc["otp_candidates"][0]), ["reason", "score", "value"])
        self.assertEqual(doc["verification_link"], "https://myapp.test/verify?token=Q2hlY2tUb2tlbjEyMw")
        self.assertIn({"url": "https://myapp.test/unsubscribe?u=1", "text": "Unsubscribe"}, doc["links"])

    def test_count_waits_for_that_many_and_prints_one_line_each(self):
        proc = self.start_cli("wait", self.box, "--subject", "^Code", "--count", "2",
                              "--print", "otp", "--timeout", "30s")
        self.send(email(self.box, "Newsletter", "Nothing to see here."))
        self.send(email(self.box, "Code one", "Your code is 111222."))
        self.send(email(self.box, "Code two", "Your code is 333444."))
        r = self.finish(proc)
        self.assertEqual(sorted(r.out.split()), ["111222", "333444"])
        self.assertEqual(r.out.count("\n"), 2)

    def test_count_without_print_is_a_json_array(self):
        self.send(email(self.box, "One", "first"))
        self.send(email(self.box, "Two", "second"))
        self.run_cli("wait", self.box, "--count", "2", "--timeout", "30s")
        doc = self.run_json("wait", self.box, "--count", "2", "--json")
        self.assertEqual(sorted(d["message"]["subject"] for d in doc), ["One", "Two"])
        self.assertIn("otp", doc[0])

    def test_body_matches_the_visible_text(self):
        self.send(email(self.box, "Hidden", html='<p>Hello</p><div style="display:none">SECRETWORD</div>'))
        self.send(email(self.box, "Shown", html="<p>the SECRETWORD is here</p>"))
        doc = self.run_json("wait", self.box, "--body", "SECRETWORD", "--timeout", "30s")
        self.assertEqual(doc["subject"], "Shown")

    def test_timeout_is_exit_4_with_the_report(self):
        self.send(email(self.box, "Weekly sale", "50% off", sender="Shop <news@shop.test>"))
        self.run_cli("wait", self.box, "--timeout", "30s")  # it has arrived
        r = self.run_cli("wait", self.box, "--subject", "Verify", "--from", r"@myapp\.test$",
                         "--timeout", "1s", expect=EXIT_TIMEOUT)
        self.assertIn("Timed out after", r.err)
        self.assertIn(r"has subject matching /Verify/ and sender matching /@myapp\.test$/", r.err)
        self.assertIn('whose subject "Weekly sale" does not match /Verify/', r.err)
        self.assertIn('whose sender "Shop <news@shop.test>" does not match', r.err)

    def test_none_passes_with_an_empty_array_when_only_other_mail_arrived(self):
        self.send(email(self.box, "Welcome", "Glad you are here."))
        r = self.run_cli("wait", self.box, "--subject", "(?i)reset", "--none", "--timeout", "1s")
        self.assertEqual(json.loads(r.out), [])

    def test_none_is_exit_7_naming_the_message_as_soon_as_it_arrives(self):
        proc = self.start_cli("wait", self.box, "--subject", "(?i)reset", "--none",
                              "--timeout", "60s")
        started = time.monotonic()
        self.send(email(self.box, "Reset your password", "Someone asked to reset it."))
        r = self.finish(proc, expect=EXIT_UNEXPECTED)
        self.assertLess(time.monotonic() - started, 30, "it watched out the whole window")
        self.assertEqual(r.out, "")
        self.assertIn("Expected no message in " + self.box +
                      " that has subject matching /(?i)reset/ within 60.0 s, but 1 matched", r.err)
        self.assertIn('subject "Reset your password"\n     (matched)', r.err)

    def test_exactly_is_exit_7_when_a_duplicate_follows(self):
        self.send(email(self.box, "Your code", "Your code is 111222."))
        self.send(email(self.box, "Your code", "Your code is 333444."))
        r = self.run_cli("wait", self.box, "--subject", "code", "--exactly", "1", "--settle", "500ms",
                         expect=EXIT_UNEXPECTED)
        self.assertIn("Expected exactly 1 message in " + self.box, r.err)
        self.assertIn("(and no more for 0.5 s after), but 2 matched", r.err)

    def test_exactly_prints_the_messages_when_no_more_arrive(self):
        self.send(email(self.box, "Your code", "Your code is 111222."))
        r = self.run_cli("wait", self.box, "--subject", "code", "--exactly", "1", "--settle", "500ms",
                         "--print", "otp")
        self.assertEqual(r.out, "111222\n")
        doc = self.run_json("wait", self.box, "--exactly", "1", "--settle", "200ms")
        self.assertEqual([m["subject"] for m in doc], ["Your code"])  # an array, like --count

    def test_exactly_two_waits_for_both_then_watches(self):
        self.send(email(self.box, "Code one", "Your code is 111222."))
        self.send(email(self.box, "Code two", "Your code is 333444."))
        r = self.run_cli("wait", self.box, "--subject", "^Code", "--exactly", "2", "--settle",
                         "300ms", "--print", "otp")
        self.assertEqual(sorted(r.out.split()), ["111222", "333444"])
        r = self.run_cli("wait", self.box, "--subject", "^Code", "--exactly", "1", "--settle",
                         "300ms", expect=EXIT_UNEXPECTED)
        self.assertIn("but 2 matched", r.err)

    def test_none_and_settle_refuse_options_they_cannot_use(self):
        for args in (["--none", "--count", "2"], ["--none", "--print", "otp"],
                     ["--none", "--exactly", "1"], ["--settle", "1s"], ["--exactly", "0"],
                     ["--exactly", "2", "--count", "2"]):
            r = self.run_cli("wait", self.box, *args, expect=EXIT_USAGE)
            self.assertTrue(r.err, args)

    def test_print_otp_without_a_code_is_exit_1_listing_candidates(self):
        self.send(email(self.box, "Two codes", html="<p>Your sign-in code is <b>318274</b>. "
                                                     "Your backup code is <b>660415</b>.</p>"))
        r = self.run_cli("wait", self.box, "--print", "otp", expect=EXIT_ERROR)
        self.assertIn("318274", r.err)
        self.assertIn("660415", r.err)
        self.assertIn("candidates", r.err)

    def test_print_link_without_a_link_is_exit_1(self):
        self.send(email(self.box, "Plain", "No links at all."))
        r = self.run_cli("wait", self.box, "--print", "link", expect=EXIT_ERROR)
        self.assertIn("no verification link", r.err)

    def test_unknown_mailbox_is_exit_6(self):
        self.run_cli("wait", "nobody@example.com", "--timeout", "5s", expect=EXIT_NOT_FOUND)

    def test_usage_errors_are_exit_2_naming_the_option(self):
        cases = [
            (["--timeout", "3x"], "--timeout"),
            (["--timeout", "-5s"], "--timeout"),
            (["--timeout", "1m30"], "--timeout"),
            (["--subject", "(unclosed"], "--subject"),
            (["--from", "[a-"], "--from"),
            (["--body", "*"], "--body"),
            (["--print", "token"], "--print"),
            (["--count", "0"], "--count"),
            (["--json", "--print", "otp"], "--json"),
            (["--no-such-option"], "--no-such-option"),
        ]
        for extra, named in cases:
            with self.subTest(args=extra):
                r = self.run_cli("wait", self.box, *extra, expect=EXIT_USAGE)
                self.assertIn(named, r.err)

    def test_body_pattern_on_a_30_kb_body_does_not_crash(self):
        # std::regex recursed once per character here and died with SIGSEGV.
        self.send(email(self.box, "Long", "code " + "x" * (30 * 1024) + " w"))
        doc = self.run_json("wait", self.box, "--body", "code.*w", "--timeout", "30s")
        self.assertEqual(doc["subject"], "Long")

    def test_backtracking_pattern_ends_at_the_timeout(self):
        # std::regex backtracked for ever on this, ignoring --timeout.
        self.send(email(self.box, "Letters", "a" * 40 + "!"))
        self.run_cli("wait", self.box, "--timeout", "30s")  # it has arrived
        r = self.run_cli("wait", self.box, "--body", "(a+)+$", "--timeout", "1s",
                         expect=EXIT_TIMEOUT)
        self.assertIn("does not match /(a+)+$/", r.err)

    def test_dollar_matches_before_the_newline_that_ends_the_text(self):
        self.send(email(self.box, "Code", "Your code is 123456"))  # the text part ends with \n
        doc = self.run_json("wait", self.box, "--body", "code is [0-9]+$", "--timeout", "30s")
        self.assertEqual(doc["subject"], "Code")

    def test_timeout_report_shows_the_text_matched_against_and_its_length(self):
        self.send(email(self.box, "Code", "Your code is 123456"))
        self.run_cli("wait", self.box, "--timeout", "30s")  # it has arrived
        r = self.run_cli("wait", self.box, "--body", r"code is [0-9]+\z", "--timeout", "1s",
                         expect=EXIT_TIMEOUT)
        self.assertIn(r'whose body "Your code is 123456\n" (20 bytes) does not match '
                      r'/code is [0-9]+\z/', r.err)

    def test_patterns_re2_cannot_compile_are_usage_errors_naming_the_flag_and_reason(self):
        cases = [
            (["--body", r"(a)\1"], "--body", r"invalid escape sequence: \1"),
            (["--subject", "(?<name>x)"], "--subject", "invalid perl operator: (?<"),
            (["--from", "a{1001}"], "--from", "invalid repetition size: {1001}"),
            (["--body", "((a{100}){100}){100}"], "--body", "RE2"),
            (["--body", b"caf\xe9"], "--body", "invalid UTF-8"),  # Latin-1, not UTF-8
        ]
        for extra, flag, reason in cases:
            with self.subTest(args=extra):
                r = self.run_cli("wait", self.box, *extra, expect=EXIT_USAGE)
                self.assertIn(flag, r.err)
                self.assertIn(reason, r.err)
                self.assertIn("re2/wiki/Syntax", r.err)

    def test_an_empty_pattern_is_a_usage_error(self):
        self.send(email(self.box, "Anything", "at all"))
        for flag in ("--subject", "--from", "--body"):
            with self.subTest(flag=flag):
                r = self.run_cli("wait", self.box, flag, "", expect=EXIT_USAGE)
                self.assertIn(f"{flag}: the pattern is empty", r.err)

    def test_durations(self):
        self.send(email(self.box, "Here", "already"))
        for text in ["30s", "2m", "500ms", "1h", "1m30s", "45", "0.5", "1.5s"]:
            with self.subTest(timeout=text):
                self.run_cli("wait", self.box, "--timeout", text, "--print", "id")

    def progress_run(self, stderr_is_terminal):
        """Runs a wait that succeeds at once; returns what it wrote to stderr."""
        self.send(email(self.box, "Here", "already"))
        if not stderr_is_terminal:
            return self.finish(self.start_cli("wait", self.box, "--timeout", "30s")).err
        master, slave = pty.openpty()
        try:
            proc = self.start_cli("wait", self.box, "--timeout", "30s", stderr=slave)
            os.close(slave)
            slave = None
            chunks = []
            while True:
                try:
                    data = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            self.finish(proc)
            return b"".join(chunks).decode()
        finally:
            os.close(master)
            if slave is not None:
                os.close(slave)

    def test_progress_line_on_a_terminal(self):
        err = self.progress_run(stderr_is_terminal=True)
        self.assertRegex(err, r"\rtempmail: waiting for \S+@example\.com: \d+\.\d s, 1 poll, 1 message seen")

    def test_no_progress_when_stderr_is_a_pipe(self):
        self.assertEqual(self.progress_run(stderr_is_terminal=False), "")


class Extract(CliTestCase):
    def test_eml_file(self):
        eml = os.path.join(DATA, "mime", "multipart_alternative_utf8.eml")
        self.assertEqual(self.run_cli("extract", eml).out, "481516\n")

    def test_html_file(self):
        html = os.path.join(DATA, "extract", "otp_signup_digits.html")
        self.assertEqual(self.run_cli("extract", html).out, "482913\n")

    def test_text_from_stdin_prints_the_link_when_there_is_no_code(self):
        with open(os.path.join(DATA, "extract", "verify_plain_text.txt"), "rb") as f:
            text = f.read()
        for args in (["extract", "-"], ["extract"]):
            with self.subTest(args=args):
                self.assertEqual(self.run_cli(*args, stdin=text).out,
                                 "https://accounts.tidewater.test/verify?token=Zm9vYmFyYmF6cXV4MTIz&user=8812\n")

    def test_json_is_exactly_the_documented_object(self):
        with open(os.path.join(DATA, "mime", "multipart_alternative_utf8.eml"), "rb") as f:
            doc = self.run_json("extract", "--json", "-", stdin=f.read())
        self.assertEqual(list(doc), ["otp", "otp_candidates", "verification_link", "links"])
        self.assertEqual(doc["otp"], "481516")
        for c in doc["otp_candidates"]:
            self.assertEqual(list(c), ["value", "score", "reason"])
            self.assertIsInstance(c["score"], int)
        for link in doc["links"]:
            self.assertEqual(list(link), ["url", "text"])

    def test_html_is_read_as_html_and_text_as_text(self):
        html = b'<p>Confirm: <a href="https://app.test/confirm?token=abcdef123456">Confirm email</a></p>'
        doc = self.run_json("extract", "--json", stdin=html)
        self.assertEqual(doc["links"], [{"url": "https://app.test/confirm?token=abcdef123456",
                                         "text": "Confirm email"}])
        text = b"Write to <help@app.test>. Your code: 7731 \n"
        doc = self.run_json("extract", "--json", stdin=text)
        self.assertEqual(doc["otp"], "7731")
        self.assertEqual(doc["links"], [])

    def test_an_eml_is_decoded_not_read_as_text(self):
        eml = (b"From: App <a@app.test>\r\nTo: x@example.com\r\nSubject: Your code\r\n"
               b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
               b"Content-Transfer-Encoding: base64\r\n\r\n"
               + __import__("base64").encodebytes(b"<p>Your verification code is <b>650021</b></p>"))
        self.assertEqual(self.run_cli("extract", stdin=eml).out, "650021\n")

    def test_nothing_found_is_exit_1(self):
        news = os.path.join(DATA, "extract", "newsletter_numbers.html")
        r = self.run_cli("extract", news, expect=EXIT_ERROR)
        self.assertIn("nothing found", r.err)
        self.assertEqual(self.run_json("extract", "--json", news)["otp"], None)

    def test_unreadable_file_is_exit_2(self):
        r = self.run_cli("extract", "/nonexistent/file.eml", expect=EXIT_USAGE)
        self.assertIn("/nonexistent/file.eml", r.err)

    def test_needs_no_api_key(self):
        html = os.path.join(DATA, "extract", "otp_signup_digits.html")
        self.run_cli("extract", html, env=self.env(TEMPMAIL_API_KEY=None, TEMPMAIL_BASE_URL=None))


class KeysAndUsage(CliTestCase):
    def test_wrong_key_is_exit_3(self):
        env = self.env(TEMPMAIL_API_KEY="wrong-key-0000")
        r = self.run_cli("domains", expect=EXIT_AUTH, env=env)
        self.assertIn("TEMPMAIL_API_KEY", r.err)
        self.assertNotIn("wrong-key-0000", r.err)

    def test_missing_key_is_exit_2_saying_what_to_set(self):
        r = self.run_cli("domains", expect=EXIT_USAGE, env=self.env(TEMPMAIL_API_KEY=None))
        self.assertIn("TEMPMAIL_API_KEY", r.err)
        self.assertIn("--api-key", r.err)

    def test_options_override_the_environment(self):
        env = self.env(TEMPMAIL_API_KEY="wrong-key-0000", TEMPMAIL_BASE_URL="http://127.0.0.1:1")
        for args in (["--api-key", KEY, "--base-url", self.server.url, "domains"],
                     ["domains", f"--api-key={KEY}", "--base-url", self.server.url]):
            with self.subTest(args=args):
                self.assertEqual(self.run_json(*args, env=env)["requested_type"], "free")

    def test_key_given_as_a_stray_argument_is_not_echoed(self):
        r = self.run_cli("--api-key", KEY, "delete", "a@example.com", KEY, expect=EXIT_USAGE)
        self.assertIn("[REDACTED]", r.err)

    def test_unreachable_server_is_exit_1_naming_the_url(self):
        r = self.run_cli("domains", expect=EXIT_ERROR, env=self.env(TEMPMAIL_BASE_URL="http://127.0.0.1:1"))
        self.assertIn("http://127.0.0.1:1", r.err)

    def test_bad_base_url_is_exit_2(self):
        self.run_cli("domains", expect=EXIT_USAGE, env=self.env(TEMPMAIL_BASE_URL="ftp://x"))

    def test_usage_errors_are_exit_2(self):
        for args in ([], ["frobnicate"], ["delete"], ["read", "a", "b"], ["domains", "--bogus"]):
            with self.subTest(args=args):
                self.run_cli(*args, expect=EXIT_USAGE)

    def test_an_empty_base_url_is_exit_2_not_the_hosted_service(self):
        r = self.run_cli("--base-url", "", "domains", expect=EXIT_USAGE)
        self.assertIn("--base-url is empty", r.err)
        r = self.run_cli("domains", expect=EXIT_USAGE, env=self.env(TEMPMAIL_BASE_URL=""))
        self.assertIn("TEMPMAIL_BASE_URL is empty", r.err)
        r = self.run_cli("--api-key", "", "domains", expect=EXIT_USAGE)
        self.assertIn("--api-key is empty", r.err)

    def test_an_unknown_subcommand_is_named_with_the_subcommands(self):
        for args in (["foo"], ["--base-url", self.server.url, "foo", "extra"]):
            with self.subTest(args=args):
                r = self.run_cli(*args, expect=EXIT_USAGE)
                self.assertIn("unknown subcommand 'foo'", r.err)
                self.assertIn("domains, create", r.err)
                self.assertIn("wait, extract", r.err)

    def test_https_to_a_plain_http_server_says_to_use_http(self):
        url = self.server.url.replace("http://", "https://")
        r = self.run_cli("--base-url", url, "domains", expect=EXIT_ERROR)
        self.assertIn("answered in plain HTTP", r.err)
        self.assertIn("use http://", r.err)
        self.assertNotIn("certificate", r.err)

    def test_a_short_key_does_not_garble_messages(self):
        r = self.run_cli("--api-key", "e", "domains", expect=EXIT_AUTH)
        self.assertNotIn("[REDACTED]", r.err)
        self.assertIn("The API key was not accepted: check TEMPMAIL_API_KEY", r.err)
        r = self.run_cli("--api-key", "e", "frobnicate", expect=EXIT_USAGE)
        self.assertIn("unknown subcommand 'frobnicate'", r.err)

    def test_output_that_cannot_be_written_is_exit_1(self):
        # A closed or full stdout must not pass for an empty success in a pipeline.
        with open("/dev/full", "wb") as full:
            for name, kwargs in (("full", {"stdout": full}),
                                 ("closed", {"stdout": None, "preexec_fn": lambda: os.close(1)})):
                with self.subTest(stdout=name):
                    p = subprocess.run([TEMPMAIL, "domains"], stderr=subprocess.PIPE,
                                       env=self.env(), timeout=DEADLINE, **kwargs)
                    self.assertEqual(p.returncode, EXIT_ERROR, p.stderr)
                    self.assertIn(b"could not write the output to stdout", p.stderr)

    def test_empty_arguments_are_usage_errors(self):
        for args in (["delete", ""], ["messages", ""], ["read", ""], ["wait", ""],
                     ["delete-message", ""], ["attachment", "id", ""], ["attachment", "", "n"],
                     ["attachment", "id", "n", "-o", ""], ["switch", "a@example.com", "", "x"],
                     ["create", "--username", ""], ["domains", "--type", ""]):
            with self.subTest(args=args):
                r = self.run_cli(*args, expect=EXIT_USAGE)
                self.assertIn("the value is empty", r.err)

    def test_help_and_version(self):
        r = self.run_cli("--help")
        for word in ["wait", "extract", "attachment", "--api-key", "Exit codes"]:
            self.assertIn(word, r.out)
        self.assertIn("--print", self.run_cli("wait", "--help").out)
        self.assertRegex(self.run_cli("--version").out, r"^tempmail \d+\.\d+\.\d+\n$")


def connected_to(port):
    """Whether some socket on this host has an established connection to 127.0.0.1:port."""
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return any(row[2] == "0100007F:%04X" % port and row[3] == "01" for row in rows)


class ServerGoesAway(CliTestCase):
    def test_a_server_that_dies_during_wait_is_reported_as_gone_exit_1(self):
        box = self.create()
        proc = self.start_cli("wait", box, "--subject", "Verify", "--timeout", "5s")
        # The wait is under way once it holds a connection to the server.
        port = int(self.server.url.rsplit(":", 1)[1])
        deadline = time.monotonic() + 30
        while not connected_to(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(connected_to(port), "the wait never connected")
        self.server.proc.kill()
        self.server.proc.wait()
        r = self.finish(proc, expect=EXIT_ERROR)
        self.assertIn("The server stopped answering while waiting for a message in " + box, r.err)
        self.assertNotIn("No message arrived", r.err)

    def test_a_server_that_never_answers_cannot_stretch_the_timeout(self):
        # Accepts connections and says nothing: the wait still ends at --timeout
        # (plus the grace for the last answer), not after the 30 s request timeout.
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(16)
            url = "http://127.0.0.1:%d" % silent.getsockname()[1]
            proc = subprocess.run([TEMPMAIL, "wait", "box@example.com", "--timeout", "1s"],
                                  capture_output=True, env=self.env(TEMPMAIL_BASE_URL=url),
                                  timeout=20)
        r = Result(proc.returncode, proc.stdout, proc.stderr)
        self.check_contract(r)
        self.assertEqual(r.code, EXIT_ERROR, repr(r))
        self.assertIn("The server stopped answering", r.err)


class Quota(CliTestCase):
    server_args = ("--quota", "3")

    def test_exhausted_quota_is_exit_5_saying_when_it_resets(self):
        box = self.create()                     # 1
        self.run_json("messages", box)          # 2
        self.run_json("domains")                # 3
        # (A wait on the local server long-polls /_local/wait, which the quota does not count.)
        for args in (["domains"], ["messages", box]):
            with self.subTest(args=args):
                r = self.run_cli(*args, expect=EXIT_QUOTA)
                self.assertIn("429", r.err)
                self.assertRegex(r.err, r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")  # when it resets


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: test_cli.py PATH/TO/tempmail PATH/TO/tempmail-server [unittest args]")
    TEMPMAIL, SERVER = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], *sys.argv[3:]], verbosity=2)
