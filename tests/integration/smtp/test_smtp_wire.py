#!/usr/bin/env python3
"""The SMTP wire protocol of the real tempmail-server, byte for byte, over loopback.

Usage: test_smtp_wire.py PATH/TO/tempmail-server [unittest arguments]

Raw-socket clients send exactly the bytes a careless or hostile sender would
(bare LF and bare CR around the final dot, pipelined commands), smtplib logs in
with made-up credentials, and the HTTP API shows what was stored, in which mailbox. Nothing leaves loopback.
"""
import os
import smtplib
import socket
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
import server_test  # noqa: E402  (ServerProcess, ServerTestCase)

WAIT = 10  # seconds: generous upper bound for anything that should happen now


class RawSmtp:
    """A loopback SMTP client that sends raw bytes and reads whole replies."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=WAIT)
        self.buffer = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """One complete reply (every line of a multi-line one) as text."""
        text = b""
        while True:
            while b"\n" not in self.buffer:
                chunk = self.sock.recv(4096)
                if not chunk:
                    return (text + self.buffer).decode() + "<closed>"
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\n", 1)
            text += line + b"\n"
            if len(line) < 4 or line[3:4] != b"-":
                return text.decode()

    def command(self, line):
        self.send(line + b"\r\n")
        return self.reply()


# Between a first message and a second, spoofed one: each must not end DATA.
NOT_AN_END = {
    "lf_dot_lf": b"\n.\n",
    "crlf_dot_lf": b"\r\n.\n",
    "lf_dot_crlf": b"\n.\r\n",
    "lf_dot_cr": b"\n.\r",
    "cr_dot_cr": b"\r.\r",
    "crlf_dot_cr": b"\r\n.\r",
    "cr_dot_crlf": b"\r.\r\n",
    "cr_dot_lf": b"\r.\n",
}


class SmtpWire(server_test.ServerTestCase):
    def client(self):
        c = RawSmtp(self.server.smtp_host, self.server.smtp_port)
        self.addCleanup(c.close)
        self.assertTrue(c.reply().startswith("220 "))
        self.assertIn("250 ", c.command(b"EHLO client.test"))
        return c

    def messages(self, box):
        r = self.api("GET", f"/api/messages?email={box}")
        self.assertEqual(r.status_code, 200, r.text)
        return r.json()["messages"]

    def test_only_crlf_dot_crlf_ends_data_so_no_second_message_is_smuggled(self):
        for name, separator in NOT_AN_END.items():
            with self.subTest(separator=name):
                box, victim = self.create(), self.create()
                c = self.client()
                self.assertTrue(c.command(b"MAIL FROM:<a@example.org>").startswith("250 "))
                self.assertTrue(c.command(f"RCPT TO:<{box}>".encode()).startswith("250 "))
                self.assertTrue(c.command(b"DATA").startswith("354 "))
                c.send(b"Subject: first\r\n\r\nfirst body" + separator +
                       b"MAIL FROM:<admin@example.com>\r\n" +
                       f"RCPT TO:<{victim}>\r\n".encode() +
                       b"DATA\r\nSubject: smuggled\r\n\r\nsecond body\r\n.\r\n")
                self.assertTrue(c.reply().startswith("250 2.0.0"))
                self.assertTrue(c.command(b"QUIT").startswith("221 "), "a reply was left over")
                [stored] = self.messages(box)
                self.assertEqual(stored["subject"], "first")
                self.assertIn("first body", stored["content"])
                self.assertIn("second body", stored["content"])  # nothing of it was cut off
                self.assertEqual(self.messages(victim), [])

    def test_a_bare_lf_message_keeps_its_lines_and_ends_at_crlf_dot_crlf(self):
        box = self.create()
        c = self.client()
        c.command(b"MAIL FROM:<a@example.org>")
        c.command(f"RCPT TO:<{box}>".encode())
        c.command(b"DATA")
        c.send(b"Subject: lf lines\n\nline one\nline two\n\r\n.\r\n")
        self.assertTrue(c.reply().startswith("250 2.0.0"))
        [stored] = self.messages(box)
        self.assertEqual(stored["subject"], "lf lines")
        self.assertIn("line one\nline two", stored["content"].replace("\r\n", "\n"))

    def test_a_bare_cr_cannot_split_a_pipelined_command(self):
        box, victim = self.create(), self.create()
        c = self.client()
        c.send(b"MAIL FROM:<a@example.org>\r\n" +
               f"RCPT TO:<{box}>\rRCPT TO:<{victim}>\r\n".encode() +
               f"RCPT TO:<{box}>\r\nDATA\r\n".encode())
        self.assertTrue(c.reply().startswith("250 2.1.0"))
        self.assertTrue(c.reply().startswith("501 "))  # one line, one (syntax) error
        self.assertTrue(c.reply().startswith("250 2.1.5"))
        self.assertTrue(c.reply().startswith("354 "))
        c.send(b"Subject: one\r\n\r\nbody\r\n.\r\n")
        self.assertTrue(c.reply().startswith("250 2.0.0"))
        self.assertTrue(c.command(b"QUIT").startswith("221 "))
        self.assertEqual(len(self.messages(box)), 1)
        self.assertEqual(self.messages(victim), [])


class SmtpAuth(server_test.ServerTestCase):
    """AUTH as applications configured for a real relay send it: any credentials."""

    def test_smtplib_login_then_send_is_listed(self):
        box = self.create()
        with smtplib.SMTP(self.server.smtp_host, self.server.smtp_port, timeout=WAIT) as smtp:
            smtp.ehlo()
            self.assertIn("PLAIN", smtp.esmtp_features.get("auth", "").upper())
            code, _ = smtp.login("app-user", "any password at all")
            self.assertEqual(code, 235)
            smtp.sendmail("app@example.org", [box], b"Subject: after login\r\n\r\nhello\r\n")
        r = self.api("GET", f"/api/messages?email={box}")
        [stored] = r.json()["messages"]
        self.assertEqual(stored["subject"], "after login")
        self.assertNotIn("any password at all", self.server.log())

    def test_a_client_that_does_not_authenticate_is_unaffected(self):
        box = self.create()
        with smtplib.SMTP(self.server.smtp_host, self.server.smtp_port, timeout=WAIT) as smtp:
            smtp.sendmail("app@example.org", [box], b"Subject: no login\r\n\r\nhello\r\n")
        self.assertEqual(len(self.api("GET", f"/api/messages?email={box}").json()["messages"]), 1)


if __name__ == "__main__":
    server_test.SERVER = sys.argv.pop(1)
    unittest.main()
