#!/usr/bin/env python3
"""check_invariants: the invariants of DESIGN.md "Events" once the queues are
drained, read from one test database (through the `mysql` client) and one
vhost (through RabbitMQ's management API).

    check_invariants.py --db DB --vhost VHOST --stock SKU=INITIAL [...]
                        [--expect-dead QUEUE=N ...] [--allow-open]

--stock names every SKU the test set and the quantity it set (the checker
cannot know it: `stock set` overwrites). --expect-dead allows N messages in
one parking lot (a test that parks one on purpose); every other
orderflow.*.dead queue must be empty. --allow-open skips "every order is
terminal" (for a check in the middle of a scenario).

Checks, in order (each printed as "ok - invariant: ..." with its counts; the
first violation prints "not ok - invariant: ..." naming the order and exits
1):
  1. no outbox row is unpublished;
  2. every other queue of the vhost is empty (drained), and every
     orderflow.*.dead queue is empty (or holds what --expect-dead says);
  3. every order is terminal: SHIPPED or CANCELLED;
  4. a CONFIRMED or SHIPPED order has a COMMITTED reservation (with its
     lines) and a COMPLETED payment of its total; a SHIPPED one a SCHEDULED
     shipment;
  5. a CANCELLED order has no HELD (or COMMITTED) reservation, no COMPLETED
     payment, and its shipment, if any, is CANCELLED;
  6. no reservation, payment, shipment or notification belongs to an
     unknown order;
  7. stock is conserved per SKU: initial = available + HELD + COMMITTED
     quantities, available >= 0, nothing oversold (the quantities of the
     CONFIRMED/SHIPPED orders are the COMMITTED ones and do not exceed the
     initial stock);
  8. one notification per (order, type), and exactly the types its events
     call for (created, confirmed, cancelled, shipped, refunded);
  9. every event_log row's causation_id is empty (order.created from a
     command, order.cancelled from the API) or the event_id of another row
     with the same correlation_id.

Environment: ORDERFLOW_STACK_DIR (var/stack: my.cnf), ORDERFLOW_MGMT_PORT,
ORDERFLOW_MGMT_USER, ORDERFLOW_MGMT_PASSWORD (tests/lib.sh sources them
from var/stack/env).
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "spec"))
import subscriptions  # noqa: E402  (tests/spec: DESIGN.md's "Events" table)

# The notification types of DESIGN.md "Database" ("created, confirmed, cancelled,
# shipped, refunded"), by the event that asks for each.
NOTIFICATION_TYPE = {
    "order.created": "created",
    "order.confirmed": "confirmed",
    "order.cancelled": "cancelled",
    "shipping.scheduled": "shipped",
    "payment.refunded": "refunded",
}
# Event type -> notification type, for the events the spec routes to the
# notification domain (which ones is the spec's table, not a copy here).
NOTIFY = {k: NOTIFICATION_TYPE[k] for k in subscriptions.keys("notification")}


class Violation(Exception):
    pass


def ok(msg):
    print("ok - invariant: %s" % msg)
    sys.stdout.flush()


def fail(msg):
    raise Violation(msg)


class Checker:
    def __init__(self, args):
        self.args = args
        top = os.environ.get("ORDERFLOW_SOURCE_DIR") or os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        stack = os.environ.get("ORDERFLOW_STACK_DIR") or os.path.join(top, "var", "stack")
        self.mycnf = os.path.join(stack, "my.cnf")

    # ---- access -----------------------------------------------------------

    def sql(self, query):
        """Rows of tab-separated columns; NULL comes back as None."""
        r = subprocess.run(["mysql", "--defaults-file=" + self.mycnf, "-N", "-B",
                            self.args.db, "-e", query],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            sys.stderr.write("check_invariants: mysql: %s: %s\n" %
                             (query[:200], r.stderr.decode(errors="replace").strip()))
            sys.exit(2)
        rows = []
        for line in r.stdout.decode("utf-8").split("\n"):
            if line == "":
                continue
            rows.append([None if c == "NULL" else c for c in line.split("\t")])
        return rows

    def mgmt(self, path):
        port = os.environ["ORDERFLOW_MGMT_PORT"]
        cred = "%s:%s" % (os.environ["ORDERFLOW_MGMT_USER"], os.environ["ORDERFLOW_MGMT_PASSWORD"])
        req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path))
        req.add_header("Authorization", "Basic " + base64.b64encode(cred.encode()).decode())
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)

    # ---- the checks -------------------------------------------------------

    def outbox(self):
        n = int(self.sql("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")[0][0])
        total = int(self.sql("SELECT COUNT(*) FROM outbox")[0][0])
        if n:
            first = self.sql("SELECT event_id, routing_key FROM outbox WHERE published_at IS NULL "
                             "ORDER BY id LIMIT 1")[0]
            fail("outbox: %d of %d rows unpublished (first: %s %s)" % (n, total, first[1], first[0]))
        ok("outbox: 0 of %d rows unpublished" % total)

    def dead(self):
        expect = {}
        for e in self.args.expect_dead:
            q, _, n = e.partition("=")
            expect[q] = int(n)
        vh = urllib.parse.quote(self.args.vhost, safe="")
        queues = self.mgmt("/api/queues/%s?columns=name,messages" % vh)
        dead = {q["name"]: q.get("messages") or 0 for q in queues
                if q["name"].startswith("orderflow.") and q["name"].endswith(".dead")}
        if not dead:
            fail("parking lots: no orderflow.*.dead queue in vhost %s" % self.args.vhost)
        busy = ["%s=%d" % (q["name"], q.get("messages") or 0) for q in queues
                if q["name"] not in dead and (q.get("messages") or 0) != 0]
        if busy:
            fail("queues not drained: %s" % ", ".join(busy))
        ok("drained: %d work and retry queues empty" % (len(queues) - len(dead)))
        for q in sorted(dead):
            want = expect.get(q, 0)
            if dead[q] != want:
                fail("parking lot %s holds %d messages, expected %d" % (q, dead[q], want))
        for q in expect:
            if q not in dead:
                fail("parking lot %s does not exist" % q)
        ok("parking lots: %d queues, %d messages, as expected (%s)" %
           (len(dead), sum(dead.values()),
            ", ".join("%s=%d" % (q, n) for q, n in sorted(expect.items())) or "all empty"))

    def load(self):
        self.orders = {r[0]: {"status": r[1], "total": int(r[2]), "confirmed_at": r[3],
                              "customer": r[4]}
                       for r in self.sql("SELECT id, status, total_cents, confirmed_at, "
                                         "customer_id FROM orders")}
        self.items = {}
        for oid, sku, qty in self.sql("SELECT order_id, sku, quantity FROM order_items"):
            self.items.setdefault(oid, {})[sku] = int(qty)
        self.resv = {r[0]: r[1] for r in self.sql("SELECT order_id, status FROM reservations")}
        self.resv_items = {}
        for oid, sku, qty in self.sql("SELECT order_id, sku, quantity FROM reservation_items"):
            self.resv_items.setdefault(oid, {})[sku] = int(qty)
        self.pay = {r[0]: (r[1], int(r[2])) for r in
                    self.sql("SELECT order_id, status, amount_cents FROM payments")}
        self.ship = {r[0]: r[1] for r in self.sql("SELECT order_id, status FROM shipments")}
        self.notes = {}
        for oid, typ, n in self.sql("SELECT order_id, type, COUNT(*) FROM notifications "
                                    "GROUP BY order_id, type"):
            self.notes.setdefault(oid, {})[typ] = int(n)
        self.events = self.sql("SELECT event_id, event_type, correlation_id, causation_id "
                               "FROM event_log")

    def stock(self):
        initial = {}
        for s in self.args.stock:
            sku, _, n = s.partition("=")
            initial[sku] = int(n)
        avail = {r[0]: int(r[1]) for r in self.sql("SELECT sku, available FROM stock")}
        held, committed, sold = {}, {}, {}
        for oid, lines in self.resv_items.items():
            st = self.resv.get(oid)
            for sku, q in lines.items():
                if st == "HELD":
                    held[sku] = held.get(sku, 0) + q
                elif st == "COMMITTED":
                    committed[sku] = committed.get(sku, 0) + q
        for oid, o in self.orders.items():
            if o["status"] in ("CONFIRMED", "SHIPPED"):
                for sku, q in self.items.get(oid, {}).items():
                    sold[sku] = sold.get(sku, 0) + q
        for sku in sorted(avail):
            if sku not in initial:
                fail("stock: SKU %s is in the catalogue but its initial quantity was not "
                     "given (--stock %s=N)" % (sku, sku))
        parts = []
        for sku in sorted(initial):
            if sku not in avail:
                fail("stock: SKU %s is not in the catalogue" % sku)
            a, h, c, s = avail[sku], held.get(sku, 0), committed.get(sku, 0), sold.get(sku, 0)
            if a < 0:
                fail("stock: %s available %d < 0" % (sku, a))
            if a + h + c != initial[sku]:
                fail("stock: %s not conserved: initial %d != available %d + held %d + "
                     "committed %d" % (sku, initial[sku], a, h, c))
            if s > initial[sku]:
                fail("stock: %s oversold: confirmed/shipped orders take %d of %d" %
                     (sku, s, initial[sku]))
            if s != c:
                who = [o for o in sorted(set(self.resv_items) | set(self.orders))
                       if (self.resv.get(o) == "COMMITTED" and sku in self.resv_items.get(o, {}))
                       != (self.orders.get(o, {}).get("status") in ("CONFIRMED", "SHIPPED")
                           and sku in self.items.get(o, {}))]
                fail("stock: %s: confirmed/shipped orders take %d but %d are committed "
                     "(order %s)" % (sku, s, c, who[0] if who else "?"))
            parts.append("%s %d = %d available + %d held + %d committed" %
                         (sku, initial[sku], a, h, c))
        ok("stock conserved, never negative, never oversold: " + "; ".join(parts))

    def terminal(self):
        by = {}
        for oid, o in self.orders.items():
            by[o["status"]] = by.get(o["status"], 0) + 1
        counts = ", ".join("%d %s" % (n, s) for s, n in sorted(by.items())) or "no orders"
        if self.args.allow_open:
            ok("orders (not required terminal): %s" % counts)
            return
        for oid in sorted(self.orders):
            st = self.orders[oid]["status"]
            if st not in ("SHIPPED", "CANCELLED"):
                fail("order %s is %s, not terminal (SHIPPED or CANCELLED)" % (oid, st))
        ok("every order terminal: %s" % counts)

    def confirmed(self):
        n = shipped = 0
        for oid in sorted(self.orders):
            o = self.orders[oid]
            if o["status"] not in ("CONFIRMED", "SHIPPED"):
                continue
            n += 1
            if self.resv.get(oid) != "COMMITTED":
                fail("order %s is %s but its reservation is %s, not COMMITTED" %
                     (oid, o["status"], self.resv.get(oid, "missing")))
            if self.resv_items.get(oid, {}) != self.items.get(oid, {}):
                fail("order %s: reservation lines %s differ from the order's %s" %
                     (oid, self.resv_items.get(oid, {}), self.items.get(oid, {})))
            p = self.pay.get(oid)
            if p is None or p[0] != "COMPLETED":
                fail("order %s is %s but its payment is %s, not COMPLETED" %
                     (oid, o["status"], p[0] if p else "missing"))
            if p[1] != o["total"]:
                fail("order %s: payment of %d cents for a total of %d" % (oid, p[1], o["total"]))
            if o["status"] == "SHIPPED":
                shipped += 1
                if self.ship.get(oid) != "SCHEDULED":
                    fail("order %s is SHIPPED but its shipment is %s" %
                         (oid, self.ship.get(oid, "missing")))
        ok("%d confirmed/shipped orders: each a COMMITTED reservation and a COMPLETED payment "
           "of its total (%d with a SCHEDULED shipment)" % (n, shipped))

    def cancelled(self):
        n = refunded = shipments = 0
        for oid in sorted(self.orders):
            if self.orders[oid]["status"] != "CANCELLED":
                continue
            n += 1
            r = self.resv.get(oid)
            if r in ("HELD", "COMMITTED"):
                fail("order %s is CANCELLED but its reservation is %s" % (oid, r))
            p = self.pay.get(oid)
            if p is not None and p[0] == "COMPLETED":
                fail("order %s is CANCELLED but its payment of %d cents is COMPLETED, "
                     "not refunded" % (oid, p[1]))
            if p is not None and p[0] == "REFUNDED":
                refunded += 1
            s = self.ship.get(oid)
            if s is not None:
                shipments += 1
                if s != "CANCELLED":
                    fail("order %s is CANCELLED but its shipment is %s" % (oid, s))
        ok("%d cancelled orders: none with a HELD/COMMITTED reservation or an unrefunded "
           "payment (%d refunded), %d shipments all CANCELLED" % (n, refunded, shipments))

    def orphans(self):
        for name, rows in (("reservation", self.resv), ("payment", self.pay),
                           ("shipment", self.ship), ("notification", self.notes)):
            for oid in sorted(rows):
                if oid not in self.orders:
                    fail("%s of unknown order %s" % (name, oid))
        ok("no reservation, payment, shipment or notification of an unknown order "
           "(%d reservations, %d payments, %d shipments)" %
           (len(self.resv), len(self.pay), len(self.ship)))

    def notifications(self):
        want = {}
        for _eid, etype, corr, _cause in self.events:
            if etype in NOTIFY:
                want.setdefault(corr, set()).add(NOTIFY[etype])
        total = 0
        for oid in sorted(set(want) | set(self.notes)):
            have = self.notes.get(oid, {})
            for typ, cnt in sorted(have.items()):
                total += cnt
                if cnt != 1:
                    fail("order %s has %d '%s' notifications" % (oid, cnt, typ))
            if set(have) != want.get(oid, set()):
                fail("order %s: notifications %s, but its events call for %s" %
                     (oid, sorted(have), sorted(want.get(oid, set()))))
        ok("one notification per (order, type): %d notifications of %d orders, each type "
           "matching an event" % (total, len(self.notes)))

    def causation(self):
        ids = {e[0]: e for e in self.events}
        roots = 0
        for eid, etype, corr, cause in sorted(self.events, key=lambda e: e[0]):
            if cause in (None, ""):
                roots += 1
                if etype not in ("order.created", "order.cancelled"):
                    fail("order %s: %s %s has no causation_id (only order.created and a "
                         "cancel from the API may)" % (corr, etype, eid))
                continue
            parent = ids.get(cause)
            if parent is None:
                fail("order %s: %s %s is caused by %s, which is not in event_log" %
                     (corr, etype, eid, cause))
            if parent[2] != corr:
                fail("order %s: %s %s is caused by %s of another correlation_id %s" %
                     (corr, etype, eid, cause, parent[2]))
            if cause == eid:
                fail("order %s: %s %s is its own cause" % (corr, etype, eid))
        ok("causation: %d events, %d born from a command, every other one caused by an "
           "event of its own correlation_id" % (len(self.events), roots))

    def run(self):
        self.outbox()
        self.dead()
        self.load()
        self.terminal()
        self.confirmed()
        self.cancelled()
        self.orphans()
        self.stock()
        self.notifications()
        self.causation()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--vhost", required=True)
    ap.add_argument("--stock", action="append", default=[], metavar="SKU=INITIAL")
    ap.add_argument("--expect-dead", action="append", default=[], metavar="QUEUE=N")
    ap.add_argument("--allow-open", action="store_true")
    args = ap.parse_args()
    for s in args.stock + args.expect_dead:
        k, eq, n = s.partition("=")
        if not k or not eq or not n.isdigit():
            ap.error("%s: want NAME=N" % s)
    try:
        Checker(args).run()
    except Violation as e:
        print("not ok - invariant: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
