"""Python smtplib as a real SMTP client for smtp_server_test (loopback only).

    smtp_client.py send --port P --sender A --to B [--to C ...] --subject S --body T
                        [--user U --password W [--mechanism PLAIN|LOGIN]]
    smtp_client.py concurrent --port P --to B --threads 20 --messages 10

Prints one JSON object on stdout; exits 1 with a message on stderr when the
session itself fails.
"""

import argparse
import json
import smtplib
import sys
import threading
from email.message import EmailMessage


def build(sender, to, subject, body):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg.set_content(body)
    return msg


def send(args):
    msg = build(args.sender, args.to, args.subject, args.body)
    with smtplib.SMTP("127.0.0.1", args.port, timeout=30) as smtp:
        login = None
        if args.user is not None:
            if args.mechanism:  # one mechanism, as an application configured for it does
                smtp.ehlo()
                smtp.user, smtp.password = args.user, args.password
                login = smtp.auth(args.mechanism, getattr(smtp, "auth_" + args.mechanism.lower()))
            else:  # what smtplib picks from the EHLO reply
                login = smtp.login(args.user, args.password)
            login = [login[0], login[1].decode()]
        try:
            refused = smtp.send_message(msg, from_addr=args.sender, to_addrs=args.to)
            result = {"refused": {k: [v[0], v[1].decode()] for k, v in refused.items()},
                      "login": login}
        except smtplib.SMTPRecipientsRefused as e:
            result = {"all_refused": {k: [v[0], v[1].decode()] for k, v in e.recipients.items()}}
        except smtplib.SMTPResponseException as e:
            result = {"error": [e.smtp_code, e.smtp_error.decode(errors="replace")]}
    print(json.dumps(result))


def concurrent(args):
    errors = []
    sent = [0]
    lock = threading.Lock()

    def worker(thread):
        try:
            with smtplib.SMTP("127.0.0.1", args.port, timeout=60) as smtp:
                for i in range(args.messages):
                    msg = build("load@client.test", [args.to], f"t{thread}-m{i}", f"body {i}\n")
                    smtp.send_message(msg)
                    with lock:
                        sent[0] += 1
        except Exception as e:  # reported, not raised: the test asserts on it
            with lock:
                errors.append(f"thread {thread}: {e!r}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"sent": sent[0], "errors": errors}))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("send")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--sender", required=True)
    p.add_argument("--to", action="append", required=True)
    p.add_argument("--subject", default="test")
    p.add_argument("--body", default="hello\n")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--mechanism")
    p = sub.add_parser("concurrent")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--to", required=True)
    p.add_argument("--threads", type=int, default=20)
    p.add_argument("--messages", type=int, default=10)
    args = parser.parse_args()
    try:
        {"send": send, "concurrent": concurrent}[args.command](args)
    except (OSError, smtplib.SMTPException) as e:
        print(f"smtp_client: {e!r}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
