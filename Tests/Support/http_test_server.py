#!/usr/bin/env python3
"""A tiny HTTP(S) server for Hen Backup's tests. Python standard library only.

Listens on 127.0.0.1 on an ephemeral port and prints that port on stdout (one line).
Records every request (method, path with query, headers, body) except GET /_requests, which
answers the recorded list as JSON. Behaviour is chosen by path segments, read left to right:

  /status/<code>           answer <code> instead of 200
  /sleep/<ms>              wait <ms> milliseconds before answering
  /flaky/<n>               the first <n> requests to this exact path answer 503, later ones 200
  /bytes/<count>           answer a body of <count> bytes ("x" repeated)
  /echo                    answer the request body
  /redirect/<path...>      answer 302 with Location: /<path...>

Anything else answers 200 "ok". Options: --tls CERT KEY serves HTTPS with that certificate;
--unix PATH listens on that Unix domain socket instead (and prints 0).
Exits on SIGTERM, or when stdin closes (so it never outlives the test process that started it).
"""
import base64
import json
import os
import signal
import ssl
import sys
import threading
import time
import socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
recorded = []
flaky_counts = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path = self.path
        if self.command == "GET" and path == "/_requests":
            with lock:
                payload = json.dumps(recorded).encode()
            self.answer(200, payload, "application/json")
            return
        with lock:
            recorded.append({
                "method": self.command,
                "path": path,
                "headers": [[name, value] for name, value in self.headers.items()],
                "body": base64.b64encode(body).decode(),
            })
        status = 200
        payload = b"ok\n"
        location = None
        segments = path.split("?", 1)[0].strip("/").split("/")
        i = 0
        while i < len(segments):
            word = segments[i]
            arg = segments[i + 1] if i + 1 < len(segments) else ""
            if word == "status" and arg.isdigit():
                status = int(arg)
                payload = ("status %d\n" % status).encode()
                i += 2
            elif word == "sleep" and arg.isdigit():
                time.sleep(int(arg) / 1000.0)
                i += 2
            elif word == "flaky" and arg.isdigit():
                key = path.split("?", 1)[0]
                with lock:
                    seen = flaky_counts.get(key, 0)
                    flaky_counts[key] = seen + 1
                if seen < int(arg):
                    status = 503
                    payload = b"not yet\n"
                i += 2
            elif word == "bytes" and arg.isdigit():
                payload = b"x" * int(arg)
                i += 2
            elif word == "echo":
                payload = body
                i += 1
            elif word == "redirect":
                status = 302
                location = "/" + "/".join(segments[i + 1:])
                payload = b""
                break
            else:
                i += 1
        self.answer(status, payload, "text/plain", location)

    def answer(self, status, payload, content_type, location=None):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("X-Test-Server", "hen")
            if location:
                self.send_header("Location", location)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


def watch_stdin():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main():
    # A parent may spawn us from a thread that blocks signals (libdispatch workers do); undo that so
    # SIGTERM works.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    if len(sys.argv) == 3 and sys.argv[1] == "--unix":
        class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True
        class UnixHandler(Handler):
            def address_string(self):
                return "unix"
        server = UnixServer(sys.argv[2], UnixHandler)
        threading.Thread(target=watch_stdin, daemon=True).start()
        print(0, flush=True)
        server.serve_forever()
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=watch_stdin, daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
