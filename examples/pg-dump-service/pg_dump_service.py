#!/usr/bin/env python3
"""An HTTP endpoint that dumps a PostgreSQL database into a directory, for Hen Backup's before-hook.

    POST /dump    runs pg_dump; 200 once the dump is complete and in place, an error status otherwise
    GET  /health  200 while the service runs

A dump is written to a hidden temporary file beside the target, checked with `pg_restore --list`, flushed
to disk and only then renamed over the previous dump: the directory never holds a partial dump under the
dump's name, so a backup of it sees either the last complete dump or the new one. One dump runs at a time;
a request that arrives during one waits for it and then makes its own.

Answers are JSON: {"file": ..., "bytes": ..., "seconds": ...} on success; {"error": ...} otherwise, with
the end of pg_dump's stderr (at most 2000 characters) and these statuses:
  500  pg_dump failed (the database is down, a wrong password...) or its output did not read back
  504  pg_dump ran longer than DUMP_TIMEOUT and was stopped
  503  the service is stopping

Configuration (environment): pg_dump's own PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD or PGPASSFILE;
PGPASSWORD_FILE (a file holding the password, for Docker secrets); DUMP_DIR (default /dumps); DUMP_NAME
(default $PGDATABASE.dump); DUMP_TIMEOUT seconds (default 3600); LISTEN host:port (default 0.0.0.0:8080).
Only Python's standard library and the PostgreSQL client programs are needed (Debian 12: python3,
postgresql-client).
"""

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time

STDERR_LIMIT = 2000


def log(message):
    print(f"pg-dump-service: {message}", file=sys.stderr, flush=True)


class Dumper:
    def __init__(self, directory, name, timeout, environment):
        self.directory = directory
        self.name = name
        self.timeout = timeout
        self.environment = environment
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.current = None  # the running pg_dump, to stop on SIGTERM

    def dump(self):
        """Returns (status, answer)."""
        with self.lock:
            if self.stopping.is_set():
                return 503, {"error": "the dump service is stopping"}
            return self._dump()

    def _dump(self):
        os.makedirs(self.directory, exist_ok=True)
        target = os.path.join(self.directory, self.name)
        partial = os.path.join(self.directory, f".{self.name}.partial-{os.getpid()}")
        started = time.monotonic()
        try:
            command = ["pg_dump", "--format=custom", "--no-password", f"--file={partial}"]
            self.current = subprocess.Popen(command, env=self.environment, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                _, stderr = self.current.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self.current.terminate()
                self.current.communicate()
                return 504, {"error": f"pg_dump ran longer than {self.timeout:g}s and was stopped"}
            code = self.current.returncode
            self.current = None
            if code != 0:
                reason = f"exit status {code}" if code > 0 else f"signal {-code}"
                return 500, {"error": f"pg_dump failed ({reason}): {tail(stderr)}"}
            # pg_dump said it finished; make sure the file reads back as a whole archive.
            check = subprocess.run(["pg_restore", "--list", partial], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self.environment)
            if check.returncode != 0:
                return 500, {"error": f"the dump does not read back (pg_restore --list): {tail(check.stderr)}"}
            with open(partial, "rb") as file:
                os.fsync(file.fileno())
            os.replace(partial, target)
            directory = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
            size = os.path.getsize(target)
            seconds = round(time.monotonic() - started, 3)
            log(f"dumped to {target} ({size} bytes, {seconds}s)")
            return 200, {"file": target, "bytes": size, "seconds": seconds}
        except OSError as error:
            return 500, {"error": f"the dump could not be written: {error}"}
        finally:
            self.current = None
            try:
                os.unlink(partial)
            except FileNotFoundError:
                pass

    def stop(self):
        self.stopping.set()
        running = self.current
        if running is not None and running.poll() is None:
            running.terminate()


def tail(stderr):
    text = stderr.decode("utf-8", "replace").strip()
    return text[-STDERR_LIMIT:] if text else "(no message)"


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "pg-dump-service"
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        # A body (Hen sends none by default) is read and ignored, so the connection stays usable.
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path.split("?")[0] != "/dump":
            return self.answer(404, {"error": f"no such route: POST {self.path}; POST /dump makes a dump"})
        status, answer = self.server.dumper.dump()
        if status != 200:
            log(answer["error"])
        self.answer(status, answer)

    def do_GET(self):
        if self.path.split("?")[0] == "/health":
            return self.answer(200, {"status": "ok"})
        if self.path.split("?")[0] == "/dump":
            return self.answer(405, {"error": "use POST /dump"}, {"Allow": "POST"})
        self.answer(404, {"error": f"no such route: GET {self.path}"})

    def answer(self, status, body, headers=None):
        data = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        log(f"{self.address_string()} {format % args}")


def main():
    environment = dict(os.environ)
    password_file = environment.pop("PGPASSWORD_FILE", None)
    if password_file:
        with open(password_file, encoding="utf-8") as file:
            environment["PGPASSWORD"] = file.read().rstrip("\r\n")
    database = environment.get("PGDATABASE") or environment.get("PGUSER") or "postgres"
    directory = environment.get("DUMP_DIR", "/dumps")
    name = environment.get("DUMP_NAME") or f"{database}.dump"
    if "/" in name or name.startswith("."):
        sys.exit(f"pg-dump-service: DUMP_NAME {name!r} must be a plain file name")
    timeout = float(environment.get("DUMP_TIMEOUT", "3600"))
    host, _, port = environment.get("LISTEN", "0.0.0.0:8080").rpartition(":")
    dumper = Dumper(directory, name, timeout, environment)

    server = http.server.ThreadingHTTPServer((host.strip("[]") or "0.0.0.0", int(port)), Handler)
    server.daemon_threads = True
    server.dumper = dumper

    def stop(signum, frame):
        log(f"signal {signum}: stopping")
        dumper.stop()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A parent may start us with these blocked (the mask is inherited): the service must still stop on them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    log(f"listening on {server.server_address[0]}:{server.server_address[1]}, dumping {database} to {os.path.join(directory, name)}")
    server.serve_forever()
    server.server_close()
    # A dump in progress was told to stop; wait for it to clean up its partial file.
    with dumper.lock:
        pass


if __name__ == "__main__":
    main()
