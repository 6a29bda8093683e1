"""moto_server with DynamoDB's write atomicity, and without moto's two quadratic costs.

1. moto serves requests on threads, and its DynamoDB backend checks a condition and then writes
   without a lock: two concurrent conditional writes to one key can both succeed, and two `ADD`
   counter updates can return the same number (measured: 4 and 3 rounds in 400 of 20 concurrent
   writers). Real DynamoDB never does either, and the gateway's one-case-per-call rule and ticket
   counter rely on it, so every DynamoDB write here runs under one lock.
2. moto keeps every model instance it ever created (`BaseModel.__new__`), only for the
   `/moto-api/data.json` dashboard; with 3. (the items of its table copies are such instances)
   that grew to 14.8 GB in a load run. Here only SES keeps that list: the tests read sent e-mails
   back from `data.json`'s `ses` section.
3. moto's `transact_write_items` deep-copies every table it names, for a rollback, before each
   transaction: O(table size) per case created, under the lock above. Here a transaction saves
   and restores only the items it touches (table + key), with the same outcome.
4. moto fills a Query page of a secondary index with 1 MB of whole table items and projects them
   afterwards; DynamoDB fills it with 1 MB of index entries (only the projected attributes).
   Here the page is measured as DynamoDB does, so an `INCLUDE` index pages as it will on AWS.

moto internals used here are those of 5.2.5 (infra/requirements.txt); after an upgrade, check them
again with `python -m unittest discover -s infra/tests` (it compares this server with stock moto).
"""

import copy
import functools
import sys
import threading

import moto
import moto.dynamodb.models as dynamodb_models
from moto.core.common_models import BaseModel
from moto.dynamodb.exceptions import (
    MockValidationException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend, DynamoType, Table
from moto.dynamodb.models.utilities import bytesize
from moto.server import main

if moto.__version__ != "5.2.5":
    sys.exit(f"infra/moto_server.py patches moto 5.2.5 internals, found moto {moto.__version__}")

# --- Instance tracking for data.json: SES only ---------------------------------------------------

# data.json lists `<model class>.instances_tracked` (moto/moto_api/_internal/responses.py). Other
# services' sections stay in it but are empty; their objects live as long as their backend holds them.
_TRACKED_SERVICES = ("ses",)  # sesv2 sends through the `ses` backend's Message/RawMessage


def _new(cls, *args, **kwargs):
    instance = super(BaseModel, cls).__new__(cls)
    if cls.__module__.split(".")[1] in _TRACKED_SERVICES:  # as moto names data.json's sections
        cls.instances_tracked.append(instance)
    return instance


BaseModel.__new__ = staticmethod(_new)

# --- Transactions roll back the items they touched, not copies of whole tables -------------------

_ABSENT = object()


class _CopyWithoutTables:
    """`copy` as seen by moto.dynamodb.models, where deep-copying a Table is only the transaction
    backup (the other deepcopy copies one item): returns the table itself; _snapshot saves what
    a transaction can change instead."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(x, memo=None):
        return x if isinstance(x, Table) else copy.deepcopy(x, memo)


dynamodb_models.copy = _CopyWithoutTables()


def _touched(backend, transact_items):
    """(table, hash key, range key) of each operation moto will run on a table it would back up."""
    # moto backs up only the tables named (not addressed by ARN) in the transaction...
    backed_up = set()
    for entry in transact_items:
        name = next(iter(entry.values())).get("TableName")  # as moto's own backup loop reads it
        if name in backend.tables:
            backed_up.add(id(backend.tables[name]))
    # ...and runs the first operation of each entry (a second one fails before it runs).
    touched = []
    for entry in transact_items:
        try:
            op_type, op = next(iter(entry.items()))
            table = backend.get_table(op["TableName"])
            key = op["Item"] if op_type == "Put" else op["Key"]
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        except Exception:  # moto rejects this operation before it writes anything
            continue
        if id(table) in backed_up:
            touched.append((table, hash_key, range_key))
    return touched


def _snapshot(backend, transact_items):
    """Before a transaction: each touched item (a deep copy, as an update changes it in place), or
    _ABSENT; whether its partition existed (a lookup adds an empty one); each stream's records."""
    items, streams = [], {}
    for table, hash_key, range_key in _touched(backend, transact_items):
        had_partition = hash_key in table.items  # table.items is a defaultdict: never index it here
        if range_key is None:
            before = table.items.get(hash_key, _ABSENT)
        else:
            before = table.items[hash_key].get(range_key, _ABSENT) if had_partition else _ABSENT
        if before is not _ABSENT:
            before = copy.deepcopy(before)
        items.append((table, hash_key, range_key, had_partition, before))
        if table.stream_shard is not None:
            streams[id(table.stream_shard)] = (table.stream_shard, list(table.stream_shard.items))
    return items, streams


def _restore(saved):
    # Dict order is not restored: moto sorts every scan and query by key, so it is never seen.
    items, streams = saved
    for table, hash_key, range_key, had_partition, before in items:
        if range_key is None:
            where, key = table.items, hash_key
        elif had_partition:  # a range table's partitions are never removed, only added
            where, key = table.items[hash_key], range_key
        else:
            table.items.pop(hash_key, None)
            continue
        if before is _ABSENT:
            where.pop(key, None)
        else:
            where[key] = before
    for shard, records in streams.values():
        shard.items = records


_transact_write_items = DynamoDBBackend.transact_write_items


@functools.wraps(_transact_write_items)
def _transact_restoring_touched_items(self, transact_items):
    saved = _snapshot(self, transact_items)
    try:
        return _transact_write_items(self, transact_items)
    except (TransactionCanceledException, MockValidationException) as e:
        # moto restores its backups exactly for these, except for an entry with two operations,
        # which it rejects outside its rollback, keeping the writes of the entries before it.
        if not isinstance(e, TransactWriteSingleOpException):
            _restore(saved)
        raise


DynamoDBBackend.transact_write_items = _transact_restoring_touched_items

# --- DynamoDB writes under one lock (a transaction's snapshot and restore included) --------------

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_lock = threading.RLock()


def _serialised(method):
    @functools.wraps(method)
    def locked(*args, **kwargs):
        with _lock:
            return method(*args, **kwargs)

    return locked


for name in _WRITES:
    setattr(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name)))

# --- A secondary index's page holds 1 MB of index entries, not of table items --------------------

_query_index = threading.local()
_item_size = dynamodb_models.Item.size


def _entry_size(item):
    """The size of `item` as the queried index stores it (its own size outside an index query)."""
    kept = getattr(_query_index, "attributes", None)
    if kept is None:
        return _item_size(item)
    # Item.size() over the projected attributes only, without copying the item (moto measures
    # every item of the partition, matching or not).
    return sum(bytesize(name) + value.size() for name, value in item.attrs.items() if name in kept)


def _projected_attributes(table, index_name):
    """The attribute names an INCLUDE or KEYS_ONLY index keeps; None for ALL (or no index)."""
    if not index_name:
        return None
    index = table.get_index(index_name)
    projection = index.projection or {}
    kind = projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        return None
    keys = set(index.table_key_attrs) | {k["AttributeName"] for k in index.schema}
    if kind == "INCLUDE":
        keys |= set(projection.get("NonKeyAttributes", []))
    return keys


def _query(query):
    @functools.wraps(query)
    def paged_by_index_entries(self, *args, **kwargs):
        index_name = kwargs.get("index_name", args[7] if len(args) > 7 else None)
        _query_index.attributes = _projected_attributes(self, index_name)
        try:
            return query(self, *args, **kwargs)
        finally:
            _query_index.attributes = None

    return paged_by_index_entries


dynamodb_models.Item.size = _entry_size
Table.query = _query(Table.query)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
