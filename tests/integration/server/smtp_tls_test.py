#!/usr/bin/env python3
"""SMTP the way real applications send: STARTTLS, implicit TLS and AUTH against the real
tempmail-server, with real clients (Python smtplib, swaks, curl, openssl s_client). The
server makes its own throwaway CA unless a test brings a certificate; every client verifies it.

Usage: smtp_tls_test.py PATH/TO/tempmail-server [unittest arguments, e.g. a TestCase name]
"""
import base64
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import unittest

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import server_test  # noqa: E402  (ServerProcess)

KEY = {"Authorization": "Bearer local-dev-key"}
RAW = b"From: app@myapp.test\r\nSubject: Verify your email\r\n\r\nYour code is 123456\r\n"


class SmtpTlsCase(unittest.TestCase):
    args = ("--smtp-tls", "--smtps", "127.0.0.1:0")

    def setUp(self):
        self.server = server_test.ServerProcess(*self.args)
        self.addCleanup(self.server.stop)
        self.host, self.port = self.server.smtp_host, self.server.smtp_port
        self.ca = self.server.info.get("ca")
        if "smtps" in self.server.info:
            self.smtps_port = int(self.server.info["smtps"].rsplit(":", 1)[1])

    def context(self):
        return ssl.create_default_context(cafile=self.ca)

    def create(self):
        return requests.post(self.server.url + "/api/emails", headers=KEY, timeout=30).json()["data"]["email"]

    def only_message(self, box):
        [m] = requests.get(self.server.url + f"/api/messages?email={box}", headers=KEY,
                           timeout=30).json()["messages"]
        return m

    def envelope(self, box):
        m = self.only_message(box)
        return requests.get(self.server.url + f"/_local/messages/{m['id']}/envelope", headers=KEY,
                            timeout=30).json()["data"]


class Starttls(SmtpTlsCase):
    def test_the_start_up_line_names_the_smtps_listener_and_a_private_ca_file(self):
        self.assertRegex(self.server.info["smtps"], r"^127\.0\.0\.1:\d+$")
        self.assertTrue(os.path.isfile(self.ca))
        self.assertEqual(os.stat(self.ca).st_mode & 0o777, 0o600)
        with open(self.ca) as f:
            self.assertIn("BEGIN CERTIFICATE", f.read())

    def test_smtplib_starttls_verifies_the_certificate_and_the_envelope_says_tls(self):
        box = self.create()
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            smtp.ehlo("app.myapp.test")
            self.assertTrue(smtp.has_extn("starttls"))
            smtp.starttls(context=self.context())
            smtp.ehlo("app.myapp.test")  # RFC 3207 4.2: EHLO again
            smtp.login("app", "whatever")
            smtp.sendmail("app@myapp.test", [box], RAW)
        e = self.envelope(box)
        self.assertIn(e["tls"]["version"], ("TLSv1.2", "TLSv1.3"))
        self.assertTrue(e["tls"]["cipher"])
        self.assertEqual(e["auth_user"], "app")
        self.assertEqual(e["helo"], "app.myapp.test")

    def test_a_client_that_trusts_only_the_system_cas_refuses_the_certificate(self):
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            with self.assertRaises(ssl.SSLCertVerificationError):
                smtp.starttls(context=ssl.create_default_context())

    def test_plain_mail_still_works_when_starttls_is_offered(self):
        box = self.create()
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            smtp.sendmail("app@myapp.test", [box], RAW)
        self.assertIsNone(self.envelope(box)["tls"])

    def test_commands_pipelined_after_starttls_in_clear_are_discarded(self):
        # RFC 3207 5 (the plaintext injection attack): MAIL FROM sent in the same packet as
        # STARTTLS must not count once TLS is up.
        box = self.create()
        with socket.create_connection((self.host, self.port), timeout=30) as raw:
            reader = raw.makefile("rb")
            self.assertTrue(reader.readline().startswith(b"220"))
            raw.sendall(b"EHLO x\r\nSTARTTLS\r\nMAIL FROM:<evil@attacker.test>\r\n")
            line = reader.readline()
            while line.startswith(b"250-"):
                line = reader.readline()
            self.assertTrue(line.startswith(b"250 "), line)
            self.assertTrue(reader.readline().startswith(b"220"))
            tls = self.context().wrap_socket(raw, server_hostname="127.0.0.1")
            out = tls.makefile("rb")
            tls.sendall(b"EHLO y\r\n")
            line = out.readline()
            while line.startswith(b"250-"):
                line = out.readline()
            tls.sendall(f"RCPT TO:<{box}>\r\n".encode())
            self.assertTrue(out.readline().startswith(b"503"))  # no MAIL FROM in this session
            tls.close()

    def test_swaks_with_starttls_and_auth_verifies_and_delivers(self):
        box = self.create()
        p = subprocess.run(["swaks", "--to", box, "--from", "app@myapp.test", "--server", self.host,
                            "--port", str(self.port), "--tls", "--tls-verify", "--tls-ca-path", self.ca,
                            "--auth", "PLAIN", "--auth-user", "swaks-user", "--auth-password", "pw",
                            "--header", "Subject: from swaks"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        e = self.envelope(box)
        self.assertIsNotNone(e["tls"])
        self.assertEqual(e["auth_user"], "swaks-user")

    def test_curl_with_ssl_reqd_sends_over_starttls(self):
        box = self.create()
        with tempfile.NamedTemporaryFile("wb", suffix=".eml") as f:
            f.write(RAW)
            f.flush()
            p = subprocess.run(["curl", "--silent", "--show-error", "--ssl-reqd", "--cacert", self.ca,
                                "--url", f"smtp://127.0.0.1:{self.port}", "--mail-from", "app@myapp.test",
                                "--mail-rcpt", box, "--upload-file", f.name, "--user", "curl:pw"],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        e = self.envelope(box)
        self.assertIsNotNone(e["tls"])
        self.assertEqual(e["auth_user"], "curl")

    def test_openssl_s_client_starttls_verifies_against_the_ca(self):
        p = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                            f"127.0.0.1:{self.port}", "-CAfile", self.ca, "-verify_return_error",
                            "-verify_ip", "127.0.0.1", "-brief"],
                           input="QUIT\r\n", capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Verification: OK", p.stderr)


class ImplicitTls(SmtpTlsCase):
    def test_smtp_ssl_delivers_over_implicit_tls(self):
        box = self.create()
        with smtplib.SMTP_SSL(self.host, self.smtps_port, context=self.context(), timeout=30) as smtp:
            self.assertFalse(smtp.has_extn("starttls"))
            smtp.login("app", "x")
            smtp.sendmail("app@myapp.test", [box], RAW)
        e = self.envelope(box)
        self.assertIsNotNone(e["tls"])
        self.assertEqual(e["auth_user"], "app")

    def test_swaks_tls_on_connect(self):
        box = self.create()
        p = subprocess.run(["swaks", "--to", box, "--server", self.host, "--port", str(self.smtps_port),
                            "--tlsc", "--tls-verify", "--tls-ca-path", self.ca],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIsNotNone(self.envelope(box)["tls"])

    def test_curl_smtps(self):
        box = self.create()
        with tempfile.NamedTemporaryFile("wb", suffix=".eml") as f:
            f.write(RAW)
            f.flush()
            p = subprocess.run(["curl", "--silent", "--show-error", "--cacert", self.ca,
                                "--url", f"smtps://127.0.0.1:{self.smtps_port}", "--mail-from",
                                "app@myapp.test", "--mail-rcpt", box, "--upload-file", f.name],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIsNotNone(self.envelope(box)["tls"])

    def test_a_plaintext_client_on_the_tls_port_is_closed_and_the_server_goes_on(self):
        with socket.create_connection((self.host, self.smtps_port), timeout=30) as raw:
            raw.sendall(b"EHLO plain\r\n")
            raw.settimeout(30)
            self.assertNotIn(b"250", raw.recv(4096) or b"")
        box = self.create()
        with smtplib.SMTP_SSL(self.host, self.smtps_port, context=self.context(), timeout=30) as smtp:
            smtp.sendmail("a@b.test", [box], RAW)


class RequireTls(SmtpTlsCase):
    args = ("--smtp-require-tls",)

    def test_mail_in_clear_is_refused_until_starttls(self):
        box = self.create()
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            smtp.ehlo()
            code, text = smtp.mail("app@myapp.test")
            self.assertEqual(code, 530)
            self.assertIn(b"5.7.0 Must issue a STARTTLS command first", text)
            smtp.rset()
            smtp.starttls(context=self.context())
            smtp.sendmail("app@myapp.test", [box], RAW)
        self.assertIsNotNone(self.envelope(box)["tls"])


class ConfiguredUsers(SmtpTlsCase):
    args = ("--smtp-tls", "--smtp-user", "app:s3cret-pass")

    def test_only_the_configured_pair_passes_and_a_session_may_try_again(self):
        box = self.create()
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            smtp.starttls(context=self.context())
            smtp.ehlo()
            self.assertIn("CRAM-MD5", smtp.esmtp_features["auth"])
            with self.assertRaises(smtplib.SMTPAuthenticationError) as wrong:
                smtp.login("app", "wrong")
            self.assertEqual(wrong.exception.smtp_code, 535)
            self.assertIn(b"5.7.8", wrong.exception.smtp_error)
            smtp.login("app", "s3cret-pass")  # CRAM-MD5, smtplib's first choice
            smtp.sendmail("app@myapp.test", [box], RAW)
        self.assertEqual(self.envelope(box)["auth_user"], "app")
        self.assertNotIn("s3cret-pass", self.server.log())

    def test_mail_before_auth_is_refused(self):
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            smtp.ehlo()
            code, text = smtp.mail("app@myapp.test")
            self.assertEqual(code, 530)
            self.assertIn(b"5.7.0", text)

    def test_plain_auth_with_the_pair_over_a_raw_socket(self):
        with socket.create_connection((self.host, self.port), timeout=30) as raw:
            r = raw.makefile("rb")
            r.readline()
            token = base64.b64encode(b"\0app\0s3cret-pass").decode()
            raw.sendall(f"EHLO x\r\nAUTH PLAIN {token}\r\n".encode())
            line = r.readline()
            while line.startswith(b"250-"):
                line = r.readline()
            self.assertTrue(r.readline().startswith(b"235"))


class BadOptions(unittest.TestCase):
    def run_server(self, *args):
        return subprocess.run([server_test.SERVER, "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0", *args],
                              capture_output=True, text=True, timeout=30)

    def test_a_user_without_a_password_and_a_lone_key_are_refused(self):
        p = self.run_server("--smtp-user", "nopassword")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("smtp_users", p.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".pem") as f:
            p = self.run_server("--smtp-key", f.name)
            self.assertEqual(p.returncode, 2, p.stderr)

    def test_a_certificate_that_is_not_one_is_named(self):
        with tempfile.NamedTemporaryFile("w", suffix=".pem") as f:
            f.write("not a certificate")
            f.flush()
            p = self.run_server("--smtp-tls", "--smtp-cert", f.name, "--smtp-key", f.name)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(f.name, p.stderr)
            self.assertEqual(p.stdout, "")


if __name__ == "__main__":
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit("usage: smtp_tls_test.py PATH/TO/tempmail-server [unittest args]")
    server_test.SERVER = sys.argv.pop(1)
    unittest.main(verbosity=2)
