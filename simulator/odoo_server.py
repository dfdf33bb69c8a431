"""Odoo as a subprocess, shared by the demo and ``bench/run.py``.

``OdooEnv`` names the interpreter, the Odoo source and the configuration file the
project's scripts use (``scripts/env.sh``); with it one can install the addon into a
database, run a snippet of Python inside an Odoo environment (set-up done as the
superuser, e.g. connectors and API keys) and start a server and wait until it answers.
"""

import os
import subprocess
import time
from dataclasses import dataclass

import requests


def sh(cmd, **kw):
    """Run ``cmd``; raise with its output when it fails."""
    result = subprocess.run(cmd, text=True, capture_output=True, check=False, **kw)
    if result.returncode:
        raise RuntimeError(
            f"command failed ({result.returncode}): {' '.join(cmd[:6])}...\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return result


@dataclass
class OdooEnv:
    python: str
    odoo_src: str
    config: str

    def odoo(self, db, *extra):
        """``odoo-bin`` command line for ``db`` with ``extra`` options."""
        return [
            self.python,
            os.path.join(self.odoo_src, "odoo-bin"),
            "-c",
            self.config,
            "-d",
            db,
            *extra,
        ]

    def database_exists(self, db):
        listed = sh(
            ["psql", "-d", "postgres", "-tAc", f"select 1 from pg_database where datname='{db}'"]
        )
        return "1" in listed.stdout

    def install(self, db, modules, update=False):
        """Install (or update) ``modules`` in ``db`` and stop."""
        flag = "-u" if update else "-i"
        sh(self.odoo(db, flag, modules, "--stop-after-init", "--no-http", "--log-level=warn"))

    def run_code(self, db, code, *args):
        """Run ``code`` in a superuser environment ``env`` of ``db`` (committed at the end).

        ``args`` are available to the code as ``ARGS``; returns its stdout.
        """
        wrapper = f"""
import sys
import odoo
from odoo.modules.registry import Registry
odoo.tools.config.parse_config(['-c', {self.config!r}, '--log-level=warn'])
ARGS = sys.argv[1:]
with Registry({db!r}).cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {{}})
{_indent(code)}
    cr.commit()
"""
        return sh([self.python, "-c", wrapper, *args], cwd=self.odoo_src).stdout

    def start_server(self, db, port, workers=2, cron_threads=0, log_file=None, extra=()):
        """Start Odoo on 127.0.0.1:``port`` for ``db`` only; return the process once it answers."""
        cmd = self.odoo(
            db,
            f"--db-filter=^{db}$",
            f"--http-port={port}",
            f"--workers={workers}",
            f"--max-cron-threads={cron_threads}",
            "--limit-time-real=300",
            *extra,
        )
        out = open(log_file, "ab") if log_file else subprocess.DEVNULL
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=bool(log_file)
        )
        if not wait_http(f"http://127.0.0.1:{port}/web/health", 120, proc):
            proc.kill()
            raise RuntimeError(
                f"Odoo did not answer on port {port}" + (f" (see {log_file})" if log_file else "")
            )
        return proc


def wait_http(url, seconds, proc=None):
    """Whether ``url`` answers 200 within ``seconds`` (stops early if ``proc`` died)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            if requests.get(url, timeout=2).ok:
                return True
        except requests.RequestException:
            time.sleep(0.5)  # not listening yet
            continue
        time.sleep(0.5)
    return False


def _indent(code):
    return "\n".join(
        "    " + line if line.strip() else "" for line in code.strip("\n").splitlines()
    )
