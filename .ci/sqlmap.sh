#!/usr/bin/env bash
# SQL injection scan with Debian's sqlmap (issue 5 item 7; I3, V3/V4).
#
# Builds parleyd, starts it on loopback with a throwaway data directory,
# makes an administrator, an auditor and two users through the API, then
# runs sqlmap in batch mode against every REST operation of the server's own
# OpenAPI document that takes parameters (path, query, JSON body), each
# string or integer input marked as an injection point. Fails if sqlmap
# reports an injectable parameter. Not part of .ci/run: it takes longer than
# the attack suite (docs/security-testing.md records a run).
#
#   .ci/sqlmap.sh                  # level 3, risk 3
#   SQLMAP_LEVEL=5 SQLMAP_RISK=3 SQLMAP_WALL=3600 .ci/sqlmap.sh
#
# Environment: SQLMAP_LEVEL (3), SQLMAP_RISK (3), SQLMAP_WALL (total seconds
# of scanning before remaining operations are skipped and the run fails,
# 1800), SQLMAP_PER_OP (seconds per operation, 240), SQLMAP_THREADS (4),
# SQLMAP_KEEP=1 keeps the work directory (logs of every sqlmap run),
# SQLMAP_ONLY=REGEX scans only the operations whose "METHOD /path" matches,
# SQLMAP_EXTRA="…" adds sqlmap options (e.g. "-v 3" to see the payloads).
#
# Loopback only: parleyd listens on 127.0.0.1 and sqlmap is pointed at it;
# nothing else is contacted (apt-get aside, if sqlmap is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

level=${SQLMAP_LEVEL:-3}
risk=${SQLMAP_RISK:-3}
wall=${SQLMAP_WALL:-1800}
per_op=${SQLMAP_PER_OP:-240}
threads=${SQLMAP_THREADS:-4}

if ! command -v sqlmap >/dev/null; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlmap
fi
python=/usr/bin/python3
[ -x "$python" ] || python=python3

work=$(mktemp -d /tmp/parley-sqlmap.XXXXXX)
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	if [ "${SQLMAP_KEEP:-}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "== build parleyd"
GOTOOLCHAIN=auto GOFLAGS="${GOFLAGS:-} -mod=mod" go build -o "$work/parleyd" ./cmd/parleyd

port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "== start parleyd on 127.0.0.1:$port"
# Loopback is a trusted proxy, so sqlmap's xforwardedfor tamper gives each
# request its own client address: the login rate limit (I1) would otherwise
# answer 429 to almost every payload aimed at the public operations.
"$work/parleyd" serve --data "$work/data" --listen "127.0.0.1:$port" --trusted-proxies 127.0.0.1/32 \
	--log-level warn 2>"$work/parleyd.log" &
pid=$!
for _ in $(seq 1 100); do
	if curl -fsS --cacert "$work/data/tls/cert.pem" "https://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
	sleep 0.2
done
curl -fsS --cacert "$work/data/tls/cert.pem" "https://127.0.0.1:$port/readyz" >/dev/null

cat >"$work/drive.py" <<'PY'
import base64, hashlib, hmac, json, os, re, shlex, ssl, struct, subprocess, sys, time, urllib.error, urllib.request

base, ca, token_file, work = sys.argv[1:5]
level, risk, wall, per_op, threads = sys.argv[5], sys.argv[6], int(sys.argv[7]), int(sys.argv[8]), sys.argv[9]
only = os.environ.get("SQLMAP_ONLY", "")
PW = "Correct-Horse-9-Battery"
ctx = ssl.create_default_context(cafile=ca)

def api(method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")

def must(status_body, what):
    st, b = status_body
    if st >= 300:
        sys.exit(f"{what}: {st} {b}")
    return b

last_step = {}
def totp(secret):
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    while True:
        step = int(time.time() // 30)
        use = max(step, last_step.get(secret, -1) + 1)
        if use <= step + 1:
            break
        time.sleep((step + 1) * 30 - time.time() + 0.2)
    last_step[secret] = use
    h = hmac.new(key, struct.pack(">Q", use), hashlib.sha1).digest()
    o = h[-1] & 15
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)

secrets = {}
def login(user):
    for _ in range(3):  # the scan may have drained this address's login bucket
        st, b = api("POST", "/api/v1/auth/login", {"username": user, "password": PW})
        if st != 429:
            break
        time.sleep(61)
    b = must((st, b), "login " + user)
    if b.get("mfa_required"):
        b = must(api("POST", "/api/v1/auth/mfa", {"mfa_token": b["mfa_token"], "method": "totp", "code": totp(secrets[user])}), "mfa " + user)
    return b["token"]

def enrol(user):
    tok = login(user)
    secrets[user] = must(api("POST", "/api/v1/auth/totp/enroll", {}, tok), "enroll")["secret"]
    return must(api("POST", "/api/v1/auth/totp/confirm", {"code": totp(secrets[user])}, tok), "confirm")["token"]

setup_token = open(token_file).read().strip()
must(api("POST", "/api/v1/setup", {"setup_token": setup_token, "username": "admin", "password": PW, "display_name": "Admin"}), "setup")
admin = enrol("admin")
ids = {}
ids["bob"] = must(api("POST", "/api/v1/users", {"username": "bob", "display_name": "Bob", "password": PW}, admin), "bob")["user_id"]
must(api("POST", "/api/v1/users", {"username": "alice", "display_name": "Alice", "password": PW}, admin), "alice")
must(api("POST", "/api/v1/users", {"username": "audrey", "display_name": "Audrey", "password": PW, "roles": ["auditor"]}, admin), "auditor")
enrol("audrey")
ids["dept"] = must(api("POST", "/api/v1/departments", {"name": "Engineering"}, admin), "dept")["department_id"]
alice = login("alice")
ids["conv"] = must(api("POST", "/api/v1/conversations", {"type": "group", "member_ids": [ids["bob"]], "title": "scan"}, alice), "conv")["conversation_id"]
must(api("POST", "/api/v1/conversations/" + ids["conv"] + "/messages", {"client_msg_id": "seed", "body": "hello"}, alice), "send")

doc = must(api("GET", "/api/v1/openapi.json"), "openapi")
schemas = doc["components"]["schemas"]
user_perms = {"self", "conversations.create", "conversations.read", "messages.send", "messages.read", "directory.read"}
callers = {"public": None, "users.create": "admin", "departments.manage": "admin", "audit.read": "audrey"}
for p in user_perms:
    callers[p] = "alice"
# Sensitive permissions (A6) answer step_up_required before reading any
# input for 5 minutes after a step-up; a scan lasts longer. Their inputs are
# covered in-process by securitytest's sweeps, which step up first.
sensitive = {"self.credentials", "security.policy", "users.unlock"}

def marked(name, s):
    if "$ref" in s:
        s = schemas[s["$ref"].split("/")[-1]]
    t = s.get("type")
    if t == "object" and "properties" in s:
        return {k: marked(k, v) for k, v in s["properties"].items()}
    if t == "string":
        real = {"type": "group", "method": "totp", "channel": "email", "password": PW, "username": "scanner"}.get(name, "x")
        return real + "*"
    if t == "integer":
        return 0  # JSON numbers cannot carry a marker; integers go in query strings
    if t == "array":
        it = s.get("items", {})
        if name == "member_ids":
            return [ids["bob"] + "*"]
        return [marked(name, it)] if it.get("type") == "string" else []
    if t == "boolean":
        return False
    return {}

def fill(path, ops_path):
    out = []
    for seg in path.split("/"):
        if seg.startswith("{"):
            name = seg.strip("{}")
            if "/conversations/" in ops_path:
                v = ids["conv"]
            elif "/departments/" in ops_path:
                v = ids["dept"]
            elif "/users/" in ops_path and name == "id":
                v = ids["bob"]
            elif name == "channel":
                v = "email"
            else:
                v = "x1"
            seg = v + "*"
        out.append(seg)
    return "/".join(out)

jobs, skipped = [], []
for path, methods in sorted(doc["paths"].items()):
    for m, op in sorted(methods.items()):
        perm = op.get("x-permission", "")
        params = op.get("parameters", [])
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        has_body_input = False
        data = None
        if body:
            data = marked("", body)
            has_body_input = "*" in json.dumps(data)
        if path == "/api/v1/ws" or (not params and not has_body_input):
            continue
        if only and not re.search(only, f"{m.upper()} {path}"):
            continue
        if perm in sensitive or perm not in callers:
            skipped.append(f"{m.upper()} {path} ({perm})")
            continue
        q = [f"{p['name']}={'0' if p['schema'].get('type') == 'integer' else 'a'}*" for p in params if p["in"] == "query"]
        url = base + fill(path, path) + ("?" + "&".join(q) if q else "")
        jobs.append((m.upper(), path, url, data if has_body_input else None, callers[perm]))

start = time.time()
found, incomplete, clean = [], [], []
for i, (method, path, url, data, caller) in enumerate(jobs):
    left = wall - (time.time() - start)
    if left < 30:
        incomplete.append(f"{method} {path} (wall-clock limit)")
        continue
    tok = login(caller) if caller else None  # a fresh session: no idle expiry mid-scan
    cmd = ["sqlmap", "-u", url, "--method", method, "--batch", "--level", level, "--risk", risk, "--dbms", "SQLite",
           "--threads", threads, "--timeout", "10", "--retries", "1", "--time-sec", "2",
           "--ignore-code", "400,401,403,404,405,409,413,423,429", "--tamper", "xforwardedfor", "--skip-waf",
           "--disable-coloring", "--flush-session", "--output-dir", os.path.join(work, "out"),
           "-H", "Content-Type: application/json", "-H", "Accept: application/json"]
    if tok:
        cmd += ["-H", "Authorization: Bearer " + tok]
    cmd += shlex.split(os.environ.get("SQLMAP_EXTRA", ""))
    if data is not None:
        cmd += ["--data", json.dumps(data)]
    t0 = time.time()
    log = os.path.join(work, f"sqlmap-{i:02d}.log")
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=min(per_op, left), text=True)
        out, status = r.stdout, "done"
    except subprocess.TimeoutExpired as e:
        out, status = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), "timeout"
    open(log, "w").write(out)
    d = time.time() - t0
    # sqlmap's final verdict only: an intermediate "appears to be …
    # injectable" is often withdrawn by its own false-positive check.
    if re.search(r"identified the following injection point|is vulnerable\.", out):
        found.append(f"{method} {path} ({log})")
        verdict = "INJECTABLE"
    elif status == "timeout":
        incomplete.append(f"{method} {path} (per-operation limit)")
        verdict = "timeout"
    else:
        clean.append(f"{method} {path}")
        verdict = "not injectable" if "do not appear to be injectable" in out else "no finding"
    print(f"{d:6.1f}s  {method:6} {path}  [{caller or 'anonymous'}]  {verdict}", flush=True)

print(f"\n{len(jobs)} operations, {len(clean)} scanned clean, {len(found)} injectable, {len(incomplete)} incomplete, "
      f"{len(skipped)} skipped (step-up-gated or unknown permission); {time.time() - start:.0f}s of scanning")
for s in skipped:
    print("  skipped:", s)
for s in incomplete:
    print("  incomplete:", s)
for s in found:
    print("  INJECTABLE:", s)
sys.exit(1 if found or incomplete else 0)
PY

echo "== sqlmap (level $level, risk $risk, wall limit ${wall}s, ${per_op}s per operation)"
t0=$(date +%s)
status=0
"$python" "$work/drive.py" "https://127.0.0.1:$port" "$work/data/tls/cert.pem" "$work/data/setup-token" "$work" \
	"$level" "$risk" "$wall" "$per_op" "$threads" || status=$?
echo "== sqlmap finished in $(( $(date +%s) - t0 ))s, exit $status"
if grep -qiE 'panic|internal error' "$work/parleyd.log"; then
	echo "parleyd logged internal errors during the scan:"; grep -iE 'panic|internal error' "$work/parleyd.log" | head -20
	status=1
fi
exit $status
