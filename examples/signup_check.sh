#!/usr/bin/env bash
# The signup flow checked from a shell, the way a CI job could do it without
# writing C++: start the local Temp Mail server and the application under test
# ("My App", signup-app), sign up with a fresh mailbox, wait for the email,
# follow its verification link, and check that the account is verified.
# README.md's "Shell recipe" is this script without the error handling.
#
# Needs tempmail-server, tempmail and signup-app on PATH (ctest sets it), curl
# and python3 (to read JSON).
set -euo pipefail

logs=$(mktemp -d)
pids=()
cleanup() {
  if ((${#pids[@]})); then kill "${pids[@]}" 2>/dev/null || true; fi
  rm -rf "$logs"
}
on_error() {
  echo "signup_check: failed at line $1; the logs of the server and the app:" >&2
  cat "$logs"/*.log >&2 || true
}
trap cleanup EXIT
trap 'on_error $LINENO' ERR

# json FIELD: prints FIELD of the JSON object on stdin (a string as is, else as JSON).
json() {
  python3 -c 'import json, sys; v = json.load(sys.stdin)[sys.argv[1]]
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# 1. The local Temp Mail server and the app under test, on free ports. Each
#    prints one line of JSON once it listens; `read` waits for it (10 s at most).
exec 3< <(exec tempmail-server --http 127.0.0.1:0 --smtp 127.0.0.1:0 2>"$logs/server.log")
pids+=($!)
read -r -t 10 server <&3
exec 4< <(exec signup-app --listen 127.0.0.1:0 --smtp "$(json smtp <<<"$server")" 2>"$logs/app.log")
pids+=($!)
read -r -t 10 app <&4
TEMPMAIL_BASE_URL=$(json http <<<"$server")
export TEMPMAIL_BASE_URL TEMPMAIL_API_KEY=local-dev-key  # what the tempmail CLI uses
APP=$(json url <<<"$app")

# 2. A fresh mailbox, and a signup with it.
EMAIL=$(tempmail create | json email)
echo "mailbox:  $EMAIL"
curl -fsS --data-urlencode "email=$EMAIL" "$APP/signup" >/dev/null

# 3. Wait for the email and print only its verification link.
LINK=$(tempmail wait "$EMAIL" --from 'myapp\.test' --subject '^Verify your email' \
                              --timeout 30s --print link)
echo "link:     $LINK"

# 4. Follow it, as the user would, and ask the app about the account.
curl -fsS "$LINK" >/dev/null
verified=$(curl -fsS "$APP/account?email=$EMAIL" | json verified)
echo "verified: $verified"
tempmail delete "$EMAIL" >/dev/null
if [[ $verified != true ]]; then
  echo "signup_check: the app says $EMAIL is not verified after following $LINK" >&2
  exit 1
fi
