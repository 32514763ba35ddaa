"""
Benchmark driver for the reference library, stepping==0.0.3 (Python).

The bench (bench/lib/peers/reference.ts) installs the library into a throwaway
virtualenv, copies this file next to it and runs it once per configuration:

    <venv>/bin/python reference_driver.py <config.json>

It builds the two queries with the reference's own API, generates the very same
rows as the TypeScript side (the same mulberry32 generator and seed), measures
the same things and writes a RunResult (bench/lib/types.ts) as JSON to
config["out"]. This file is ours; the library is installed, never vendored.
"""
from __future__ import annotations

import json
import math
import os
import resource
import sys
import time
from datetime import date, datetime
from typing import Any, Callable, Iterator
from uuid import UUID

import stepping as st

# ------------------------------------------------------------------ rows

MASK = 0xFFFFFFFF


def mulberry32(seed: int) -> Callable[[], float]:
    """The generator of src/examples/meterReads.ts seededRandom, bit for bit."""
    state = [seed & MASK]

    def imul(a: int, b: int) -> int:
        return (a * b) & MASK

    def random() -> float:
        state[0] = (state[0] + 0x6D2B79F5) & MASK
        t = state[0]
        t = imul(t ^ (t >> 15), t | 1)
        t = (t ^ ((t + imul(t ^ (t >> 7), t | 61)) & MASK)) & MASK
        return ((t ^ (t >> 14)) & MASK) / 4294967296

    return random


def randint(random: Callable[[], float], lo: int, hi: int) -> int:
    return lo + math.floor(random() * (hi - lo + 1))


def meter_uuid(i: int) -> UUID:
    return UUID(f"{i:08x}-b3fb-47ef-b22f-a45ba5b7b645")


# ------------------------------------------------------------------ meter reads


class User(st.Data):
    user_id: int
    name: str


class Meter(st.Data):
    meter_id: UUID
    user_id: int


class HalfHourlyMeterRead(st.Data):
    meter_id: UUID
    timestamp: datetime
    value: float


class UserMeter(User, Meter):
    ...


class UserMeterRead(User, Meter, HalfHourlyMeterRead):
    date: date


class DailyUsage(st.Data):
    user_id: int
    meter_id: UUID
    date: date
    value: float


def user_meter_of(p: st.Pair[User, Meter]) -> UserMeter:
    return UserMeter(user_id=p.left.user_id, name=p.left.name, meter_id=p.right.meter_id)


def dated(p: st.Pair[UserMeter, HalfHourlyMeterRead]) -> UserMeterRead:
    return UserMeterRead(
        user_id=p.left.user_id,
        name=p.left.name,
        meter_id=p.left.meter_id,
        timestamp=p.right.timestamp,
        value=p.right.value,
        date=p.right.timestamp.date(),
    )


def daily_usage_of(p: st.Pair[float, tuple[int, UUID, date]]) -> DailyUsage:
    user_id, meter_id, day = p.right
    return DailyUsage(user_id=user_id, meter_id=meter_id, date=day, value=p.left)


def read_value(r: UserMeterRead) -> float:
    return r.value


by_day = st.Index.pick(DailyUsage, lambda d: d.date)
daily_cache = st.Cache[DailyUsage]()


def meter_reads_query(
    users: st.ZSet[User],
    meters: st.ZSet[Meter],
    reads: st.ZSet[HalfHourlyMeterRead],
) -> st.ZSet[DailyUsage]:
    with_meters = st.join(
        users,
        meters,
        on_left=st.Index.pick(User, lambda u: u.user_id),
        on_right=st.Index.pick(Meter, lambda m: m.user_id),
    )
    user_meters = st.map(with_meters, f=user_meter_of)
    with_reads = st.join(
        user_meters,
        reads,
        on_left=st.Index.pick(UserMeter, lambda um: um.meter_id),
        on_right=st.Index.pick(HalfHourlyMeterRead, lambda r: r.meter_id),
    )
    per_read = st.map(with_reads, f=dated)
    totals = st.group_reduce_flatten(
        per_read,
        by=st.Index.pick(UserMeterRead, lambda r: (r.user_id, r.meter_id, r.date)),
        zero=float,
        pick_value=read_value,
    )
    daily = st.map(totals, f=daily_usage_of)
    _ = daily_cache[daily](lambda d: st.integrate_indexed(d, indexes=(by_day,)))
    return daily


def meter_setup(shape: str) -> tuple[list[User], list[Meter]]:
    users = [User(user_id=i, name=f"user-{i}") for i in range(1, 1001)]
    if shape == "ref":
        meters = [Meter(meter_id=meter_uuid(1), user_id=1)]
    else:
        meters = [Meter(meter_id=meter_uuid(u.user_id), user_id=u.user_id) for u in users]
    return users, meters


def meter_reads(shape: str, n: int, seed: int) -> Iterator[HalfHourlyMeterRead]:
    random = mulberry32(seed)
    for _ in range(n):
        m = 1 if shape == "ref" else randint(random, 1, 1000)
        day = randint(random, 1, 31)
        hour = randint(random, 0, 23)
        value = math.floor(random() * 10000 + 0.5) / 100
        yield HalfHourlyMeterRead(meter_id=meter_uuid(m), timestamp=datetime(2023, 1, day, hour), value=value)


def day_keys(n: int, seed: int) -> list[date]:
    random = mulberry32(seed + 1)
    return [date(2023, 1, randint(random, 0, 30) + 1) for _ in range(n)]


# ------------------------------------------------------------------ type checker


class Class(st.Data):
    identifier: str
    attrs: tuple[tuple[str, str], ...]


class Attr(st.Data):
    identifier: str
    key: str
    value: str


class A(st.Data):
    key: str
    value: "str | tuple[A, ...]"


class Resolved(st.Data):
    identifier: str
    attrs: tuple[A, ...]


def attrs_of(c: Class) -> frozenset[Attr]:
    return frozenset(Attr(identifier=c.identifier, key=k, value=v) for k, v in c.attrs)


def edge_of(a: Attr) -> st.Pair[str, str]:
    return st.Pair(a.identifier, a.value)


def no_classes() -> st.ZSetPython[Class]:
    return st.ZSetPython[Class]()


def one_class(p: st.Pair[st.Pair[str, str], Class]) -> st.ZSetPython[Class]:
    return st.ZSetPython[Class]({p.right: 1})


def resolved_of(p: st.Pair[Class, st.Pair[st.ZSetPython[Class], str] | st.Empty]) -> Resolved:
    targets: dict[str, tuple[tuple[str, str], ...]] = {}
    if not isinstance(p.right, st.Empty):
        for c, _ in p.right.left.iter():
            targets[c.identifier] = c.attrs

    def expand(kvs: tuple[tuple[str, str], ...]) -> tuple[A, ...]:
        return tuple(
            A(key=k, value=expand(targets[v])) if v in targets else A(key=k, value=v) for k, v in kvs
        )

    return Resolved(identifier=p.left.identifier, attrs=expand(p.left.attrs))


by_identifier = st.Index.pick(Resolved, lambda r: r.identifier)
resolved_cache = st.Cache[Resolved]()


def typechecker_query(classes: st.ZSet[Class]) -> st.ZSet[Resolved]:
    attrs = st.map_many(classes, f=attrs_of)
    edges = st.map(attrs, f=edge_of)
    closure = st.transitive_closure(edges)
    from_to = st.join(
        closure,
        classes,
        on_left=st.Index.pick(st.Pair[str, str], lambda p: p.right),
        on_right=st.Index.pick(Class, lambda c: c.identifier),
    )
    grouped = st.group_reduce_flatten(
        from_to,
        by=st.Index.pick(st.Pair[st.Pair[str, str], Class], lambda p: p.left.left),
        zero=no_classes,
        pick_value=one_class,
    )
    joined = st.outer_join(
        classes,
        grouped,
        on_left=st.Index.pick(Class, lambda c: c.identifier),
        on_right=st.Index.pick(st.Pair[st.ZSetPython[Class], str], lambda p: p.right),
    )
    resolved = st.map(joined, f=resolved_of)
    _ = resolved_cache[resolved](lambda r: st.integrate_indexed(r, indexes=(by_identifier,)))
    return resolved


def classes(n: int) -> Iterator[Class]:
    made = 0
    i = 0
    while made < n:
        group = [
            Class(identifier=f"one.A.{i}", attrs=(("x", "str"),)),
            Class(identifier=f"one.B.{i}", attrs=(("y", f"one.A.{i}"),)),
            Class(identifier=f"one.C.{i}", attrs=(("z", f"one.B.{i}"),)),
            Class(identifier=f"two.D.{i}", attrs=(("y", f"one.A.{i}"), ("z", "int"))),
            Class(identifier=f"two.E.{i}", attrs=(("x", "float"),)),
        ]
        for c in group:
            if made >= n:
                return
            made += 1
            yield c
        i += 1


def identifier_keys(n: int, seed: int, ingested: int) -> list[str]:
    random = mulberry32(seed + 1)
    groups = max(1, ingested // 5)
    kinds = ["one.A", "one.B", "one.C", "two.D", "two.E"]
    out = []
    for _ in range(n):
        kind = kinds[randint(random, 0, 4)]
        out.append(f"{kind}.{randint(random, 0, groups - 1)}")
    return out


# ------------------------------------------------------------------ measuring


def percentiles(ms: list[float]) -> dict[str, float]:
    s = sorted(ms)
    if not s:
        return {"p50": float("nan"), "p99": float("nan"), "n": 0}

    def p(q: float) -> float:
        return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))]

    return {"p50": round(p(50), 4), "p99": round(p(99), 4), "n": len(s)}


def batches(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for r in rows:
        batch.append(r)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def main() -> None:
    c = json.loads(open(sys.argv[1]).read())
    scenario, store_kind, n, batch, seed = c["scenario"], c["store"], c["rows"], c["batch"], c["seed"]
    if scenario == "complex":
        graph = st.compile(typechecker_query)
        cache, index = resolved_cache, by_identifier
    else:
        graph = st.compile(meter_reads_query)
        cache, index = daily_cache, by_day
    delays = len(graph.delay_vertices)

    result: dict[str, Any] = {"status": "ok", "backendUsed": "python", "delays": delays}
    sqlite_path = os.path.join(c["dir"], f"{c['id']}.sqlite")

    def run(store: Any, conn: Any) -> None:
        acts = st.actions(store, graph)
        t0 = time.perf_counter()
        if scenario != "complex":
            users, meters = meter_setup(scenario)
            for b in batches(iter(users), 1000):
                acts[0].insert(*b)
            acts[1].insert(*meters)
        result["setupSeconds"] = round(time.perf_counter() - t0, 3)

        rows = classes(n) if scenario == "complex" else meter_reads(scenario, n, seed)
        main_action = acts[0] if scenario == "complex" else acts[2]
        times: list[float] = []
        series: list[list[float]] = []
        window = max(1, n // 20)
        w_rows, w_ms, ingested, busy = 0, 0.0, 0, 0.0
        started = time.perf_counter()
        for b in batches(rows, batch):
            t = time.perf_counter()
            main_action.insert(*b)
            ms = (time.perf_counter() - t) * 1000
            times.append(ms)
            ingested += len(b)
            busy += ms
            w_rows += len(b)
            w_ms += ms
            if w_rows >= window:
                series.append([ingested, round(w_rows / w_ms * 1000)])
                w_rows, w_ms = 0, 0.0
            if time.perf_counter() - started > c["timeLimitS"]:
                result["status"] = "partial"
                result["note"] = f"stopped at the {c['timeLimitS']}s limit"
                break
        if w_rows:
            series.append([ingested, round(w_rows / w_ms * 1000)])
        result.update(
            rowsIngested=ingested,
            seconds=round(busy / 1000, 3),
            rowsPerSec=round(ingested / busy * 1000) if busy else None,
            iteration=percentiles(times),
            series=series,
        )

        keys: list[Any] = (
            identifier_keys(c["lookups"], seed, ingested) if scenario == "complex" else day_keys(c["lookups"], seed)
        )
        z = cache.zset(store)
        for k in keys[:10]:
            list(z.iter_by_index(index, frozenset((k,))))
        read_ms: list[float] = []
        got = 0
        for k in keys:
            t = time.perf_counter()
            got += len(list(z.iter_by_index(index, frozenset((k,)))))
            read_ms.append((time.perf_counter() - t) * 1000)
        result["cacheRead"] = {**percentiles(read_ms), "rowsPerRead": round(got / max(1, len(keys)), 1)}

        if store_kind == "sqlite":
            conn.commit()
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size = sum(os.path.getsize(p) for p in (sqlite_path, sqlite_path + "-wal") if os.path.exists(p))
        elif store_kind == "postgres":
            conn.commit()
            size = conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'm') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
            ).fetchone()[0]
        else:
            return
        result["bytesOnDisk"] = int(size)
        result["bytesPer100k"] = round(int(size) / max(1, ingested) * 100_000)

    if store_kind == "sqlite":
        import pathlib

        with st.connection_sqlite(pathlib.Path(sqlite_path)) as conn:
            # The same durability and checkpoint settings as our SQLite store (the reference's helper leaves the defaults).
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
            store = st.StoreSQLite.from_graph(conn, graph, create_tables=True)
            run(store, conn)
    elif store_kind == "postgres":
        with st.connection_postgres(c["dbUrl"]) as conn:
            store = st.StorePostgres.from_graph(conn, graph, create_tables=True)
            run(store, conn)
    else:
        store = st.StorePython.from_graph(graph)
        run(store, None)

    result["peakRssMB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    with open(c["out"], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
