#!/usr/bin/env python3
"""subscriptions: DESIGN.md's "Events" table as tests/spec/subscriptions.txt
writes it down, for the tests (python: import it; shell: run it).

    subscriptions.py consumers KEY     the consumers of routing key KEY, one a line
    subscriptions.py keys CONSUMER     the routing keys CONSUMER takes, one a line
    subscriptions.py count KEY         how many consumers KEY has
    subscriptions.py table             KEY<TAB>consumer consumer ... for every key
"""
import os
import sys

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "subscriptions.txt")


def table(path=SPEC):
    """{routing_key: [consumers]} in the file's order."""
    out = {}
    with open(path) as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) < 3 or words[0] in out:
                raise ValueError("%s: bad or repeated line: %s" % (path, line.strip()))
            out[words[0]] = words[2:]
    return out


def consumers(key):
    return table().get(key, [])


def keys(consumer):
    return [k for k, cs in table().items() if consumer in cs]


def main(argv):
    if len(argv) == 2 and argv[1] == "table":
        for k, cs in table().items():
            print("%s\t%s" % (k, " ".join(cs)))
    elif len(argv) == 3 and argv[1] == "consumers":
        print("\n".join(consumers(argv[2])))
    elif len(argv) == 3 and argv[1] == "keys":
        print("\n".join(keys(argv[2])))
    elif len(argv) == 3 and argv[1] == "count":
        print(len(consumers(argv[2])))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
