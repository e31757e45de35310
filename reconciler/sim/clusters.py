"""The emulator's cluster endpoints (grid-api.md), over the SQLite store.

Each method takes what the route parsed and returns the JSON answer, or raises ``ApiError``
with the status and message Grid would send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.model import (
    CLUSTER_STATES,
    CLUSTER_TYPES,
    PHASE_DELETED,
    PROFILE_DEFAULT,
    TYPE_BYOC,
    TYPE_GLOBAL,
)
from reconciler.sim.catalog import instance_types_answer
from reconciler.sim.logs import LogFeed
from reconciler.sim.phases import Retry, Timeline, new_timeline, observe, phase_at, request_delete
from reconciler.sim.query import read_bool
from reconciler.sim.specs import SERVER_DEFAULTS, SpecError, check_spec, decode_spec
from reconciler.sim.specs import with_server_fields as _with_server_fields
from reconciler.sim.status import account_id
from reconciler.sim.store import ClusterRecord, Store, Transaction
from reconciler.sim.wire import ApiError, read_object, render_cluster

#: the shared GLOBAL cluster every Grid account sees, and the list's ``defaultCluster``
GLOBAL_CLUSTER = "grid-cloud-prod"
_GLOBAL_CREATED_AT = 1609459200.0  # 2021-01-01T00:00:00Z
_FILTERS = {"phaseIn": CLUSTER_STATES, "phaseNotIn": CLUSTER_STATES,
            "clusterTypeIn": CLUSTER_TYPES, "clusterTypeNotIn": CLUSTER_TYPES}


@dataclass(frozen=True)
class SimOptions:
    """How the emulator behaves; fixed for a server's lifetime."""

    #: the user id basic auth must carry
    user_id: str
    #: the API key basic auth must carry (secret: not in repr)
    api_key: str = field(repr=False)
    #: seconds from create to RUNNING
    create_seconds: float = 6.0
    #: seconds from a (non-forced) delete to DELETED
    delete_seconds: float = 3.0
    #: whether the store holds the GLOBAL cluster ``grid-cloud-prod``
    seed_global: bool = True
    #: polls a new cluster answers FAILED (while Grid "retries") before it turns RUNNING
    failed_polls: int = 0
    #: the Grid username ``POST /v1/auth/login`` accepts besides the user id ("": none)
    username: str = ""


class ClusterApi:
    """``/v1/core/clusters`` and below."""

    def __init__(self, store: Store, options: SimOptions, clock: Callable[[], float]) -> None:
        self._store = store
        self._options = options
        self._clock = clock

    def list_clusters(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        filters = _read_filters(query)
        now = self._clock()
        polled = self._poll(lambda tx: tx.all(), now)
        clusters = [render_cluster(record, now, phase=phase) for record, phase in polled
                    if _passes(filters, phase, record.cluster_type)]
        answer: dict[str, Any] = {"clusters": clusters}
        if self._options.seed_global:
            answer["defaultCluster"] = GLOBAL_CLUSTER
        return answer

    def get(self, cluster_id: str) -> dict[str, Any]:
        now = self._clock()
        [(record, phase)] = self._poll(lambda tx: [_existing(tx, cluster_id)], now)
        return render_cluster(record, now, phase=phase)

    def _poll(self, read: Callable[[Transaction], list[ClusterRecord]],
              now: float) -> list[tuple[ClusterRecord, str]]:
        """The records ``read`` finds with the phase a poll at ``now`` answers; a Retry spell
        counts the poll, in a write transaction taken only when one is running."""
        with self._store.transaction(write=False) as tx:
            records = read(tx)
        observed = [(r, *observe(r.timeline, r.retry, now)) for r in records]
        if all(retry == r.retry for r, _, retry in observed):
            return [(r, phase) for r, phase, _ in observed]
        with self._store.transaction() as tx:
            return [_poll(tx, record, now) for record in read(tx)]

    def read(self, cluster_id: str) -> ClusterRecord:
        """The stored cluster, without counting as a poll (404 when there is none)."""
        with self._store.transaction(write=False) as tx:
            return _existing(tx, cluster_id)

    def logs(self, cluster_id: str, query: Mapping[str, list[str]]) -> LogFeed:
        """The lifecycle log lines of a cluster (404 when there is none)."""
        self.read(cluster_id)

        def current() -> ClusterRecord | None:
            with self._store.transaction(write=False) as tx:
                return tx.get(cluster_id)

        return LogFeed(current, query)

    def create(self, body: bytes) -> dict[str, Any]:
        name, spec = _read_cluster_body(body)
        now = self._clock()
        with self._store.transaction() as tx:
            old = tx.get(name)
            if old is not None and phase_at(old.timeline, now) != PHASE_DELETED:
                being = " and is being deleted" if old.timeline.deleted_at else ""
                raise ApiError(409, f"a cluster named {name!r} already exists{being}")
            reason = tx.failure_rule(name)
            record = ClusterRecord(
                name=name, id=name, spec=self._stored_spec(spec, None),
                timeline=new_timeline(now, self._options.create_seconds, fails=reason is not None,
                                      recover_seconds=tx.recovery_rule(name)),
                reason=reason or "", retry=Retry(polls=self._options.failed_polls))
            tx.put(record)
        return render_cluster(record, now)

    def update(self, cluster_id: str, body: bytes) -> dict[str, Any]:
        name, spec = _read_cluster_body(body)
        now = self._clock()
        with self._store.transaction() as tx:
            record = _changeable(tx, cluster_id, now)
            if name != record.name:
                raise ApiError(400, f"a cluster cannot be renamed ({record.name!r} to {name!r})")
            record = replace(record, spec=self._stored_spec(spec, record.spec))
            tx.put(record)
        return render_cluster(record, now, created=False)

    def delete(self, cluster_id: str, query: Mapping[str, list[str]]) -> dict[str, Any]:
        force = read_bool(query, "force")
        now = self._clock()
        with self._store.transaction() as tx:
            record = _existing(tx, cluster_id)
            if record.cluster_type == TYPE_GLOBAL:
                raise ApiError(400, f"cluster {record.name!r} is a global cluster and cannot "
                                    "be deleted")
            timeline = request_delete(record.timeline, now, self._options.delete_seconds,
                                      force=force)
            tx.put(replace(record, timeline=timeline))
        return {}

    def instance_types(self, cluster_id: str) -> dict[str, Any]:
        with self._store.transaction(write=False) as tx:
            record = _existing(tx, cluster_id)
        if phase_at(record.timeline, self._clock()) == PHASE_DELETED:
            raise ApiError(404, f"cluster {cluster_id!r} is deleted")
        return instance_types_answer(record.spec)

    def cloud_provider_id(self, cluster_id: str) -> dict[str, Any]:
        """``{accountId}``: the cloud account the cluster runs in, from its role ARN."""
        record = self.read(cluster_id)
        if record.cluster_type == TYPE_GLOBAL:
            raise ApiError(400, f"cluster {record.name!r} is a global cluster and runs in "
                                "Grid's own cloud account, not one of yours")
        aws = record.spec.get("driver", {}).get("kubernetes", {}).get("aws", {})
        account = account_id(str(aws.get("roleArn", "")))
        if account is None:
            raise ApiError(400, f"cluster {record.name!r} has no AWS role ARN to read an "
                                "account id from")
        return {"accountId": account}

    def seed(self, specs: Mapping[str, Mapping[str, Any]], *, running: bool) -> None:
        """Store BYOC clusters directly (checked like a create), RUNNING already if asked."""
        now = self._clock()
        start = now - self._options.create_seconds if running else now
        records = [ClusterRecord(name=name, id=name, spec=self._stored_spec(
            _checked(name, spec), None), timeline=new_timeline(start, self._options.create_seconds))
            for name, spec in specs.items()]
        with self._store.transaction() as tx:
            for record in records:
                tx.put(record)

    def seed_global(self) -> None:
        """Store ``grid-cloud-prod`` unless it is there already."""
        with self._store.transaction() as tx:
            if tx.get(GLOBAL_CLUSTER) is None:
                tx.put(_global_record())

    def _stored_spec(self, spec: Mapping[str, Any],
                     previous: Mapping[str, Any] | None) -> dict[str, Any]:
        return _with_server_fields(spec, user_id=self._options.user_id, previous=previous)


def _read_cluster_body(body: bytes) -> tuple[str, dict[str, Any]]:
    data = read_object(body, allowed=("id", "name", "spec"))
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "the request body needs a 'name'")
    return name, _checked(name, data.get("spec", {}))


def _checked(name: str, spec: Any) -> dict[str, Any]:
    try:
        decoded = decode_spec(spec)
        check_spec(name, decoded)
    except SpecError as e:
        raise ApiError(400, f"invalid cluster {name!r}: {e}") from e
    return decoded


def _existing(tx: Transaction, cluster_id: str) -> ClusterRecord:
    record = tx.get(cluster_id)
    if record is None:
        raise ApiError(404, f"cluster {cluster_id!r} not found")
    return record


def _changeable(tx: Transaction, cluster_id: str, now: float) -> ClusterRecord:
    record = _existing(tx, cluster_id)
    if record.cluster_type != TYPE_BYOC:
        raise ApiError(400, f"cluster {record.name!r} is a {record.cluster_type} cluster; "
                            "only BYOC clusters can be edited")
    if phase_at(record.timeline, now) == PHASE_DELETED:
        raise ApiError(400, f"cluster {record.name!r} is deleted")
    if record.timeline.delete_requested_at is not None:
        raise ApiError(400, f"cluster {record.name!r} is being deleted and cannot be edited")
    return record


def _read_filters(query: Mapping[str, list[str]]) -> dict[str, set[str]]:
    filters: dict[str, set[str]] = {}
    for key, allowed in _FILTERS.items():
        values = set(query.get(key, []))
        unknown = sorted(values - set(allowed))
        if unknown:
            raise ApiError(400, f"{key}: unknown value {unknown[0]!r} "
                                f"(one of {', '.join(allowed)})")
        if values:
            filters[key] = values
    return filters


def _passes(filters: Mapping[str, set[str]], phase: str, cluster_type: str) -> bool:
    checks = (("phaseIn", phase, True), ("phaseNotIn", phase, False),
              ("clusterTypeIn", cluster_type, True), ("clusterTypeNotIn", cluster_type, False))
    return all((value in filters[key]) == wanted for key, value, wanted in checks
               if key in filters)


def _poll(tx: Transaction, record: ClusterRecord, now: float) -> tuple[ClusterRecord, str]:
    """The phase a list or get answers for ``record``; a Retry spell counts the poll."""
    phase, retry = observe(record.timeline, record.retry, now)
    if retry != record.retry:
        record = replace(record, retry=retry)
        tx.put(record)
    return record, phase


def _global_record() -> ClusterRecord:
    spec = {"clusterType": TYPE_GLOBAL, "performanceProfile": PROFILE_DEFAULT, **SERVER_DEFAULTS,
            "driver": {"kubernetes": {"aws": {"region": "us-east-1", "instanceTypes": [
                {"name": "t3.large"}, {"name": "g4dn.xlarge"}, {"name": "p3.2xlarge"}]}}}}
    at = _GLOBAL_CREATED_AT
    return ClusterRecord(name=GLOBAL_CLUSTER, id=GLOBAL_CLUSTER, spec=spec,
                         timeline=Timeline(created_at=at, pending_at=at, ready_at=at))
