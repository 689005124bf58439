#!/usr/bin/env python3
"""A stand-in for systemd's notify socket: binds an AF_UNIX datagram socket at
argv[1] and appends every notification it receives, one per line, with the
time in seconds, to argv[2]. Runs until killed."""
import os
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
with open(out, "a", buffering=1) as log:
    while True:
        data = sock.recv(4096).decode("utf-8", "replace")
        for line in data.split("\n"):
            if line:
                log.write("%.3f %s\n" % (time.monotonic(), line))
