#!/usr/bin/env python3
"""webhook_receiver: a test receiver for the webhook domain (DESIGN.md
"Events": POST with the envelope as the JSON body and the headers
Orderflow-Event-Id and Orderflow-Event-Type).

    webhook_receiver.py --port-file FILE --log FILE [--port N] [--fail-first K]
                        [--fail-status 503] [--reject-type TYPE --reject-status 422]

Listens on 127.0.0.1 (port N, or one the kernel picks, written to
--port-file once it listens). The first K requests are answered with
--fail-status; after them, a request whose Orderflow-Event-Type is one of
the --reject-type values gets --reject-status; every other one gets 200.
Every request appends one tab-separated line to --log, flushed at once:

    seq  status  Orderflow-Event-Id  Orderflow-Event-Type  body.event_id  Content-Type  path

(a missing header or an unreadable body shows as "-").
"""
import argparse
import http.server
import json
import os
import signal
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--fail-status", type=int, default=503)
    ap.add_argument("--reject-type", action="append", default=[])
    ap.add_argument("--reject-status", type=int, default=422)
    args = ap.parse_args()

    log = open(args.log, "a", buffering=1)
    lock = threading.Lock()
    state = {"seq": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: libcurl reuses the connection

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            try:
                body_id = json.loads(body.decode("utf-8")).get("event_id") or "-"
            except (ValueError, AttributeError):
                body_id = "-"
            eid = self.headers.get("Orderflow-Event-Id") or "-"
            etype = self.headers.get("Orderflow-Event-Type") or "-"
            with lock:
                state["seq"] += 1
                seq = state["seq"]
                if seq <= args.fail_first:
                    status = args.fail_status
                elif etype in args.reject_type:
                    status = args.reject_status
                else:
                    status = 200
                log.write("%d\t%d\t%s\t%s\t%s\t%s\t%s\n" % (
                    seq, status, eid, etype, body_id,
                    self.headers.get("Content-Type") or "-", self.path))
            reply = json.dumps({"status": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, fmt, *a):  # quiet: the log file says it all
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    finally:
        log.close()


if __name__ == "__main__":
    main()
