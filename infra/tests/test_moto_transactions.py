"""infra/moto_server.py keeps stock moto's behaviour: the same requests, the same answers.

Starts stock `moto_server` and the patched `infra/moto_server.py` (both from the project venv) on
free loopback ports, runs each scenario against both and compares every answer (error code,
message, CancellationReasons with their ALL_OLD items) and the tables afterwards (scan, index
scan, item count, stream records). Also checks what the patch must keep: SES messages in
`/moto-api/data.json` and one winner among concurrent conditional writes to one key.

Run from the repository root:
    .venv/bin/python -m unittest discover -s infra/tests -v
"""

import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
STOCK_SERVER = ROOT / ".venv" / "bin" / "moto_server"
PATCHED_SERVER = ROOT / "infra" / "moto_server.py"
REGION = "eu-central-1"

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:  # a clear failure, never a skip
    raise ImportError(f"boto3 is missing: run these tests with {VENV_PYTHON} ({e})") from e


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A moto server subprocess on a free loopback port; `stop` ends exactly this process."""

    def __init__(self, label, command):
        for path in command[:2]:
            if not Path(path).exists():
                raise AssertionError(f"{label}: {path} is missing (run `infra/emulator.sh install`)")
        self.label = label
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix=f"moto-{label}-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [*map(str, command), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 30
        while self.process.poll() is None and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        output = self.output()
        self.stop()
        raise AssertionError(
            f"{label} server did not start on {self.endpoint} (exit code {self.process.returncode}):\n{output}"
        )

    def output(self):
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        os.unlink(self.log.name)

    def client(self, service):
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=50),
        )

    def data_json(self):
        with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=30) as resp:
            return json.loads(resp.read())


def start_servers(test_class):
    test_class.stock = Server("stock", [STOCK_SERVER])
    test_class.addClassCleanup(test_class.stock.stop)
    test_class.patched = Server("patched", [VENV_PYTHON, PATCHED_SERVER])
    test_class.addClassCleanup(test_class.patched.stop)


# --- Tables and items shaped like the gateway's (shared/adapters/src/provision.rs) -----------------


def gateway_table(name, **extra):
    def index(n):
        return {
            "IndexName": f"GSI{n}",
            "KeySchema": [
                {"AttributeName": f"GSI{n}PK", "KeyType": "HASH"},
                {"AttributeName": f"GSI{n}SK", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }

    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")
        ],
        "GlobalSecondaryIndexes": [index(1), index(2)],
        **extra,
    }


def hash_only_table(name):
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    }


def s(v):
    return {"S": v}


def key(pk, sk):
    return {"PK": s(pk), "SK": s(sk)}


def case(pk, call, status="new", version=1):
    return {
        **key(pk, f"CASE#{call}"),
        "GSI1PK": s(f"{pk}#CASES"),
        "GSI1SK": s(f"2026-01-01T00:00:00Z#{call}"),
        "GSI2PK": s(f"{pk}#TICKET#TKT-{call}"),
        "GSI2SK": s("CASE"),
        "status": s(status),
        "version": {"N": str(version)},
        "tags": {"SS": ["a", "b"]},
        "body": {"M": {"summary": s("caller wants a callback"), "lines": {"L": [s("x"), {"N": "2"}]}}},
    }


def event(call, kind="call_started"):
    return {**key(f"COMPANY#c#CALL#{call}", f"EVENT#{kind}"), "payload": s("{}")}


def op(kind, table, condition=None, values=None, all_old=False, **fields):
    """One TransactItems entry; `#s` in an expression stands for the attribute `status`."""
    body = {"TableName": table, **fields}
    if condition:
        body["ConditionExpression"] = condition
    if values:
        body["ExpressionAttributeValues"] = values
    if "#s" in body.get("UpdateExpression", "") + (condition or ""):
        body["ExpressionAttributeNames"] = {"#s": "status"}
    if all_old:
        body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {kind: body}


def put(table, item, condition=None, all_old=False):
    return op("Put", table, condition, all_old=all_old, Item=item)


def check(table, k, condition, values=None, all_old=False):
    return op("ConditionCheck", table, condition, values, all_old, Key=k)


def update(table, k, expression, values, condition=None, all_old=False):
    return op("Update", table, condition, values, all_old, Key=k, UpdateExpression=expression)


def delete(table, k):
    return op("Delete", table, Key=k)


FAILING_CHECK = "attribute_not_exists(PK)"  # on an item that exists
C = "COMPANY#c"


def outcome(call):
    """What a client sees of a request: the answer without request ids, or the error."""
    try:
        resp = call()
    except ClientError as e:
        return {
            "error": e.response["Error"].get("Code"),
            "message": e.response["Error"].get("Message"),
            "reasons": e.response.get("CancellationReasons"),
        }
    resp.pop("ResponseMetadata", None)
    return resp


def table_contents(ddb, name):
    """Everything a client can read back from a table."""
    desc = ddb.describe_table(TableName=name)["Table"]
    contents = {"ItemCount": desc.get("ItemCount"), "scan": outcome(lambda: ddb.scan(TableName=name))}
    for index in desc.get("GlobalSecondaryIndexes", []):
        name_ = index["IndexName"]
        contents[f"scan {name_}"] = outcome(lambda: ddb.scan(TableName=name, IndexName=name_))
    return contents


# Each scenario: tables to create (with their seed items), then transactions, each with the
# outcome expected of both servers ("ok" or an error code). Answers and tables are compared.
SCENARIOS = {
    "success": (
        {"t-success": (gateway_table, [case(C, "old"), case(C, "gone"), event("old")])},
        [
            (
                "ok",
                [
                    put("t-success", case(C, "new"), "attribute_not_exists(PK)", all_old=True),
                    put("t-success", event("new")),
                    update(
                        "t-success",
                        key(C, "CASE#old"),
                        "SET #s = :v ADD version :one",
                        {":v": s("done"), ":one": {"N": "1"}},
                    ),
                    check("t-success", key("COMPANY#c#CALL#old", "EVENT#call_started"), "attribute_exists(PK)"),
                    delete("t-success", key(C, "CASE#gone")),
                ],
            ),
        ],
    ),
    "duplicate put returns ALL_OLD": (
        {"t-dup": (gateway_table, [case(C, "1", status="open", version=3), event("1")])},
        [
            (
                "TransactionCanceledException",
                [
                    put("t-dup", case(C, "1", status="other"), "attribute_not_exists(PK)", all_old=True),
                    put("t-dup", event("1", "call_ended")),
                ],
            ),
            # the same without ALL_OLD: the reason has no item
            ("TransactionCanceledException", [put("t-dup", case(C, "1"), "attribute_not_exists(PK)")]),
        ],
    ),
    "update rolled back by a failing condition check": (
        {"t-upd": (gateway_table, [case(C, "1"), case(C, "2")])},
        [
            (
                "TransactionCanceledException",
                [
                    update(
                        "t-upd",
                        key(C, "CASE#1"),
                        "SET #s = :v, body.summary = :sum ADD version :one, tags :t REMOVE GSI2PK",
                        {":v": s("closed"), ":sum": s("changed"), ":one": {"N": "1"}, ":t": {"SS": ["c"]}},
                    ),
                    check("t-upd", key(C, "CASE#2"), FAILING_CHECK, all_old=True),
                ],
            ),
        ],
    ),
    "delete plus a failure": (
        {"t-del": (gateway_table, [case(C, "1"), case(C, "2"), event("2")])},
        [
            (
                "TransactionCanceledException",
                [
                    delete("t-del", key(C, "CASE#1")),
                    delete("t-del", key("COMPANY#c#CALL#2", "EVENT#call_started")),
                    check("t-del", key(C, "CASE#2"), "#s = :closed", {":closed": s("closed")}, all_old=True),
                ],
            ),
        ],
    ),
    "new put plus a failing update": (
        {"t-new": (gateway_table, [case(C, "1")])},
        [
            (
                "TransactionCanceledException",
                [
                    put("t-new", case(C, "2"), "attribute_not_exists(PK)"),
                    put("t-new", event("2")),
                    update(
                        "t-new",
                        key(C, "CASE#1"),
                        "SET #s = :v",
                        {":v": s("x"), ":old": s("closed")},
                        condition="#s = :old",
                        all_old=True,
                    ),
                ],
            ),
            # an update that would create its item, then a failure
            (
                "TransactionCanceledException",
                [
                    update("t-new", key(C, "CASE#3"), "SET #s = :v", {":v": s("new")}),
                    check("t-new", key(C, "CASE#1"), FAILING_CHECK),
                ],
            ),
        ],
    ),
    "one key twice": (
        {"t-twice": (gateway_table, [case(C, "1")])},
        [
            (
                "ValidationException",
                [
                    put("t-twice", case(C, "2")),
                    update("t-twice", key(C, "CASE#1"), "SET #s = :v", {":v": s("a")}),
                    delete("t-twice", key(C, "CASE#1")),
                ],
            ),
            ("ValidationException", [put("t-twice", case(C, "3")), put("t-twice", case(C, "3"))]),
        ],
    ),
    "missing table": (
        {"t-miss": (gateway_table, [case(C, "1")])},
        [
            ("ResourceNotFoundException", [put("t-miss", case(C, "2")), put("t-nope", case(C, "2"))]),
            (
                "TransactionCanceledException",
                [put("t-miss", case(C, "3")), check("t-nope", key(C, "CASE#1"), "attribute_exists(PK)")],
            ),
            ("TransactionCanceledException", [put("t-miss", case(C, "4")), delete("t-nope", key(C, "CASE#1"))]),
        ],
    ),
    "two tables, one fails": (
        {"t-a": (gateway_table, [case(C, "1")]), "t-b": (hash_only_table, [{"id": s("x"), "n": {"N": "1"}}])},
        [
            (
                "TransactionCanceledException",
                [
                    put("t-a", case(C, "2")),
                    delete("t-b", {"id": s("x")}),
                    put("t-b", {"id": s("y")}),
                    check("t-a", key(C, "CASE#1"), FAILING_CHECK),
                ],
            ),
            ("ok", [delete("t-b", {"id": s("x")}), put("t-a", case(C, "3"))]),
        ],
    ),
    "a failure after an empty partition was looked up": (
        {"t-part": (gateway_table, [case(C, "1")])},
        [
            (
                "TransactionCanceledException",
                [
                    check("t-part", key("COMPANY#nobody", "CASE#1"), "attribute_not_exists(PK)"),
                    put("t-part", case("COMPANY#d", "1")),
                    check("t-part", key(C, "CASE#1"), FAILING_CHECK),
                ],
            ),
            ("ok", [put("t-part", case("COMPANY#nobody", "1"))]),
        ],
    ),
    # moto quirks kept as they are (real DynamoDB would reject or roll back all of these):
    "an entry with two operations keeps the writes before it": (
        {"t-two": (gateway_table, [case(C, "1")])},
        [
            (
                "ValidationException",
                [
                    put("t-two", case(C, "2")),
                    put("t-two", case(C, "3")) | check("t-two", key(C, "CASE#1"), "attribute_exists(PK)"),
                ],
            ),
        ],
    ),
    "a table addressed by ARN only is not rolled back": (
        {"t-arn": (gateway_table, [case(C, "1")])},
        [
            (
                "TransactionCanceledException",
                [
                    put(f"arn:aws:dynamodb:{REGION}:123456789012:table/t-arn", case(C, "2")),
                    check(f"arn:aws:dynamodb:{REGION}:123456789012:table/t-arn", key(C, "CASE#1"), FAILING_CHECK),
                ],
            ),
            (
                "TransactionCanceledException",
                [
                    put(f"arn:aws:dynamodb:{REGION}:123456789012:table/t-arn", case(C, "3")),
                    check("t-arn", key(C, "CASE#1"), FAILING_CHECK),
                ],
            ),
        ],
    ),
}


class BothServers(unittest.TestCase):
    """Stock and patched moto, started once per test class."""

    @classmethod
    def setUpClass(cls):
        start_servers(cls)

    def assertSame(self, stock, patched, what):
        self.assertEqual(
            patched,
            stock,
            f"{what}: the patched server differs from stock moto\n"
            f"stock:   {json.dumps(stock, indent=1, sort_keys=True, default=str)}\n"
            f"patched: {json.dumps(patched, indent=1, sort_keys=True, default=str)}",
        )


class PatchedMotoKeepsStockSemantics(BothServers):
    def run_everywhere(self, steps):
        """Runs `steps(server)` on both servers and returns both results."""
        return steps(self.stock), steps(self.patched)

    def test_transaction_scenarios(self):
        for title, (tables, transactions) in SCENARIOS.items():
            with self.subTest(title):

                def steps(server):
                    ddb = server.client("dynamodb")
                    for name, (definition, seed) in tables.items():
                        ddb.create_table(**definition(name))
                        for item in seed:
                            ddb.put_item(TableName=name, Item=item)
                    answers = [
                        outcome(lambda: ddb.transact_write_items(TransactItems=items))
                        for _, items in transactions
                    ]
                    return answers, {name: table_contents(ddb, name) for name in tables}

                (stock_answers, stock_tables), (answers, tables_after) = self.run_everywhere(steps)
                for (expected, _), stock_answer, answer in zip(transactions, stock_answers, answers):
                    self.assertSame(stock_answer, answer, f"{title}: answer")
                    self.assertEqual(
                        answer.get("error", "ok"), expected, f"{title}: unexpected answer {answer} (stock too)"
                    )
                self.assertSame(stock_tables, tables_after, f"{title}: tables afterwards")

    def test_cancellation_reasons_carry_the_old_item(self):
        # The gateway reads the existing case from the first reason (`create_case` in shared/adapters).
        def steps(server):
            ddb = server.client("dynamodb")
            ddb.create_table(**gateway_table("t-reasons"))
            ddb.put_item(TableName="t-reasons", Item=case(C, "1", status="open"))
            return outcome(
                lambda: ddb.transact_write_items(
                    TransactItems=[
                        put("t-reasons", case(C, "1"), "attribute_not_exists(PK)", all_old=True),
                        put("t-reasons", event("1")),
                    ]
                )
            )

        stock, patched = self.run_everywhere(steps)
        self.assertSame(stock, patched, "ALL_OLD reasons")
        reasons = patched.get("reasons")
        self.assertIsNotNone(reasons, f"no CancellationReasons in {patched}")
        self.assertEqual(reasons[0]["Code"], "ConditionalCheckFailed")
        self.assertEqual(reasons[0]["Item"]["status"], s("open"))
        self.assertEqual(reasons[1]["Code"], "None")

    def test_stream_records_are_rolled_back_too(self):
        def steps(server):
            ddb, streams = server.client("dynamodb"), server.client("dynamodbstreams")
            spec = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
            arn = ddb.create_table(**gateway_table("t-stream", StreamSpecification=spec))["TableDescription"][
                "LatestStreamArn"
            ]
            ddb.put_item(TableName="t-stream", Item=case(C, "1"))
            answers = [
                outcome(lambda: ddb.transact_write_items(TransactItems=items))
                for items in (
                    [put("t-stream", case(C, "2")), check("t-stream", key(C, "CASE#1"), FAILING_CHECK)],
                    [
                        update("t-stream", key(C, "CASE#1"), "SET #s = :v", {":v": s("x")}),
                        delete("t-stream", key(C, "CASE#2")),
                        put("t-stream", event("1")),
                    ],
                )
            ]
            shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
            records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
            seen = [
                {k: r["dynamodb"].get(k) for k in ("Keys", "NewImage", "OldImage", "SequenceNumber")}
                | {"eventName": r["eventName"]}
                for r in records
            ]
            return answers, seen, table_contents(ddb, "t-stream")

        stock, patched = self.run_everywhere(steps)
        self.assertSame(stock, patched, "stream records")
        self.assertEqual([r["eventName"] for r in patched[1]], ["INSERT", "MODIFY", "INSERT"])


class PatchedMotoKeepsWhatTheProjectUses(BothServers):
    def send_mail(self, server):
        ses = server.client("sesv2")
        ses.create_email_identity(EmailIdentity="app@example.net")
        ses.send_email(
            FromEmailAddress="App <app@example.net>",
            Destination={"ToAddresses": ["ops@example.com"], "CcAddresses": ["cc@example.com"]},
            Content={
                "Simple": {
                    "Subject": {"Data": "Case TKT-42 opened"},
                    "Body": {"Text": {"Data": "text"}, "Html": {"Data": "<p>TKT-42</p>"}},
                }
            },
        )
        ses.send_email(
            FromEmailAddress="app@example.net",
            Destination={"ToAddresses": ["raw@example.com"]},
            Content={"Raw": {"Data": b"Subject: raw TKT-43\r\n\r\nhello"}},
        )

    def test_ses_messages_appear_in_data_json(self):
        for server in (self.stock, self.patched):
            self.send_mail(server)
            ddb = server.client("dynamodb")  # DynamoDB objects are no longer listed (patched)
            ddb.create_table(**gateway_table("t-data"))
            ddb.transact_write_items(TransactItems=[put("t-data", case(C, "1")), put("t-data", event("1"))])

        stock, patched = self.stock.data_json(), self.patched.data_json()
        self.assertIn("ses", patched, f"data.json has no `ses` section: {sorted(patched)}")
        messages = patched["ses"].get("Message", [])
        self.assertEqual(len(messages), 1, f"expected one SES message in data.json, got {patched['ses']}")
        self.assertEqual(messages[0]["subject"], "Case TKT-42 opened")
        self.assertEqual(messages[0]["body"], "<p>TKT-42</p>")
        self.assertEqual(messages[0]["destinations"]["ToAddresses"], ["ops@example.com"])
        self.assertEqual(len(patched["ses"].get("RawMessage", [])), 1, f"raw message missing: {patched['ses']}")

        def without_ids(section):
            return {model: [{k: v for k, v in i.items() if k != "id"} for i in objs] for model, objs in section.items()}

        self.assertSame(without_ids(stock["ses"]), without_ids(patched["ses"]), "data.json `ses` section")
        self.assertEqual(sorted(stock), sorted(patched), "data.json lists other services than stock moto")
        self.assertTrue(stock["dynamodb"]["Item"], "stock moto lists DynamoDB items (did data.json change?)")
        self.assertEqual(patched["dynamodb"]["Item"], [], "the patched server still tracks DynamoDB items")
        self.assertEqual(patched["dynamodb"]["Table"], [], "the patched server still tracks DynamoDB tables")

    def test_an_include_index_pages_by_its_entries_as_dynamodb_does(self):
        """Items of 20 KB behind an INCLUDE index of a few bytes each: DynamoDB fills a 1 MB page
        with index entries (all 120 here); stock moto counts whole items (about 50 per page)."""
        table = gateway_table("t-rows")
        table["GlobalSecondaryIndexes"].append(
            {
                "IndexName": "GSI1Rows",
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["subject"]},
            }
        )
        pages = {}
        for server in (self.stock, self.patched):
            ddb = server.client("dynamodb")
            ddb.create_table(**table)
            for i in range(120):
                ddb.put_item(
                    TableName="t-rows",
                    Item={
                        "PK": {"S": f"CASE#{i:03}"},
                        "SK": {"S": "CASE"},
                        "GSI1PK": {"S": "COMPANY#c#CASES"},
                        "GSI1SK": {"S": f"{i:03}"},
                        "subject": {"S": f"case {i}"},
                        "transcript": {"S": "x" * 20_000},
                    },
                )
            page = ddb.query(
                TableName="t-rows",
                IndexName="GSI1Rows",
                KeyConditionExpression="GSI1PK = :pk",
                ExpressionAttributeValues={":pk": {"S": "COMPANY#c#CASES"}},
            )
            self.assertTrue(all("transcript" not in item for item in page["Items"]), f"{server.label}: projected")
            pages[server.label] = (len(page["Items"]), "LastEvaluatedKey" in page)
            # The table's own query still pages by whole items.
            whole = ddb.query(
                TableName="t-rows",
                IndexName="GSI1",
                KeyConditionExpression="GSI1PK = :pk",
                ExpressionAttributeValues={":pk": {"S": "COMPANY#c#CASES"}},
            )
            self.assertLess(len(whole["Items"]), 60, f"{server.label}: an ALL index pages by whole items")
        self.assertEqual(pages[self.patched.label], (120, False), "the patched server pages by index entries")
        self.assertLess(pages[self.stock.label][0], 60, f"stock moto changed its paging: {pages}")

    def test_concurrent_conditional_writes_have_one_winner(self):
        ddb = self.patched.client("dynamodb")
        ddb.create_table(**gateway_table("t-race"))
        writers, rounds = 16, 5
        clients = [self.patched.client("dynamodb") for _ in range(writers)]

        def race(write):
            results = []
            barrier = threading.Barrier(writers)

            def one(i):
                barrier.wait()
                results.append(outcome(lambda: write(clients[i])).get("error", "ok"))

            threads = [threading.Thread(target=one, args=(i,)) for i in range(writers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            return sorted(results)

        for r in range(rounds):
            item = case(C, f"put-{r}")
            results = race(
                lambda c: c.put_item(TableName="t-race", Item=item, ConditionExpression="attribute_not_exists(PK)")
            )
            self.assertEqual(
                results,
                ["ConditionalCheckFailedException"] * (writers - 1) + ["ok"],
                f"PutItem round {r}: not exactly one winner",
            )
            item = case(C, f"tx-{r}")
            results = race(
                lambda c: c.transact_write_items(
                    TransactItems=[put("t-race", item, "attribute_not_exists(PK)"), put("t-race", event(f"tx-{r}"))]
                )
            )
            self.assertEqual(
                results,
                ["TransactionCanceledException"] * (writers - 1) + ["ok"],
                f"TransactWriteItems round {r}: not exactly one winner",
            )
        count = ddb.scan(TableName="t-race", Select="COUNT")["Count"]
        self.assertEqual(count, rounds * 3, "items after the races")


if __name__ == "__main__":
    unittest.main()
