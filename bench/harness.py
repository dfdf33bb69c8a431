"""Shared tools of the benchmarks, the load test, the fault suite and the API fuzzing.

Everything here talks only to 127.0.0.1: Odoo servers this process starts (their pids are
kept, and only they are ever stopped or killed), the project's PostgreSQL and, for the
fault suite, a throwaway PostgreSQL cluster of its own.
"""

import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from simulator.odoo_server import sh

PGHOST = os.environ.get("PGHOST", "127.0.0.1")
PGPORT = int(os.environ.get("PGPORT", "5432"))
PGUSER = os.environ.get("PGUSER", "odoo")
PGPASSWORD = os.environ.get("PGPASSWORD", "odoo")
MODULE = "healthcare_p2p_integration"


def base_parser(doc, port):
    """The command line every harness script shares (what scripts/*.sh pass) and ``--port``."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--odoo-src", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--module", default=MODULE)
    parser.add_argument("--port", type=int, default=port)
    return parser


def connect(db, port=PGPORT):
    cnx = psycopg2.connect(host=PGHOST, port=port, user=PGUSER, password=PGPASSWORD, dbname=db)
    cnx.autocommit = True
    return cnx


def query(db, sql, params=None, port=PGPORT):
    cnx = connect(db, port)
    try:
        with cnx.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchall() if cr.description else None
    finally:
        cnx.close()


def db_exists(db, port=PGPORT):
    return bool(query("postgres", "SELECT 1 FROM pg_database WHERE datname = %s", [db], port))


def data_dir(config):
    for line in open(config, encoding="utf-8"):
        if line.split("=")[0].strip() == "data_dir":
            return line.split("=", 1)[1].strip()
    return os.path.expanduser("~/.local/share/Odoo")


def drop_db(args, db, port=PGPORT):
    env = dict(os.environ, PGPORT=str(port))
    subprocess.run(["dropdb", "--if-exists", "--force", db], env=env, check=False)
    shutil.rmtree(os.path.join(data_dir(args.config), "filestore", db), ignore_errors=True)


def clone_db(args, src, dst):
    """A copy of ``src`` (database and filestore) named ``dst``."""
    drop_db(args, dst)
    sh(["createdb", "-T", src, dst])
    guard_db(dst)
    store = os.path.join(data_dir(args.config), "filestore")
    if os.path.isdir(os.path.join(store, src)):
        shutil.copytree(os.path.join(store, src), os.path.join(store, dst))


def guard_db(db):
    """The audit log's guard in ``db``, as ``make test`` and ``make demo`` install it
    (scripts/audit_guard.sql, as the PostgreSQL superuser): a warning where that is not
    possible, since the runs measure and check everything else the same."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    scripts = os.path.join(root, "scripts")
    done = subprocess.run(
        [
            "bash",
            "-c",
            f'. "{scripts}/env.sh" && . "{scripts}/template.sh" && hc_guard_db "$1"',
            "-",
            db,
        ],
        check=False,
    )
    if done.returncode:
        print(f"[harness] WARNING: no audit guard in {db}", file=sys.stderr)


def odoo_cmd(args, db, *extra, db_port=None):
    cmd = [args.python, os.path.join(args.odoo_src, "odoo-bin"), "-c", args.config, "-d", db]
    if db_port:
        cmd.append(f"--db_port={db_port}")
    return [*cmd, *extra]


def install_db(args, db, from_template=True, modules=MODULE):
    """``db`` with the module installed: from the test template database when there is one."""
    if not db_exists(db):
        template = query(
            "postgres",
            "SELECT datname FROM pg_database WHERE datname LIKE 'hc_tmpl_%%' ORDER BY oid DESC LIMIT 1",
        )
        if from_template and template:
            clone_db(args, template[0][0], db)
        guard_db(db)
        sh(odoo_cmd(args, db, "-i", modules, "--stop-after-init", "--no-http", "--log-level=warn"))
    else:
        extra = modules.split(",", 1)[1:]
        sh(
            odoo_cmd(
                args,
                db,
                "-u",
                MODULE,
                *(["-i", extra[0]] if extra else []),
                "--stop-after-init",
                "--no-http",
                "--log-level=warn",
            )
        )


def odoo_eval(args, db, code, db_port=None):
    """Run ``code`` with ``env`` (superuser) on ``db``, committed; return what it printed as
    ``RESULT <json>``."""
    script = f"""
import json, odoo
from odoo.modules.registry import Registry
odoo.tools.config.parse_config(['-c', {args.config!r}, '--log-level=warn'] + {[f"--db_port={db_port}"] if db_port else []!r})
with Registry({db!r}).cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {{}})
    result = None
{_indent(code, 4)}
    cr.commit()
print("RESULT " + json.dumps(result, default=str))
"""
    out = sh([args.python, "-c", script], cwd=args.odoo_src)
    line = [row for row in out.stdout.splitlines() if row.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :])


def _indent(code, n):
    return "\n".join(" " * n + line for line in code.strip("\n").splitlines())


def bootstrap_connector(args, db, code="bench", db_port=None):
    """Create (or reuse) a connector allowed every document type; return a fresh API key."""
    return odoo_eval(
        args,
        db,
        f"""
connector = env['hc.connector'].search([('code', '=', {code!r})])
if not connector:
    connector = env['hc.connector'].create({{
        'name': {code!r}.title(), 'code': {code!r}, 'max_batch_documents': 5000,
        'max_attempts': 8, 'backoff_base_seconds': 1, 'backoff_max_seconds': 20,
        'allowed_doc_type_ids': [(6, 0, env['hc.document.type'].search([]).ids)],
    }})
result = connector._generate_api_key(expiration_days=2, overlap_hours=0)
""",
        db_port=db_port,
    )


def bootstrap_admin_key(args, db, login="fuzz_intadmin", db_port=None):
    """Create (or reuse) an integration administrator; return a fresh API key of theirs
    (scope ``hc_p2p``: replay and metrics), valid for a day."""
    return odoo_eval(
        args,
        db,
        f"""
import datetime
user = env['res.users'].search([('login', '=', {login!r})])
if not user:
    user = env['res.users'].create({{
        'name': 'Integration administrator ({login})', 'login': {login!r},
        'group_ids': [(6, 0, [env.ref('base.group_user').id,
                              env.ref('healthcare_p2p_integration.group_hc_integration_admin').id])],
    }})
expires = datetime.datetime.now() + datetime.timedelta(days=1)
result = env['res.users.apikeys'].with_user(user).sudo()._generate('hc_p2p', 'fuzz', expires)
""",
        db_port=db_port,
    )


class Server:
    """One Odoo server this process started (its pid and its workers' pids are ours)."""

    def __init__(self, args, db, port, workers=2, cron_threads=0, db_port=None, log=None, extra=()):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        cmd = odoo_cmd(
            args,
            db,
            f"--db-filter=^{db}$",
            f"--http-port={port}",
            f"--gevent-port={port + 1000}",
            "--http-interface=127.0.0.1",
            f"--workers={workers}",
            f"--max-cron-threads={cron_threads}",
            # HC_BENCH_LOG_LEVEL=info: the workers' life (recycling, cron jobs) in the log
            f"--log-level={os.environ.get('HC_BENCH_LOG_LEVEL', 'warn')}",
            "--limit-time-real=300",
            "--limit-time-real-cron=600",
            # HC_BENCH_LIMIT_TIME_CPU=16: lane runs end on their CPU budget often (restarts)
            *(
                [f"--limit-time-cpu={os.environ['HC_BENCH_LIMIT_TIME_CPU']}"]
                if os.environ.get("HC_BENCH_LIMIT_TIME_CPU")
                else []
            ),
            "--limit-memory-soft=4294967296",
            "--limit-memory-hard=6442450944",
            *extra,
            db_port=db_port,
        )
        self.log = open(log or os.devnull, "ab")
        self.cmd = cmd
        self.revived = 0
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)

    def revive(self):
        """Start the server again if it exited, as a service manager would (systemd's
        ``Restart=on-failure``); return whether it had to."""
        if self.proc.poll() is None:
            return False
        self.revived += 1
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=self.log)
        return True

    def wait_ready(self, timeout=120):
        import requests

        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Odoo on port {self.port} exited ({self.proc.returncode})")
            try:
                if requests.get(f"{self.base}/web/health", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Odoo did not start on port {self.port}")

    def workers(self):
        """Pids of this server's worker processes (HTTP, cron, gevent)."""
        import psutil

        try:
            return [child.pid for child in psutil.Process(self.proc.pid).children()]
        except psutil.NoSuchProcess:
            return []

    def kill_claiming_worker(self, db, db_port=PGPORT):
        """``kill -9`` a worker of this server that holds inbox messages in ``processing``
        (the claim names the worker's database session; the session's client port names
        the process); return its pid, or None when none of ours is mid-batch."""
        import psutil

        rows = query(
            db,
            """SELECT DISTINCT a.client_port FROM hc_inbox_message m
                 JOIN pg_stat_activity a ON a.pid = split_part(m.claim_token, '@', 1)::int
                WHERE m.state = 'processing'""",
            port=db_port,
        )
        ports = {row[0] for row in rows}
        for pid in self.workers():
            try:
                proc = psutil.Process(pid)
                listing = getattr(proc, "net_connections", None) or proc.connections
                local = {c.laddr.port for c in listing("tcp")}
            except psutil.Error:
                continue
            if local & ports:
                os.kill(pid, signal.SIGKILL)
                return pid
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


class PrivateCluster:
    """A throwaway PostgreSQL cluster (initdb in a temporary folder owned by ``postgres``),
    so a test can restart *its* database server without touching the shared one."""

    def __init__(self, port=5499, bindir="/usr/lib/postgresql/15/bin"):
        self.port = port
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="hc_faults_pg_")
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = os.path.join(self.dir, "data")

    def _su(self, command):
        return sh(["su", "postgres", "-c", command])

    def init(self):
        self._su(f"{self.bindir}/initdb -D {self.data} -A trust -U postgres >/dev/null")
        with open(os.path.join(self.data, "postgresql.conf"), "a", encoding="utf-8") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.dir}'\nmax_connections = 200\n"
                "shared_buffers = 256MB\nfsync = on\n"
            )
        self.start()
        # the application's role as make setup creates it: no superuser (see setup.sh)
        self._su(
            f"{self.bindir}/psql -h 127.0.0.1 -p {self.port} -U postgres -d postgres -qc "
            f"\"CREATE ROLE {PGUSER} LOGIN NOSUPERUSER CREATEDB PASSWORD '{PGPASSWORD}'\""
        )
        return self

    def start(self):
        self._su(f"{self.bindir}/pg_ctl -D {self.data} -l {self.dir}/log -w start >/dev/null")

    def stop(self, mode="fast"):
        self._su(f"{self.bindir}/pg_ctl -D {self.data} -m {mode} -w stop >/dev/null")

    def restart(self, mode="immediate"):
        """``immediate`` is a crash: no checkpoint, recovery from the WAL on start."""
        self.stop(mode)
        self.start()

    def destroy(self):
        try:
            self.stop("immediate")
        except RuntimeError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def query(self, sql, params=None, db="postgres"):
        """``sql`` as the cluster's superuser (trust on 127.0.0.1): what the application's
        role may not read, such as ``pg_stat_replication``'s lags."""
        cnx = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=db)
        cnx.autocommit = True
        try:
            with cnx.cursor() as cr:
                cr.execute(sql, params)
                return cr.fetchall() if cr.description else None
        finally:
            cnx.close()

    def standby(self, port):
        """A streaming replica of this (running) cluster on ``port``: a base backup taken
        over the replication protocol (``pg_basebackup -R``: it streams from here from then
        on), started as a hot standby that answers read-only queries."""
        replica = PrivateCluster(port=port, bindir=self.bindir)
        self._su(
            f"{self.bindir}/pg_basebackup -h 127.0.0.1 -p {self.port} -U postgres "
            f"-D {replica.data} -R -X stream -c fast"
        )
        with open(os.path.join(replica.data, "postgresql.conf"), "a", encoding="utf-8") as conf:
            conf.write(
                f"port = {replica.port}\nunix_socket_directories = '{replica.dir}'\n"
                # long reads on the replica are not cancelled by the primary's vacuum
                "hot_standby = on\nhot_standby_feedback = on\n"
            )
        replica.start()
        return replica

    def copy_db(self, args, src, dst):
        """``src`` of the shared server (and its filestore) as ``dst`` on this cluster."""
        env = dict(os.environ, PGPORT=str(self.port))
        subprocess.run(["dropdb", "--if-exists", dst], env=env, check=False)
        sh(["createdb", dst], env=env)
        dump = subprocess.Popen(["pg_dump", "-Fc", src], stdout=subprocess.PIPE)
        sh(["pg_restore", "--no-owner", "-d", dst], env=env, stdin=dump.stdout)
        dump.wait()
        store = os.path.join(data_dir(args.config), "filestore")
        shutil.rmtree(os.path.join(store, dst), ignore_errors=True)
        if os.path.isdir(os.path.join(store, src)):
            shutil.copytree(os.path.join(store, src), os.path.join(store, dst))


# ----------------------------------------------------------------------------------
# The asyncio HTTP client (aiohttp)
# ----------------------------------------------------------------------------------


def percentile(sorted_values, pct):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * pct / 100))]


def summarize(latencies_ms, errors, wall):
    lat = sorted(latencies_ms)
    return {
        "requests": len(lat) + errors,
        "ok": len(lat),
        "errors": errors,
        "seconds": wall,
        "rps": len(lat) / wall if wall else 0.0,
        "p50": statistics.median(lat) if lat else float("nan"),
        "p95": percentile(lat, 95),
        "p99": percentile(lat, 99),
    }


async def post_all(
    base,
    key,
    requests_,
    concurrency=8,
    deadline_s=600,
    retry=True,
    ok=(200, 202),
    follow=None,
):
    """POST each ``(endpoint, idempotency_key, body)``; with ``retry``, resend what was not
    accepted (connection refused, 5xx, 429) with the same key until ``deadline_s``.

    Returns ``(accepted, stats)``: ``accepted`` maps each idempotency key to the JSON
    answer that accepted it; ``stats`` has req/s and latency percentiles of accepted POSTs.
    ``follow``: server base URLs; each accepted message's status is read back at once from
    the next of them in turn (``stats["follow"]``: HTTP statuses and latencies).
    """
    import aiohttp

    queue = asyncio.Queue()
    for item in requests_:
        queue.put_nowait(item)
    accepted, latencies, statuses = {}, [], {}
    followed = {"statuses": {}, "latencies": [], "not_found": []}
    errors = 0
    start = time.monotonic()
    deadline = start + deadline_s
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def worker(session):
        nonlocal errors
        while time.monotonic() < deadline:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            endpoint, idem, body, *rest = item
            headers = {
                "Authorization": f"Bearer {key}",
                "Content-Type": rest[0] if rest else "application/json",
            }
            if idem:
                headers["Idempotency-Key"] = idem
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            t0 = time.perf_counter()
            status = None
            try:
                async with session.post(
                    f"{base}/api/hc/v1/{endpoint}", data=data, headers=headers
                ) as response:
                    status = response.status
                    answer = await response.json(content_type=None) if status in ok else None
                    if status == 404 and "json" not in response.headers.get("Content-Type", ""):
                        # Not the API's 404 (always JSON): Odoo served the request without
                        # its database (unreachable, e.g. PostgreSQL restarting), where no
                        # route of the addon exists. Transient, as the README tells clients.
                        status = "no_database"
            except (TimeoutError, aiohttp.ClientError, ValueError):
                status = "connection"
            statuses[status] = statuses.get(status, 0) + 1
            if status in ok:
                latencies.append((time.perf_counter() - t0) * 1000)
                accepted[idem] = answer
                if follow and answer and answer.get("id"):
                    await _follow(session, answer["id"])
                continue
            errors += 1
            if retry and (
                status in ("connection", "no_database") or status in (429, 500, 502, 503, 504)
            ):
                await asyncio.sleep(0.5)
                queue.put_nowait(item)

    async def _follow(session, message_id):
        target = follow[sum(followed["statuses"].values()) % len(follow)]
        t0 = time.perf_counter()
        try:
            async with session.get(
                f"{target}/api/hc/v1/messages/{message_id}",
                headers={"Authorization": f"Bearer {key}"},
            ) as response:
                await response.read()
                code = response.status
        except (TimeoutError, aiohttp.ClientError):
            code = "connection"
        followed["statuses"][str(code)] = followed["statuses"].get(str(code), 0) + 1
        if code == 200:
            followed["latencies"].append((time.perf_counter() - t0) * 1000)
        elif code == 404:
            followed["not_found"].append(message_id)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _i in range(concurrency)))
    stats = summarize(latencies, errors, time.monotonic() - start)
    if follow:
        stats["follow"] = followed
    stats["statuses"] = {str(k): v for k, v in statuses.items()}
    stats["unsent"] = queue.qsize()
    return accepted, stats


async def get_all(url, count, concurrency=8, deadline_s=120):
    """GET ``url`` ``count`` times with ``concurrency`` connections: req/s and latencies."""
    import aiohttp

    latencies, errors = [], 0
    remaining = [count]
    start = time.monotonic()
    deadline = start + deadline_s

    async def worker(session):
        nonlocal errors
        while remaining[0] > 0 and time.monotonic() < deadline:
            remaining[0] -= 1
            t0 = time.perf_counter()
            try:
                async with session.get(url) as response:
                    await response.read()
                    ok = response.status == 200
            except (TimeoutError, aiohttp.ClientError):
                ok = False
            if ok:
                latencies.append((time.perf_counter() - t0) * 1000)
            else:
                errors += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _i in range(concurrency)))
    return summarize(latencies, errors, time.monotonic() - start)


async def get_statuses(bases, key, message_ids, concurrency=8, deadline_s=300):
    """GET ``/messages/<id>`` for each id, from each of ``bases`` in turn: ``({id: (HTTP
    status, state)}, stats)`` with req/s and latencies of the answered reads."""
    import aiohttp

    queue = list(enumerate(message_ids))
    found, latencies, errors = {}, [], 0
    start = time.monotonic()
    deadline = start + deadline_s

    async def worker(session):
        nonlocal errors
        while queue and time.monotonic() < deadline:
            n, message_id = queue.pop()
            t0 = time.perf_counter()
            try:
                async with session.get(
                    f"{bases[n % len(bases)]}/api/hc/v1/messages/{message_id}",
                    headers={"Authorization": f"Bearer {key}"},
                ) as response:
                    body = await response.json(content_type=None)
                    found[message_id] = (response.status, body.get("state"))
            except (TimeoutError, aiohttp.ClientError, ValueError):
                errors += 1
                continue
            latencies.append((time.perf_counter() - t0) * 1000)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(worker(session) for _i in range(concurrency)))
    return found, summarize(latencies, errors, time.monotonic() - start)


def get_statuses_sync(*a, **kw):
    return asyncio.run(get_statuses(*a, **kw))


def get_all_sync(*a, **kw):
    return asyncio.run(get_all(*a, **kw))


def post_all_sync(*a, **kw):
    return asyncio.run(post_all(*a, **kw))


def _fmt(value):
    if value is None:
        return ""
    return f"{value:12.1f}" if isinstance(value, float) else f"{value!s:>12}"


def table(title, rows, header=("measure", "value", "reference", "ratio")):
    """Print rows ``(name, value[, reference[, ratio]])`` as the benchmarks' table."""
    print()
    print(title)
    print(f"{header[0]:52} {header[1]:>12} {header[2]:>12} {header[3]:>7}")
    for name, value, *rest in rows:
        ref = rest[0] if rest else None
        if len(rest) > 1:
            ratio = rest[1]
        else:
            ratio = value / ref if ref and value is not None else None
        ratio = "" if ratio is None else format(ratio, "7.2f")
        print(f"{name:52} {_fmt(value):>12} {_fmt(ref):>12} {ratio:>7}", flush=True)
