"""How the emulator holds up over many case creations: patched moto, optionally stock for contrast.

Starts the server on a free loopback port, creates a table shaped like the gateway's
(shared/adapters/src/provision.rs: PK/SK, GSI1 and GSI2, projection ALL) and runs N transactions
like the DynamoDB store's `create_case` (shared/adapters): a conditional Put of a ~4 KB case
item plus a Put of a ~1 KB event item. Prints the transaction latency per slice of the run, the server's
memory (VmRSS) before and after, and what a trivial request and data.json cost at the end.

    .venv/bin/python infra/measure_moto.py                 # patched, N=2000
    .venv/bin/python infra/measure_moto.py --stock-n 300   # and stock moto with N=300
"""

import argparse
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
SERVERS = {
    "patched": [VENV / "python", ROOT / "infra" / "moto_server.py"],
    "stock": [VENV / "moto_server"],
}
TABLE = "measure"


def rss_mb(pid, field="VmRSS"):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(label):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [*map(str, SERVERS[label]), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if proc.poll() is not None:
            log.seek(0)
            raise SystemExit(f"{label} server exited:\n{log.read().decode(errors='replace')[-2000:]}")
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            return proc, endpoint
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{label} server did not answer on {endpoint}")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def create_table(ddb):
    def index(n):
        return {
            "IndexName": f"GSI{n}",
            "KeySchema": [
                {"AttributeName": f"GSI{n}PK", "KeyType": "HASH"},
                {"AttributeName": f"GSI{n}SK", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }

    ddb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")
        ],
        GlobalSecondaryIndexes=[index(1), index(2)],
    )


def s(v):
    return {"S": v}


def case_transaction(i):
    """A create_case: the case (~4 KB, conditional) and its first call event (~1 KB)."""
    call = f"call-{i:06d}"
    case = {
        "PK": s("COMPANY#demo"),
        "SK": s(f"CASE#{call}"),
        "GSI1PK": s("COMPANY#demo#CASES"),
        "GSI1SK": s(f"2026-01-01T00:00:{i % 60:02d}Z#{call}"),
        "GSI2PK": s(f"COMPANY#demo#TICKET#TKT-{i:06d}"),
        "GSI2SK": s("CASE"),
        "status": s("new"),
        "version": {"N": "1"},
        "caller": {"M": {"name": s("Erika Mustermann"), "phone": s("+4930123456")}},
        "summary": s("Heizung ausgefallen, Rückruf erbeten. " * 10),
        "transcript": s("x" * 3300),
    }
    event = {
        "PK": s(f"COMPANY#demo#CALL#{call}"),
        "SK": s("EVENT#call_started"),
        "payload": s("y" * 950),
    }
    return [
        {
            "Put": {
                "TableName": TABLE,
                "Item": case,
                "ConditionExpression": "attribute_not_exists(PK)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        {"Put": {"TableName": TABLE, "Item": event}},
    ]


def ms(seconds):
    return f"{seconds * 1000:8.1f}"


def measure(label, n, slices):
    proc, endpoint = start(label)
    try:
        ddb = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="eu-central-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )
        rss_start = rss_mb(proc.pid)
        create_table(ddb)
        latencies = []
        started = time.monotonic()
        for i in range(n):
            t = time.perf_counter()
            ddb.transact_write_items(TransactItems=case_transaction(i))
            latencies.append(time.perf_counter() - t)
        total = time.monotonic() - started
        rss_end, rss_peak = rss_mb(proc.pid), rss_mb(proc.pid, "VmHWM")

        def timed(call, times=5):
            samples = []
            for _ in range(times):
                t = time.perf_counter()
                call()
                samples.append(time.perf_counter() - t)
            return statistics.median(samples)

        describe = timed(lambda: ddb.describe_table(TableName=TABLE))
        get = timed(lambda: ddb.get_item(TableName=TABLE, Key={"PK": {"S": "COMPANY#demo"}, "SK": {"S": "CASE#x"}}))
        data_json = timed(lambda: urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=600).read(), 1)
    finally:
        stop(proc)

    print(f"\n== {label} moto: {n} case transactions in {total:.1f} s")
    print(f"   {'transactions':>15} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    size = max(1, n // slices)
    for lo in range(0, n, size):
        part = sorted(latencies[lo : lo + size])
        p95 = part[min(len(part) - 1, int(len(part) * 0.95))]
        print(f"   {lo + 1:>7}-{lo + len(part):<7} {ms(statistics.median(part))} {ms(p95)} {ms(part[-1])}")
    print(f"   server VmRSS: {rss_start:.0f} MB at start, {rss_end:.0f} MB at the end (peak {rss_peak:.0f} MB)")
    print(f"   at the end: DescribeTable {ms(describe).strip()} ms, GetItem {ms(get).strip()} ms (median of 5),")
    print(f"               GET /moto-api/data.json {ms(data_json).strip()} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="transactions on the patched server (default 2000)")
    parser.add_argument("--stock-n", type=int, default=0, help="transactions on stock moto (default 0: skip)")
    parser.add_argument("--slices", type=int, default=10, help="latency rows per run (default 10)")
    args = parser.parse_args()
    if args.n:
        measure("patched", args.n, args.slices)
    if args.stock_n:
        measure("stock", args.stock_n, args.slices)


if __name__ == "__main__":
    main()
