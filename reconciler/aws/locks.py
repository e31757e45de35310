"""The two ways the S3 state backend holds its apply lock: a DynamoDB item or an S3 object.

Both take the lock with a write that succeeds only if no lock exists (DynamoDB's
``attribute_not_exists(LockID)``, S3's ``If-None-Match: *``) and release it only while it is
still theirs. ``acquire`` answers None when the lock was taken, else who holds it (``{}`` when
the holder could not be read). botocore errors other than "held" are left to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from reconciler.aws.calls import error_code

_HELD_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict",
                         "ConditionalCheckFailedException"})
_ATTEMPTS = 3


def _holder_from(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {"id": "?", "who": "an unreadable lock"}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _acquire(create: Callable[[], object],
             holder: Callable[[], dict[str, str] | None]) -> dict[str, str] | None:
    """Create the lock with a conditional write: None when it is ours, else who holds it
    ({} when the holder let go between two calls every time we looked)."""
    for _ in range(_ATTEMPTS):  # a holder that let go between two calls: try again
        try:
            create()
            return None
        except ClientError as e:
            if error_code(e) not in _HELD_CODES:
                raise
        current = holder()
        if current is not None:
            return current
    return {}


class ObjectLock:
    """The lock as an S3 object (``key``) holding the holder's JSON."""

    def __init__(self, s3: Any, bucket: str, key: str) -> None:
        self._s3, self._bucket, self._key = s3, bucket, key

    def acquire(self, info: dict[str, str]) -> dict[str, str] | None:
        return _acquire(lambda: self._s3.put_object(
            Bucket=self._bucket, Key=self._key, IfNoneMatch="*",
            Body=json.dumps(info).encode(), ContentType="application/json"), self.holder)

    def holder(self) -> dict[str, str] | None:
        current = self._read()
        return None if current is None else current[0]

    def release(self, lock_id: str) -> bool:
        """Delete the lock if it is ``lock_id``'s; False when someone else holds it."""
        current = self._read()
        if current is None:
            return True
        holder, etag = current
        if holder.get("id") != lock_id:
            return False
        try:
            self._s3.delete_object(Bucket=self._bucket, Key=self._key, IfMatch=etag)
        except ClientError as e:
            code = error_code(e)
            if code in _HELD_CODES:
                return False
            if code in ("NotImplemented", "InvalidArgument"):  # no conditional deletes here
                self._s3.delete_object(Bucket=self._bucket, Key=self._key)
            elif code not in ("NoSuchKey", "404"):
                raise
        return True

    def _read(self) -> tuple[dict[str, str], str] | None:
        try:
            answer = self._s3.get_object(Bucket=self._bucket, Key=self._key)
        except ClientError as e:
            if error_code(e) in ("NoSuchKey", "404"):
                return None
            raise
        return _holder_from(answer["Body"].read().decode("utf-8", "replace")), answer["ETag"]


class DynamoLock:
    """The lock as a DynamoDB item keyed ``LockID = lock_key`` in ``table``."""

    def __init__(self, dynamodb: Any, table: str, lock_key: str) -> None:
        self._db, self._table = dynamodb, table
        self._key = {"LockID": {"S": lock_key}}

    def acquire(self, info: dict[str, str]) -> dict[str, str] | None:
        item = {**self._key, "ID": {"S": info["id"]}, "Info": {"S": json.dumps(info)}}
        return _acquire(lambda: self._db.put_item(
            TableName=self._table, Item=item,
            ConditionExpression="attribute_not_exists(LockID)"), self.holder)

    def holder(self) -> dict[str, str] | None:
        answer = self._db.get_item(TableName=self._table, Key=self._key, ConsistentRead=True)
        item = answer.get("Item")
        if item is None:
            return None
        return _holder_from(item.get("Info", {}).get("S", "{}"))

    def release(self, lock_id: str) -> bool:
        """Delete the item if it is ``lock_id``'s; False when someone else holds it."""
        try:
            self._db.delete_item(TableName=self._table, Key=self._key,
                                 ConditionExpression="attribute_not_exists(LockID) OR #id = :id",
                                 ExpressionAttributeNames={"#id": "ID"},
                                 ExpressionAttributeValues={":id": {"S": lock_id}})
        except ClientError as e:
            if error_code(e) in _HELD_CODES:
                return False
            raise
        return True
