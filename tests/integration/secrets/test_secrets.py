#!/usr/bin/env python3
"""The API key never appears in what the project prints, logs or saves.

    test_secrets.py --server PATH --cli PATH --gtest PATH

One fresh random key, known to no code, is used everywhere at once: the
server is started with it, the CLI and a GoogleTest binary (in "hosted" mode,
TEMPMAIL_API_KEY + TEMPMAIL_BASE_URL pointing at that server) use it, and every
path that reports something runs: successes, wrong keys, unknown mailboxes,
quota exhaustion, a timed-out wait, a failing test with artifacts kept. Then
every byte they wrote (stdout, stderr, the server's log, the artifact files,
the XML report) is searched for the key.
"""
import argparse
import json
import os
import secrets
import smtplib
import subprocess
import sys
import tempfile
import time
import unittest
from email.message import EmailMessage

ARGS = None
KEY = "tk_" + secrets.token_urlsafe(24)


class Server:
    def __init__(self, *extra, key=KEY):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [ARGS.server, "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0", "--api-key", key,
             *extra], stdout=subprocess.PIPE, stderr=self.log)
        info = json.loads(self.proc.stdout.readline())
        self.url = info["http"]
        host, port = info["smtp"].rsplit(":", 1)
        self.smtp = (host, int(port))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.log.seek(0)
        text = self.log.read()
        self.log.close()
        return text


class ToolRuns(unittest.TestCase):
    """Runs the tools and keeps every byte they wrote in self.outputs."""

    def setUp(self):
        self.outputs = []  # (where, bytes)
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def run_tool(self, what, argv, env_extra=None, stdin=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPMAIL_")}
        env.update(env_extra or {})
        p = subprocess.run(argv, capture_output=True, env=env, input=stdin, timeout=120)
        self.outputs.append((f"{what} stdout", p.stdout))
        self.outputs.append((f"{what} stderr", p.stderr))
        return p

    def send(self, server, to, subject, body):
        msg = EmailMessage()
        msg["From"] = "My App <noreply@myapp.test>"
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content(body)
        with smtplib.SMTP(*server.smtp, timeout=30) as s:
            s.send_message(msg)



class KeyNeverAppears(ToolRuns):
    def test_nothing_printed_logged_or_saved_contains_the_key(self):
        server = Server("--quota", "12")
        try:
            hosted = {"TEMPMAIL_API_KEY": KEY, "TEMPMAIL_BASE_URL": server.url}
            cli = [ARGS.cli]
            # Successes.
            box = json.loads(self.run_tool("cli create", cli + ["create"], hosted).stdout)["email"]
            self.send(server, box, "Verify your email", "Your code is 482913")
            self.run_tool("cli wait", cli + ["wait", box, "--print", "otp", "--timeout", "5s"],
                          hosted)
            self.run_tool("cli messages", cli + ["messages", box], hosted)
            # Failures: a timed-out wait, an unknown mailbox, a wrong key given on the
            # command line next to the right one in the environment, a bad option.
            self.run_tool("cli wait timeout",
                          cli + ["wait", box, "--subject", "Nothing like this", "--timeout", "1s"],
                          hosted)
            self.run_tool("cli not found", cli + ["messages", "nobody@example.com"], hosted)
            self.run_tool("cli wrong key", cli + ["--api-key", KEY + "x", "domains"],
                          {"TEMPMAIL_BASE_URL": server.url})
            self.run_tool("cli usage", cli + ["--api-key", KEY, "frobnicate"],
                          {"TEMPMAIL_BASE_URL": server.url})
            # A failing GoogleTest test in hosted mode, artifacts and mailbox kept.
            artifacts = os.path.join(self.tmp.name, "artifacts")
            xml = os.path.join(self.tmp.name, "report.xml")
            self.run_tool("gtest failing test",
                          [ARGS.gtest, "--gtest_also_run_disabled_tests",
                           "--gtest_filter=SignupTest.DISABLED_FailsOnPurpose",
                           "--gtest_output=xml:" + xml],
                          {**hosted, "TEMPMAIL_ARTIFACTS_DIR": artifacts,
                           "TEMPMAIL_KEEP_ON_FAILURE": "1",
                           "TEMPMAIL_TEST_SMTP": f"{server.smtp[0]}:{server.smtp[1]}"})
            # The quota runs out (12 calls): every tool reports 429.
            for i in range(14):
                self.run_tool(f"cli quota {i}", cli + ["domains"], hosted)
        finally:
            self.outputs.append(("server log", server.stop()))
        for root, _, files in os.walk(self.tmp.name):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    self.outputs.append((os.path.join(root, name), f.read()))

        # The runs really exercised the paths above.
        everything = b"".join(data for _, data in self.outputs)
        self.assertIn(b"482913", everything)             # the wait printed the code
        self.assertIn(b"Timed out after", everything)    # the timeout report
        self.assertIn(b"quota", everything.lower())      # the 429 message
        self.assertTrue(any(w.endswith(".json") for w, _ in self.outputs), "no artifacts written")
        leaks = [where for where, data in self.outputs if KEY.encode() in data]
        self.assertEqual(leaks, [], "the API key appears in these outputs")


class ShortKey(ToolRuns):
    """A one-letter key: nothing can be found by searching for it, so it must never enter a
    message; and no message may be garbled by replacing the letter wherever it occurs."""

    def test_messages_stay_intact_with_a_one_letter_key(self):
        server = Server("--quota", "6", key="e")
        try:
            hosted = {"TEMPMAIL_API_KEY": "e", "TEMPMAIL_BASE_URL": server.url}
            cli = [ARGS.cli]
            box = json.loads(self.run_tool("cli create", cli + ["create"], hosted).stdout)["email"]
            self.send(server, box, "Welcome", "Hello there")
            timeout = self.run_tool(
                "cli wait timeout",
                cli + ["wait", box, "--subject", "Verify", "--timeout", "1s"], hosted)
            not_found = self.run_tool("cli not found", cli + ["messages", "nobody@example.com"],
                                      hosted)
            wrong = self.run_tool("cli wrong key", cli + ["--api-key", "x", "domains"],
                                  {"TEMPMAIL_BASE_URL": server.url})
            stray = self.run_tool("cli stray key", cli + ["--api-key", "e", "delete", box, "e"],
                                  {"TEMPMAIL_BASE_URL": server.url})
            for i in range(8):
                self.run_tool(f"cli quota {i}", cli + ["domains"], hosted)
        finally:
            self.outputs.append(("server log", server.stop()))
        self.assertEqual(timeout.returncode, 4)
        self.assertIn(b'whose subject "Welcome" does not match /Verify/', timeout.stderr)
        self.assertIn(b"Timed out after", timeout.stderr)
        self.assertEqual(not_found.returncode, 6)
        self.assertIn(b"The API key was not accepted", wrong.stderr)
        self.assertIn(b"The following argument was not expected: [REDACTED]", stray.stderr)
        garbled = [where for where, data in self.outputs
                   if where != "cli stray key stderr" and b"[REDACTED]" in data]
        self.assertEqual(garbled, [], "a message was garbled by replacing the key")


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", required=True)
    parser.add_argument("--cli", required=True)
    parser.add_argument("--gtest", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
