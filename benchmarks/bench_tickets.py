"""Ticket API under load: 16 clients creating and updating tickets against gunicorn + PostgreSQL.

Creates a fresh PostgreSQL database (default kam_bench_service), migrates it, makes a service
manager with API tokens and some accounts, starts gunicorn (kam.wsgi) on a free local port, then:

1. baseline: the clients hammer GET /api/service/ping (a trivial authenticated endpoint);
2. tickets: each client opens tickets (POST /api/service/tickets) and moves its own tickets
   along (acknowledge, start, note, resolve) with the version it read, for --seconds.

Afterwards it counts the tickets in the database against the successful creates (no lost or
duplicated ticket) and prints errors, throughput, p50/p95 latency and the ratio of ticket
throughput to the baseline throughput of the same server in the same run.

    .venv/bin/python benchmarks/bench_tickets.py [--seconds 60] [--clients 16]
        [--baseline-seconds 20] [--workers 2] [--threads 4]
        [--database-url postgresql://postgres@127.0.0.1:5432/kam_bench_service]
"""

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/kam_bench_service"
NEXT = {"new": "acknowledged", "acknowledged": "in_progress", "in_progress": "resolved"}


@dataclass
class Tally:
    """What one client saw."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    conflicts: int = 0
    created: list[int] = field(default_factory=list)

    def record(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_recreate(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def setup_data(clients: int, accounts: int) -> list[tuple[str, list[int]]]:
    """Migrate; a service manager with one token per client; accounts. Returns (token, account ids)."""
    import django

    django.setup()
    from django.core.management import call_command

    from kam.customers import services as customer_services
    from kam.users.models import Role, User
    from kam.users.services import api_token_create

    call_command("migrate", verbosity=0)
    director = User.objects.create_user("bench_director", password="x", role=Role.DIRECTOR)
    manager = User.objects.create_user("bench_manager", password="x", role=Role.SERVICE_MANAGER)
    tiers = ["strategic", "key", "important", "ordinary"]
    ids = [
        customer_services.account_create(
            actor=director,
            data={"code": f"B{i:05d}", "legal_name": f"压测客户{i}有限公司", "tier": tiers[i % 4]},
        ).pk
        for i in range(accounts)
    ]
    return [(api_token_create(user=manager, name=f"bench{i}")[1], ids) for i in range(clients)]


def gunicorn_start(port: int, workers: int, threads: int, env: dict[str, str]) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "kam.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--worker-class", "gthread",
        "--log-level", "warning",
        "--timeout", "60",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health/")
            if connection.getresponse().status < 500:
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not start")


class Client:
    """One keep-alive HTTP connection with a bearer token."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        payload = json.dumps(body) if body is not None else None
        try:
            self.connection.request(method, path, body=payload, headers=self.headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # the server closed a keep-alive connection: retry once
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.connection.request(method, path, body=payload, headers=self.headers)
            response = self.connection.getresponse()
            data = response.read()
        return response.status, (json.loads(data) if data else {})


def timed(tally: Tally, kind: str, call, *args) -> tuple[int, dict]:  # noqa: ANN001
    begin = time.perf_counter()
    status, body = call(*args)
    tally.record(kind, time.perf_counter() - begin)
    return status, body


def baseline_client(port: int, token: str, stop: float, tally: Tally) -> None:
    client = Client(port, token)
    while time.monotonic() < stop:
        status, body = timed(tally, "ping", client.call, "GET", "/api/service/ping")
        if status != 200:
            tally.errors.append(f"ping {status} {body}")


def ticket_client(
    number: int, port: int, token: str, accounts: list[int], stop: float, tally: Tally
) -> None:
    rng = random.Random(number)
    client = Client(port, token)
    open_tickets: dict[int, tuple[str, int]] = {}  # id → (status, version)
    sequence = 0
    while time.monotonic() < stop:
        sequence += 1
        body = {
            "account_id": rng.choice(accounts),
            "ticket_type": rng.choice(
                ["repair", "billing", "delivery", "consultation", "complaint"]
            ),
            "priority": rng.choice(["urgent", "high", "normal", "low"]),
            "subject": f"bench-{number}-{sequence}",
            "description": "压测工单 " * rng.randint(1, 40),
        }
        status, reply = timed(tally, "create", client.call, "POST", "/api/service/tickets", body)
        if status == 201:
            tally.created.append(reply["id"])
            open_tickets[reply["id"]] = (reply["status"], reply["version"])
        else:
            tally.errors.append(f"create {status} {reply}")
        for _ in range(2):
            if not open_tickets or time.monotonic() >= stop:
                break
            ticket_id = rng.choice(list(open_tickets))
            current, version = open_tickets[ticket_id]
            if rng.random() < 0.25:
                path = f"/api/service/tickets/{ticket_id}/messages"
                status, reply = timed(
                    tally,
                    "note",
                    client.call,
                    "POST",
                    path,
                    {"body": "跟进中", "internal": True, "version": version},
                )
                if status == 201:
                    open_tickets[ticket_id] = (current, version + 1)
            else:
                path = f"/api/service/tickets/{ticket_id}/transition"
                status, reply = timed(
                    tally,
                    "transition",
                    client.call,
                    "POST",
                    path,
                    {"status": NEXT[current], "version": version},
                )
                if status == 200:
                    if reply["status"] == "resolved":
                        del open_tickets[ticket_id]
                    else:
                        open_tickets[ticket_id] = (reply["status"], reply["version"])
            if status == 409:
                tally.conflicts += 1
            elif status not in (200, 201):
                tally.errors.append(f"update {status} {reply}")


def run_phase(target, seconds: float, arguments: list[tuple]) -> tuple[list[Tally], float]:  # noqa: ANN001
    tallies = [Tally() for _ in arguments]
    stop = time.monotonic() + seconds
    threads = [
        threading.Thread(target=target, args=(*args, stop, tally))
        for args, tally in zip(arguments, tallies, strict=True)
    ]
    begin = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tallies, time.monotonic() - begin


def summary(label: str, tallies: list[Tally], elapsed: float) -> float:
    latencies: dict[str, list[float]] = {}
    for tally in tallies:
        for kind, values in tally.latencies.items():
            latencies.setdefault(kind, []).extend(values)
    every = [value for values in latencies.values() for value in values]
    throughput = len(every) / elapsed
    p95 = statistics.quantiles(every, n=100)[94] * 1000 if len(every) > 1 else 0
    errors = sum(len(tally.errors) for tally in tallies)
    print(
        f"{label}: {len(every):,} requests in {elapsed:.1f} s = {throughput:,.1f} req/s, p95 {p95:.1f} ms, errors {errors}"
    )
    for kind, values in sorted(latencies.items()):
        p50 = statistics.median(values) * 1000
        kind_p95 = statistics.quantiles(values, n=100)[94] * 1000 if len(values) > 1 else p50
        print(
            f"  {kind:<11} {len(values):>7,} req  {len(values) / elapsed:8.1f}/s  p50 {p50:7.1f} ms  p95 {kind_p95:7.1f} ms"
        )
    for tally in tallies:
        for error in tally.errors[:3]:
            print(f"  error: {error[:300]}")
    return throughput


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--baseline-seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument(
        "--database-url", default=os.environ.get("KAM_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="kam-bench-tickets-")
    env = {
        **os.environ,
        "KAM_DATABASE_URL": args.database_url,
        "KAM_DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": "kam.settings",
        "KAM_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
        "KAM_SSL_REDIRECT": "false",
        "KAM_LOG_LEVEL": "ERROR",
    }
    os.environ.update(env)
    database_recreate(args.database_url)
    clients = setup_data(args.clients, args.accounts)
    port = free_port()
    server = gunicorn_start(port, args.workers, args.threads, env)
    print(
        f"gunicorn kam.wsgi: {args.workers} workers x {args.threads} threads on 127.0.0.1:{port}, "
        f"PostgreSQL {urlparse(args.database_url).path.lstrip('/')}, {args.clients} clients"
    )
    try:
        tallies, elapsed = run_phase(
            baseline_client, args.baseline_seconds, [(port, token) for token, _ids in clients]
        )
        baseline = summary("baseline GET /api/service/ping", tallies, elapsed)
        tallies, elapsed = run_phase(
            ticket_client,
            args.seconds,
            [(n, port, token, ids) for n, (token, ids) in enumerate(clients)],
        )
        tickets = summary("tickets create+update", tallies, elapsed)
    finally:
        server.terminate()
        server.wait(timeout=30)

    from django.db.models import Count

    from kam.service.models import Ticket

    created = [ticket_id for tally in tallies for ticket_id in tally.created]
    stored = Ticket.objects.count()
    duplicated = Ticket.objects.values("subject").annotate(n=Count("pk")).filter(n__gt=1).count()
    missing = len(
        set(created) - set(Ticket.objects.filter(pk__in=created).values_list("pk", flat=True))
    )
    conflicts = sum(tally.conflicts for tally in tallies)
    errors = sum(len(tally.errors) for tally in tallies)
    print(
        f"tickets: {len(created):,} created OK, {stored:,} in the database, {missing} lost, "
        f"{duplicated} duplicated, {conflicts} version conflicts (409)"
    )
    print(f"ratio ticket throughput / ping throughput: {tickets / baseline:.2f}")
    ok = errors == 0 and missing == 0 and duplicated == 0 and stored == len(created)
    print("RESULT:", "OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
