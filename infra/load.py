#!/usr/bin/env python3
"""Load against a running `make run`: N signed Retell `call_analyzed` calls, each sent as three
simultaneous identical copies (the way Retell retries), then checks the cases in DynamoDB.

    make load N=1000
    .venv/bin/python infra/load.py --calls 50 [--callers 16] [--timeout 15] [--retries 3]
        [--max-seconds 900] [--settle-seconds 300] [--url http://127.0.0.1:3000/webhooks/retell]
        [--json] [--strict]

Reads .local/run.env (written by `make run`). Only the stdlib plus boto3 (in .venv with moto).
Progress and the human-readable report go to stdout; with --json the report is a JSON object on
stdout and everything else goes to stderr. Exit code 1 if cases created != N, a call was lost
(no case and no 2xx answer) or two cases share a ticket reference (with --strict also if a case is
still pending after --settle-seconds); 2 on usage/setup errors. A retry (after a 5xx, a timeout or
a connection error, waiting Retry-After or 2 s) is signed again with a fresh timestamp.
"""

import argparse
import copy
import hashlib
import hmac
import http.client
import json
import os
import random
import socket
import sys
import threading
import time
import urllib.parse
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_ENV = os.path.join(ROOT, ".local", "run.env")
MOTO_PID = os.path.join(ROOT, ".local", "moto.pid")
SAMPLE_CALL = os.path.join(ROOT, "events", "retell", "call_analyzed.json")
COMPANY = "nordit-hannover"
RETELL_GIVES_UP_S = 10.0
SLOW_MS = RETELL_GIVES_UP_S * 1000.0
DEFAULT_RETRY_AFTER_S = 2.0
COPIES = 3
POLL_EVERY_S = 5.0
PROGRESS_EVERY_S = 10.0

OUT = sys.stdout  # where progress and text go; stderr under --json


def say(*parts):
    print(*parts, file=OUT, flush=True)


def fail_setup(message):
    print(message, file=sys.stderr)
    sys.exit(2)


def read_run_env(path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        fail_setup(f"{path} not found: start the gateway with `make run` first")
    env = {}
    for line in lines:
        if "=" in line and not line.lstrip().startswith("#"):
            k, v = line.split("=", 1)
            env[k.strip()] = v.strip()
    for key in ("AWS_ENDPOINT_URL", "TABLE_NAME", "RETELL_API_KEY", "RECORDING_HOST"):
        if not env.get(key):
            fail_setup(f"{key} missing from {path}")
    return env


def sign(api_key, body, timestamp_ms):
    """Retell's X-Retell-Signature: HMAC-SHA256(key, body ‖ decimal timestamp ms), lower-case hex."""
    digest = hmac.new(api_key.encode(), body + str(timestamp_ms).encode(), hashlib.sha256).hexdigest()
    return f"v={timestamp_ms},d={digest}"


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    # nearest-rank
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


class Results:
    """Every answer, shared by all sender threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers = []  # (call_idx, copy, attempt, status, latency_ms)
        self.error_samples = {}  # status -> first body/exception seen
        self.calls_done = 0
        self.calls_started = 0
        self.in_flight = 0
        self.final_ok = {}  # call_idx -> True if any copy ended 2xx

    def record(self, call_idx, copy_no, attempt, status, latency_ms, detail):
        with self.lock:
            self.answers.append((call_idx, copy_no, attempt, status, latency_ms))
            if not str(status).startswith("2") and status not in self.error_samples:
                self.error_samples[status] = detail

    def snapshot(self):
        with self.lock:
            return Counter(a[3] for a in self.answers), len(self.answers), self.calls_started, self.calls_done, self.in_flight


def post_once(url, body, signature, timeout):
    """One POST on a fresh connection. Returns (status, retry_after_s, detail)."""
    u = urllib.parse.urlsplit(url)
    conn_cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(u.hostname, u.port, timeout=timeout)
    path = u.path + (f"?{u.query}" if u.query else "")
    try:
        conn.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "X-Retell-Signature": signature,
                "User-Agent": "retell-load/1 (infra/load.py)",
                "Connection": "close",
            },
        )
        resp = conn.getresponse()
        data = resp.read()
        retry_after = None
        ra = resp.getheader("Retry-After")
        if ra:
            try:
                retry_after = float(ra)
            except ValueError:
                retry_after = None
        return str(resp.status), retry_after, data[:300].decode("utf-8", "replace")
    except (socket.timeout, TimeoutError) as e:
        return "timeout", None, repr(e)
    except (ConnectionError, http.client.HTTPException, OSError) as e:
        return "error", None, repr(e)
    finally:
        conn.close()


def send_copy(args, results, api_key, call_idx, copy_no, body, first_signature, start_gate, deadline):
    """One of the three copies, with Retell's retry policy (5xx / timeout / connection error)."""
    signature = first_signature
    start_gate.wait()
    ok = False
    for attempt in range(args.retries + 1):
        if attempt > 0:
            # A retry is a new delivery: signed again with a fresh timestamp.
            signature = sign(api_key, body, int(time.time() * 1000))
        with results.lock:
            results.in_flight += 1
        t0 = time.monotonic()
        status, retry_after, detail = post_once(args.url, body, signature, args.timeout)
        latency_ms = (time.monotonic() - t0) * 1000.0
        with results.lock:
            results.in_flight -= 1
        results.record(call_idx, copy_no, attempt, status, latency_ms, detail)
        if status.startswith("2"):
            ok = True
            break
        retryable = status in ("timeout", "error") or status.startswith("5")
        if not retryable or attempt == args.retries:
            break
        wait = retry_after if retry_after is not None else DEFAULT_RETRY_AFTER_S
        if time.monotonic() + wait > deadline:
            break
        time.sleep(wait)
    if ok:
        with results.lock:
            results.final_ok[call_idx] = True


def build_body(template, call_id, recording_host):
    call = copy.deepcopy(template)
    call["call"]["call_id"] = call_id
    call["call"]["recording_url"] = f"http://{recording_host}/rec/4096.wav"
    return json.dumps(call, ensure_ascii=False).encode("utf-8")


def caller(args, results, api_key, template, recording_host, call_ids, next_call, deadline, stopped):
    while True:
        with results.lock:
            if next_call[0] >= len(call_ids):
                return
            if time.monotonic() > deadline:
                stopped[0] = True
                return
            idx = next_call[0]
            next_call[0] += 1
            results.calls_started += 1
        body = build_body(template, call_ids[idx], recording_host)
        signature = sign(api_key, body, int(time.time() * 1000))
        gate = threading.Barrier(COPIES)
        threads = [
            threading.Thread(
                target=send_copy,
                args=(args, results, api_key, idx, c, body, signature, gate, deadline),
                daemon=True,
            )
            for c in range(COPIES)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with results.lock:
            results.calls_done += 1


def dynamo_client(env):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name="eu-central-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(connect_timeout=10, read_timeout=60, retries={"max_attempts": 5, "mode": "standard"}),
    )


def fetch_cases(ddb, table, call_ids):
    """call_id -> {output_status, ticket_ref, enrichment_status} for the cases that exist (BatchGetItem, 100 a time)."""
    found = {}
    pk = f"COMPANY#{COMPANY}"
    for i in range(0, len(call_ids), 100):
        keys = [{"PK": {"S": pk}, "SK": {"S": f"CASE#{c}"}} for c in call_ids[i : i + 100]]
        request = {
            table: {
                "Keys": keys,
                "ConsistentRead": True,
                "ProjectionExpression": "call_id, output_status, ticket_ref, enrichment_status",
            }
        }
        for _ in range(20):
            out = ddb.batch_get_item(RequestItems=request)
            for item in out.get("Responses", {}).get(table, []):
                found[item["call_id"]["S"]] = {
                    "output_status": item.get("output_status", {}).get("S"),
                    "ticket_ref": item.get("ticket_ref", {}).get("S"),
                    "enrichment_status": item.get("enrichment_status", {}).get("S"),
                }
            request = out.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(0.5)
    return found


def ticket_owners(ddb, table):
    """ticket_ref -> [call_id, ...] over all of the company's cases (GSI1, one paginated query)."""
    owners = {}
    kwargs = {
        "TableName": table,
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": f"COMPANY#{COMPANY}#CASES"}},
        "ProjectionExpression": "call_id, ticket_ref",
    }
    while True:
        out = ddb.query(**kwargs)
        for item in out.get("Items", []):
            t = item.get("ticket_ref", {}).get("S")
            if t:
                owners.setdefault(t, []).append(item.get("call_id", {}).get("S"))
        if "LastEvaluatedKey" not in out:
            return owners
        kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]


def proc_memory(pid):
    mem = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":", 1)
                    mem[k] = int(v.split()[0]) // 1024  # kB -> MiB
    except OSError:
        return None
    return mem


def moto_pid(endpoint):
    """The moto_server serving `endpoint`: found by its port among the processes (.local/moto.pid is
    shared by every emulator started from this checkout, e.g. `make test`, so it may name another
    one), falling back to .local/moto.pid."""
    port = str(urllib.parse.urlsplit(endpoint).port or "")
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        pids = []
    for p in pids:
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if any("moto_server" in a for a in argv[:3]) and port:
            if any(argv[i] in ("-p", "--port") and argv[i + 1] == port for i in range(len(argv) - 1)):
                return int(p)
    try:
        with open(MOTO_PID) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def moto_memory(endpoint):
    pid = moto_pid(endpoint)
    return pid, (proc_memory(pid) if pid else None)


def describe_table_ms(ddb, table):
    t0 = time.monotonic()
    try:
        ddb.describe_table(TableName=table)
    except Exception as e:  # noqa: BLE001 - report, do not abort the report
        return None, repr(e)
    return (time.monotonic() - t0) * 1000.0, None


def fmt_ms(v):
    return "-" if v is None else f"{v:,.0f} ms"


def main():
    global OUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=1000, help="number of distinct calls (default 1000)")
    ap.add_argument("--callers", type=int, default=16, help="concurrent callers, 3 requests each (default 16)")
    ap.add_argument("--timeout", type=float, default=15.0, help="per-request timeout in s (default 15)")
    ap.add_argument("--retries", type=int, default=3, help="retries of a copy answered 5xx/timed out (default 3, as Retell)")
    ap.add_argument("--max-seconds", type=float, default=900.0, help="stop sending after this many s (default 900)")
    ap.add_argument("--settle-seconds", type=float, default=300.0, help="wait this long for cases to be sent (default 300)")
    ap.add_argument("--url", default="http://127.0.0.1:3000/webhooks/retell")
    ap.add_argument("--run-env", default=RUN_ENV)
    ap.add_argument("--json", action="store_true", help="print the report as JSON (progress goes to stderr)")
    ap.add_argument(
        "--strict",
        action="store_true",
        help="also fail if any case is still pending (not sent/failed) after --settle-seconds, e.g. a stranded hand-off",
    )
    args = ap.parse_args()
    if args.calls < 1 or args.callers < 1 or args.retries < 0 or args.timeout <= 0:
        ap.error("--calls and --callers must be >= 1, --retries >= 0, --timeout > 0")
    if args.json:
        OUT = sys.stderr

    env = read_run_env(args.run_env)
    table = env["TABLE_NAME"]
    with open(SAMPLE_CALL, encoding="utf-8") as f:
        template = json.load(f)
    run_id = time.strftime("%Y%m%d%H%M%S", time.gmtime()) + f"{random.randrange(16**4):04x}"
    call_ids = [f"call_load_{run_id}_{n:06d}" for n in range(args.calls)]
    ddb = dynamo_client(env)

    # Preflight: a stale .local/run.env (gateway stopped) should not turn into N x 9 refused requests.
    u = urllib.parse.urlsplit(args.url)
    try:
        socket.create_connection((u.hostname, u.port or (443 if u.scheme == "https" else 80)), timeout=3).close()
    except OSError as e:
        fail_setup(f"the gateway does not answer at {args.url} ({e}): start it with `make run`")
    _, mem_before = moto_memory(env["AWS_ENDPOINT_URL"])
    ddb_before_ms, ddb_err = describe_table_ms(ddb, table)
    if ddb_err:
        fail_setup(f"the emulator at {env['AWS_ENDPOINT_URL']} does not answer DescribeTable {table}: {ddb_err}")
    say(
        f"load run {run_id}: {args.calls} calls x {COPIES} copies -> {args.url}, "
        f"{args.callers} callers (up to {args.callers * COPIES} requests in flight), timeout {args.timeout:g} s, "
        f"retries {args.retries}, max {args.max_seconds:g} s"
    )
    say(
        f"emulator before: RSS {mem_before.get('VmRSS', '?') if mem_before else '?'} MiB, "
        f"DescribeTable {fmt_ms(ddb_before_ms)}"
    )

    # --- send ---------------------------------------------------------------------------------
    results = Results()
    next_call = [0]
    stopped = [False]
    t_start = time.monotonic()
    deadline = t_start + args.max_seconds
    workers = [
        threading.Thread(
            target=caller,
            args=(args, results, env["RETELL_API_KEY"], template, env["RECORDING_HOST"], call_ids, next_call, deadline, stopped),
            daemon=True,
        )
        for _ in range(min(args.callers, args.calls))
    ]
    for w in workers:
        w.start()
    last_progress = t_start
    while any(w.is_alive() for w in workers):
        time.sleep(0.5)
        now = time.monotonic()
        if now - last_progress >= PROGRESS_EVERY_S:
            last_progress = now
            by_status, n_req, started, done, in_flight = results.snapshot()
            say(
                f"  {now - t_start:6.1f} s  calls {done}/{args.calls} done, {n_req} answers "
                f"{dict(sorted(by_status.items()))}, {in_flight} in flight"
            )
    t_sent = time.monotonic()
    send_seconds = t_sent - t_start
    calls_sent = results.calls_started

    answers = results.answers
    by_status = Counter(a[3] for a in answers)
    answered = sorted(a[4] for a in answers if a[3] not in ("timeout", "error"))
    slow = sum(1 for a in answers if a[3] not in ("timeout", "error") and a[4] > SLOW_MS)
    retries_sent = sum(1 for a in answers if a[2] > 0)
    first_attempts = [a for a in answers if a[2] == 0]
    ok_calls = set(results.final_ok)
    failed_calls = [call_ids[i] for i in range(calls_sent) if i not in ok_calls]
    say(
        f"sending done in {send_seconds:.1f} s: {calls_sent}/{args.calls} calls, {len(answers)} requests "
        f"({len(first_attempts)} first tries, {retries_sent} retries)"
        + ("  -- STOPPED: --max-seconds exceeded" if stopped[0] else "")
    )

    # --- cases --------------------------------------------------------------------------------
    sent_ids = call_ids[:calls_sent]
    cases = fetch_cases(ddb, table, sent_ids)
    created_after_send = len(cases)
    say(f"cases right after sending: {created_after_send}/{calls_sent}; waiting for delivery (up to {args.settle_seconds:g} s)")
    settle_start = time.monotonic()
    last_progress = settle_start
    time_to_settled = None
    while True:
        states = Counter(c["output_status"] for c in cases.values())
        pending = len(sent_ids) - states.get("sent", 0) - states.get("failed", 0)
        now = time.monotonic()
        if pending == 0:
            time_to_settled = now - settle_start
            break
        if now - settle_start >= args.settle_seconds:
            break
        if now - last_progress >= PROGRESS_EVERY_S:
            last_progress = now
            say(
                f"  {now - settle_start:6.1f} s  cases {len(cases)}/{len(sent_ids)}: sent {states.get('sent', 0)}, "
                f"failed {states.get('failed', 0)}, pending {pending}"
            )
        time.sleep(POLL_EVERY_S)
        cases = fetch_cases(ddb, table, sent_ids)

    states = Counter(c["output_status"] for c in cases.values())
    enrich_states = Counter(c["enrichment_status"] for c in cases.values())
    missing = [c for c in sent_ids if c not in cases]
    lost = [c for c in missing if c in set(failed_calls)]
    no_ticket = [c for c, v in cases.items() if not v["ticket_ref"]]
    run_tickets = Counter(v["ticket_ref"] for v in cases.values() if v["ticket_ref"])
    dup_in_run = {t: n for t, n in run_tickets.items() if n > 1}
    # Cross-check against every case of the company: no ticket of this run may belong to another call.
    try:
        owners = ticket_owners(ddb, table)
        shared = {t: owners[t] for t in run_tickets if len(owners.get(t, [])) > 1}
        owners_error = None
    except Exception as e:  # noqa: BLE001
        shared, owners_error = {}, repr(e)
    pending_ids = [c for c in sent_ids if cases.get(c, {}).get("output_status") not in ("sent", "failed")]
    # A case Retell was never told about (no 2xx) that was never handed off (no ticket): nothing
    # will pick it up again, since Retell has stopped retrying.
    failed_set = set(failed_calls)
    stranded = [c for c in sent_ids if c in failed_set and c in cases and not cases[c]["ticket_ref"]]

    pid_after, mem_after = moto_memory(env["AWS_ENDPOINT_URL"])
    ddb_after_ms, ddb_err = describe_table_ms(ddb, table)

    created = len(cases)
    ok = created == args.calls and not lost and not dup_in_run and not shared
    if args.strict and pending_ids:
        ok = False
    report = {
        "run_id": run_id,
        "url": args.url,
        "calls": args.calls,
        "calls_sent": calls_sent,
        "stopped_by_max_seconds": stopped[0],
        "send_seconds": round(send_seconds, 1),
        "requests": len(answers),
        "retries": retries_sent,
        "by_status": dict(sorted(by_status.items())),
        "slower_than_10s": slow,
        "latency_ms": {
            "p50": percentile(answered, 50),
            "p95": percentile(answered, 95),
            "p99": percentile(answered, 99),
            "max": answered[-1] if answered else None,
        },
        "calls_all_copies_failed": len(failed_calls),
        "cases_created": created,
        "cases_missing": len(missing),
        "cases_lost": len(lost),
        "cases_without_ticket_ref": len(no_ticket),
        "cases_stranded": len(stranded),
        "duplicate_ticket_refs_in_run": len(dup_in_run),
        "ticket_refs_shared_with_other_cases": len(shared),
        "output_status": dict(sorted((str(k), v) for k, v in states.items())),
        "enrichment_status": dict(sorted((str(k), v) for k, v in enrich_states.items())),
        "pending": len(pending_ids),
        "settle_seconds_after_send": None if time_to_settled is None else round(time_to_settled, 1),
        "settle_seconds_since_start": None if time_to_settled is None else round(send_seconds + time_to_settled, 1),
        "emulator": {
            "pid": pid_after,
            "rss_mib_before": (mem_before or {}).get("VmRSS"),
            "rss_mib": (mem_after or {}).get("VmRSS"),
            "hwm_mib": (mem_after or {}).get("VmHWM"),
            "describe_table_ms_before": None if ddb_before_ms is None else round(ddb_before_ms, 1),
            "describe_table_ms": None if ddb_after_ms is None else round(ddb_after_ms, 1),
        },
        "ok": ok,
    }
    for k in ("p50", "p95", "p99", "max"):
        v = report["latency_ms"][k]
        report["latency_ms"][k] = None if v is None else round(v, 1)

    if args.json:
        print(json.dumps(report, indent=2))
    else:
        lat = report["latency_ms"]
        print(f"\n== load run {run_id}: {args.calls} calls x {COPIES} copies ==")
        print(
            f"sent        {calls_sent}/{args.calls} calls in {send_seconds:.1f} s"
            + ("  (STOPPED: --max-seconds exceeded)" if stopped[0] else "")
        )
        print(f"requests    {len(answers)} ({retries_sent} retries)  by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items())))
        print(f"latency     p50 {fmt_ms(lat['p50'])}, p95 {fmt_ms(lat['p95'])}, p99 {fmt_ms(lat['p99'])}, max {fmt_ms(lat['max'])}  (answered requests)")
        print(f"            {slow} answers slower than {RETELL_GIVES_UP_S:g} s (Retell would have given up)")
        print(f"calls       {len(failed_calls)} with all {COPIES} copies failed after retries")
        print(
            f"cases       created {created}/{args.calls}, MISSING {len(missing)} (lost: {len(lost)}), "
            f"DUPLICATE ticket refs {len(dup_in_run)} in run / {len(shared)} shared with other cases, "
            f"without ticket ref {len(no_ticket)}"
        )
        if owners_error:
            print(f"            (ticket cross-check over GSI1 failed: {owners_error})")
        settle = "not all settled" if time_to_settled is None else f"all settled {time_to_settled:.1f} s after sending ({send_seconds + time_to_settled:.1f} s since start)"
        print(
            f"delivery    sent {states.get('sent', 0)}, failed {states.get('failed', 0)}, pending {len(pending_ids)}; {settle}"
        )
        print("enrichment  " + ", ".join(f"{k}: {v}" for k, v in sorted((str(k), v) for k, v in enrich_states.items())))
        em = report["emulator"]
        print(
            f"emulator    pid {em['pid']}: RSS {em['rss_mib']} MiB (was {em['rss_mib_before']}), peak {em['hwm_mib']} MiB; "
            f"DescribeTable {fmt_ms(ddb_after_ms)} (was {fmt_ms(ddb_before_ms)})" + (f" ERROR {ddb_err}" if ddb_err else "")
        )
        if results.error_samples:
            print("first non-2xx answers:")
            for status, detail in sorted(results.error_samples.items()):
                print(f"  {status}: {detail}")
        if stranded:
            print(
                f"WARNING     {len(stranded)} stranded: every copy failed and the case was never handed off "
                f"(no ticket, never enqueued); nothing will deliver it"
            )
        for label, ids in (("missing", missing), ("pending", pending_ids), ("without ticket", no_ticket), ("stranded", stranded)):
            if ids:
                print(f"{label} (first 5): {', '.join(ids[:5])}")
        if dup_in_run or shared:
            print(f"duplicate tickets (first 5): {list({**dup_in_run, **shared}.items())[:5]}")
        print("RESULT      " + ("OK" if ok else "FAIL") + ("" if args.strict or not pending_ids else f" (not --strict: {len(pending_ids)} pending ignored)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
