#!/usr/bin/env python3
"""saga_report: the arithmetic and the report of bench/saga.

    saga_report.py machine BUILD TOP            machine info as JSON
    saga_report.py step-ok RES I RATE           judges sustained step I; exit 0 = kept up
    saga_report.py completeness DB MYCNF SINK   every shipped saga has all its rows
    saga_report.py report RES OUT.json          assembles RES/*, writes OUT.json, prints text
    saga_report.py charts RES OUT.json PREFIX   PREFIX-latency.svg, PREFIX-timeline.svg (gnuplot)

RES holds what bench/saga measured: *.json from the C tools, *.proc
snapshots ("# epoch clk_tck <cpu line of /proc/stat>" then "pid role ticks
rss_kib"), *.samples (every 2 s: "epoch queued outbox shipped role=rss,..."),
step windows and counts, latency.tsv (microseconds, created->confirmed and
created->shipped, from the orders table); for issue 16 also burst.done and,
per paced phase and sustained step, TAG.tsv: microseconds from created_at to
CONFIRMED, SHIPPED and each hop of the saga (see hops in bench/saga). While RES/count_tables exists (the
bounded-tables phase), each sample also holds the row counts of the inbox and
the outbox.
"""
import glob
import json
import os
import platform
import re
import subprocess
import sys

# A step keeps up when it completes >= KEEP_UP of the offered rate and its
# backlog grows by no more than FLAT of the deliveries offered per second.
KEEP_UP = 0.95
FLAT = 0.01
# The bounded-tables run: a table is flat when, after the retention, its row
# count changes by no more than this fraction of the rows written per second.
FLAT_TABLES = 0.05


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(build, top):
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    env = os.environ
    rabbit = run(["curl", "-sS", "--max-time", "10", "-u",
                  "%s:%s" % (env.get("ORDERFLOW_MGMT_USER", ""), env.get("ORDERFLOW_MGMT_PASSWORD", "")),
                  "http://127.0.0.1:%s/api/overview" % env.get("ORDERFLOW_MGMT_PORT", "")])
    try:
        rabbit = json.loads(rabbit).get("rabbitmq_version", "?")
    except ValueError:
        rabbit = "?"
    maria = run(["mysql", "--defaults-file=%s/var/stack/my.cnf" % top, "-N", "-B", "-e", "SELECT VERSION()"])
    build_type = ""
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", f.read(), re.M)
            build_type = m.group(1) if m else ""
    except OSError:
        pass
    commit = run(["git", "-C", top, "rev-parse", "--short", "HEAD"])
    dirty = run(["git", "-C", top, "status", "--porcelain", "--untracked-files=no"])
    return {
        "nproc": os.cpu_count(), "cpu_model": model, "ram_gib": round(mem_kib / 1048576, 1),
        "kernel": platform.release(), "rabbitmq": rabbit, "mariadb": maria,
        "git_commit": commit + ("-dirty" if dirty else ""), "build": build,
        "build_type": build_type, "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
        "hostname": platform.node(),
    }


def read_proc(path):
    """(epoch, clk_tck, cpu_line_fields, {pid: (role, ticks, rss_kib)})"""
    procs = {}
    with open(path) as f:
        head = f.readline().split()
        for line in f:
            parts = line.split()
            if len(parts) < 4:
                continue
            pid, ticks, rss = parts[0], parts[-2], parts[-1]
            role = " ".join(parts[1:-2])
            try:
                procs[pid] = (role, int(ticks), int(rss))
            except ValueError:
                continue
    return float(head[1]), int(head[2]), [int(x) for x in head[4:]], procs


def cpu_delta(res, a, b):
    """{role: cpu seconds} between two snapshots, wall seconds, machine busy/iowait %."""
    pa, pb = os.path.join(res, a + ".proc"), os.path.join(res, b + ".proc")
    if not (os.path.exists(pa) and os.path.exists(pb)):
        return None
    ta, hz, ca, A = read_proc(pa)
    tb, _, cb, B = read_proc(pb)
    roles = {}
    for pid, (role, ticks, _) in B.items():
        before = A[pid][1] if pid in A and A[pid][0] == role else 0
        roles[role] = roles.get(role, 0.0) + (ticks - before) / hz
    d = [y - x for x, y in zip(ca, cb)]
    total = sum(d) or 1
    idle, iowait = d[3], d[4] if len(d) > 4 else 0
    return {"wall_s": round(tb - ta, 3), "cpu_s": {k: round(v, 3) for k, v in sorted(roles.items())},
            "machine_busy_pct": round(100.0 * (total - idle - iowait) / total, 1),
            "machine_iowait_pct": round(100.0 * iowait / total, 1)}


def rss(res, snap):
    p = os.path.join(res, snap + ".proc")
    if not os.path.exists(p):
        return None
    out = {}
    for role, _, kib in read_proc(p)[3].values():
        out[role] = max(out.get(role, 0), round(kib / 1024, 1))
    return out


def window(res, name):
    """(begin, end) epoch of a phase from RES/NAME.t, or None."""
    marks = {}
    try:
        with open(os.path.join(res, name + ".t")) as f:
            for line in f:
                k, v = line.split()
                marks[k] = float(v)
    except (OSError, ValueError):
        return None
    return (marks["begin"], marks["end"]) if "begin" in marks and "end" in marks else None


def samples(res, name):
    """[(t, queued, outbox, shipped, {role: rss MiB}, {queue: depth})] of RES/run.samples
    inside the window of phase NAME."""
    rows, w = [], window(res, name)
    path = os.path.join(res, "run.samples")
    if not w or not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if w[0] <= d["t"] <= w[1]:
                rows.append((d["t"], d["queued"], d["outbox"], d["shipped"],
                             {k: v / 1024 for k, v in d["rss_kib"].items()}, d["queues"]))
    return rows


def current_procs(pidfile, top, rabbit):
    """[(pid, role)]: the running orderflowd (supervisor and children), mariadbd, rabbitmq."""
    out = []
    try:
        sup = open(pidfile).read().strip()
    except OSError:
        sup = ""
    if sup and os.path.exists("/proc/" + sup):
        out.append((sup, "supervisor"))
        for c in run(["pgrep", "-P", sup]).split():
            try:
                title = open("/proc/%s/cmdline" % c).read().replace("\0", " ").strip()
            except OSError:
                continue
            out.append((c, re.sub(r" worker.*", "", re.sub(r"^orderflowd: ", "", title))))
    try:
        out.append((open(os.path.join(top, "var/stack/mysql/mariadbd.pid")).read().strip(), "mariadbd"))
    except OSError:
        pass
    if rabbit:
        out.append((rabbit, "rabbitmq"))
    return out


def find_rabbit(top):
    for pid in run(["pgrep", "-x", "beam.smp"]).split():
        try:
            # realpath: a worktree's var/stack is a symlink to the shared stack.
            if os.path.join(os.path.realpath(os.path.join(top, "var/stack")), "rabbitmq") in \
                    open("/proc/%s/cmdline" % pid).read().split("\0"):
                return pid
        except OSError:
            continue
    return None


def sample(out, vhost, mycnf, db, pidfile, top):
    """Writes one JSON line a second to OUT until SIGTERM (see start_sampler)."""
    import base64
    import signal
    import time
    import urllib.request
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    env = os.environ
    auth = base64.b64encode(("%s:%s" % (env["ORDERFLOW_MGMT_USER"], env["ORDERFLOW_MGMT_PASSWORD"])).encode()).decode()
    url = "http://127.0.0.1:%s/api/queues/%s?columns=name,messages,messages_ready" % (env["ORDERFLOW_MGMT_PORT"], vhost)
    rabbit = find_rabbit(top)
    sql = ("SELECT (SELECT COUNT(*) FROM outbox WHERE published_at IS NULL), "
           "(SELECT COUNT(*) FROM orders WHERE status = 'SHIPPED')")
    # Counting whole tables costs the database: only in the phase that asks.
    flag = os.path.join(os.path.dirname(out), "count_tables")
    sql_tables = "SELECT (SELECT COUNT(*) FROM inbox), (SELECT COUNT(*) FROM outbox)"
    with open(out, "a", buffering=1) as f:
        while True:
            t = time.time()
            try:
                req = urllib.request.Request(url, headers={"Authorization": "Basic " + auth})
                ours = [q for q in json.load(urllib.request.urlopen(req, timeout=10))
                        if q["name"].startswith("orderflow.") and not q["name"].endswith(".dead")]
                qs = {q["name"]: q.get("messages") or 0 for q in ours}
                ready = sum(q.get("messages_ready") or 0 for q in ours)
                ob, sh = run(["mysql", "--defaults-file=" + mycnf, "-N", "-B", db, "-e", sql]).split()
                tables = {}
                if os.path.exists(flag):
                    ti, to = run(["mysql", "--defaults-file=" + mycnf, "-N", "-B", db, "-e", sql_tables]).split()
                    tables = {"inbox": int(ti), "outbox": int(to)}
            except (OSError, ValueError):
                time.sleep(1)
                continue
            rss = {}
            for pid, role in current_procs(pidfile, top, rabbit):
                try:
                    with open("/proc/%s/status" % pid) as st:
                        for line in st:
                            if line.startswith("VmRSS:"):
                                rss[role] = max(rss.get(role, 0), int(line.split()[1]))
                except OSError:
                    pass
            f.write(json.dumps({"t": t, "queued": sum(qs.values()), "ready": ready, "outbox": int(ob), "shipped": int(sh),
                                "queues": {k: v for k, v in qs.items() if v}, "rss_kib": rss,
                                "tables": tables}) + "\n")
            time.sleep(max(0.0, 1.0 - (time.time() - t)))


def tables(res, dps, pps):
    """The bounded-tables phase: inbox and outbox row counts over the run. Once
    the retention (plus 10 s for the pruner's rest) has passed since the start,
    the counts must stay flat: a least-squares slope within FLAT_TABLES of the
    rows written per second, per table."""
    t = load(os.path.join(res, "tables.json"))
    w = window(res, "tables")
    if not t or not w:
        return None
    pts = []
    with open(os.path.join(res, "run.samples")) as f:
        for line in f:
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if w[0] <= d["t"] <= w[1] and d.get("tables"):
                pts.append((d["t"] - w[0], d["tables"]["inbox"], d["tables"]["outbox"]))
    out = dict(t, samples=len(pts))
    settle = t["retention_s"] + 10
    late = [p for p in pts if p[0] >= settle]
    writes = {"inbox": t["rate"] * dps, "outbox": t["rate"] * pps}
    for i, name in ((1, "inbox"), (2, "outbox")):
        vals = [p[i] for p in pts]
        s = slope([(p[0], p[i]) for p in late]) if len(late) >= 4 else None
        out[name] = {"first": vals[0] if vals else None, "max": max(vals) if vals else None,
                     "last": vals[-1] if vals else None,
                     "after_retention_min": min(p[i] for p in late) if late else None,
                     "after_retention_max": max(p[i] for p in late) if late else None,
                     "slope_rows_per_s": round(s, 2) if s is not None else None,
                     "written_rows_per_s": round(writes[name], 1),
                     "flat": s is not None and abs(s) <= FLAT_TABLES * writes[name],
                     "pruned_rows_per_s": round(t["pruned_" + name] / t["seconds"], 1)}
    return out


def deepest(rows):
    """The queue holding most messages when the backlog was largest: where a
    backlog waits is the domain that does not keep up."""
    if not rows:
        return None
    qs = max(rows, key=lambda r: r[1])[5]
    return max(qs.items(), key=lambda kv: kv[1])[0] + "=%d" % max(qs.values()) if qs else None


def slope(points):
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def step(res, i, rate):
    load_ = load(os.path.join(res, "step%s.load.json" % i), {})
    with open(os.path.join(res, "step%s.done" % i)) as f:
        placed, shipped_late, secs = f.read().split()
    secs = float(secs)
    completion = int(shipped_late) / (0.75 * secs) if secs > 0 else 0.0
    rows = samples(res, "step%s" % i)
    # Too few samples (a starved sampler) leave the growth unknown: judged on
    # the completion rate alone then, and the report says so.
    growth = slope([(t, q + o) for t, q, o, _, _, _ in rows[1:]]) if len(rows) >= 4 else None
    shape = load(os.path.join(res, "shape.json"), {})
    dps = shape.get("deliveries_per_saga") or 16
    offered = load_.get("rate") or float(rate)
    # Flat: the backlog grew by no more than FLAT of the offered deliveries
    # per second, or (short steps, where a few messages of noise make a
    # steep slope) by no more than one second of deliveries over the step.
    allowed = max(FLAT * offered * dps, offered * dps / secs if secs > 0 else 0)
    ok = completion >= KEEP_UP * offered and (growth is None or growth <= allowed)
    cpu = cpu_delta(res, "step%s.a" % i, "step%s.b" % i)
    out = {"step": int(i), "offered_rate": float(rate), "achieved_offered_rate": offered,
           "placed": int(placed), "completion_rate": round(completion, 1),
           "backlog_growth_msgs_per_s": None if growth is None else round(growth, 1),
           "samples": len(rows), "growth_allowed_msgs_per_s": round(allowed, 1),
           "backlog_max": max([q + o for _, q, o, _, _, _ in rows], default=0),
           "deepest_queue": deepest(rows),
           "intake_p99_ms": load_.get("p99_ms"), "http_errors": load_.get("http_errors", 0) + load_.get("net_errors", 0),
           "kept_up": ok, "cpu": cpu}
    with open(os.path.join(res, "step%s.json" % i), "w") as f:
        json.dump(out, f)
    return 0 if ok else 1


def completeness(db, mycnf, sink):
    def q(sql):
        return run(["mysql", "--defaults-file=" + mycnf, "-N", "-B", db, "-e", sql])
    shipped = int(q("SELECT COUNT(*) FROM orders WHERE status = 'SHIPPED'") or 0)
    orders = int(q("SELECT COUNT(*) FROM orders") or 0)
    missing_notif = int(q("SELECT COUNT(*) FROM orders o WHERE o.status = 'SHIPPED' AND "
                          "(SELECT COUNT(*) FROM notifications n WHERE n.order_id = o.id "
                          "AND n.type IN ('created', 'confirmed', 'shipped')) <> 3") or 0)
    missing_audit = int(q("SELECT COUNT(*) FROM orders o WHERE o.status = 'SHIPPED' AND "
                          "(SELECT COUNT(*) FROM event_log e WHERE e.correlation_id = o.id) < 5") or 0)
    delivered = int(q("SELECT COALESCE(SUM(count), 0) FROM webhook_stats WHERE outcome = 'DELIVERED'") or 0)
    try:
        posts = json.loads(sink).get("posts")
    except ValueError:
        posts = None
    out = {"orders": orders, "shipped": shipped, "shipped_missing_notifications": missing_notif,
           "shipped_missing_audit_rows": missing_audit, "webhook_delivered": delivered,
           "webhook_expected": 2 * shipped, "receiver_posts": posts}
    out["complete"] = (orders == shipped and missing_notif == 0 and missing_audit == 0
                       and delivered == 2 * shipped)
    print(json.dumps(out))
    return 0


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, -(-len(v) * p // 100) - 1))
    return v[int(k)]


def latency(res):
    path = os.path.join(res, "latency.tsv")
    if not os.path.exists(path):
        return None
    conf, ship = [], []
    with open(path) as f:
        for line in f:
            a, b = (line.split() + ["NULL", "NULL"])[:2]
            if a != "NULL":
                conf.append(int(a) / 1000)
            if b != "NULL":
                ship.append(int(b) / 1000)
    def summary(v):
        return {"n": len(v), "p50_ms": pct(v, 50), "p95_ms": pct(v, 95), "p99_ms": pct(v, 99),
                "max_ms": max(v) if v else None}
    return {"placed_to_confirmed": summary(conf), "placed_to_shipped": summary(ship),
            "load": load(os.path.join(res, "latency.load.json"))}


def drain(res, tag):
    d = load(os.path.join(res, tag + ".json"))
    if not d:
        return None
    rows = samples(res, tag)
    mem = {}
    d["deepest_queue"] = deepest(rows)
    for _, _, _, _, m, _ in rows:
        for k, v in m.items():
            lo, hi, first, last = mem.get(k, (v, v, v, v))
            mem[k] = (min(lo, v), max(hi, v), first, v)
    d["rss_mib"] = {k: {"min": round(a, 1), "max": round(b, 1), "first": round(c, 1), "last": round(e, 1)}
                    for k, (a, b, c, e) in sorted(mem.items())}
    cpu = cpu_delta(res, tag + ".a", tag + ".b")
    d["cpu"] = cpu
    if cpu and d["orders"]:
        d["cpu_ms_per_saga"] = {k: round(1000 * v / d["orders"], 3) for k, v in cpu["cpu_s"].items()}
    return d


def drain_rate(res, tag):
    """Adds to RES/TAG.json the drain rate between the 10th and the 90th
    percentile of the completions (RES/TAG.shipped: microseconds from the
    launch of orderflowd to each order's shipped_at, in order)."""
    path = os.path.join(res, tag + ".json")
    d = load(path)
    with open(os.path.join(res, tag + ".shipped")) as f:
        v = [int(x) / 1e6 for x in f.read().split() if x != "NULL"]
    if len(v) >= 10:
        a, b = v[len(v) // 10], v[(len(v) * 9) // 10]
        n = (len(v) * 9) // 10 - len(v) // 10
        d["rate"] = round(n / (b - a), 1) if b > a else None
        d["first_completion_s"] = round(v[0], 3)
    else:
        d["rate"] = round(len(v) / d["seconds"], 1) if d["seconds"] else None
    with open(path, "w") as f:
        json.dump(d, f)
    return 0


def saturation(cpu, nproc):
    """What was busiest, from /proc: the processes over 85% of a core, or the machine."""
    if not cpu or not cpu["wall_s"]:
        return "no CPU data"
    pcts = {k: 100 * v / cpu["wall_s"] for k, v in cpu["cpu_s"].items()}
    top = sorted(pcts.items(), key=lambda kv: -kv[1])[:4]
    hot = [k for k, v in pcts.items() if v >= 85]
    ours = sum(pcts.values()) / nproc  # % of the machine used by the stack and orderflowd
    what = ", ".join("%s %.0f%%" % kv for kv in top)
    if hot:
        verdict = "a process at one core: " + ", ".join(hot)
    elif cpu["machine_busy_pct"] >= 90 and ours < 0.6 * cpu["machine_busy_pct"]:
        verdict = ("machine CPU, mostly taken by processes outside this run (the stack and "
                   "orderflowd use %.0f%% of the machine)" % ours)
    elif cpu["machine_busy_pct"] >= 90:
        verdict = "machine CPU"
    elif cpu["machine_iowait_pct"] >= 20:
        verdict = "disk (iowait %.0f%%)" % cpu["machine_iowait_pct"]
    else:
        verdict = ("no process and not the machine: the workers wait (commits, broker round "
                   "trips); see the deepest queue")
    return "%s; busiest (%% of one core): %s; machine busy %.0f%% of %d cores, iowait %.0f%%" % (
        verdict, what, cpu["machine_busy_pct"], nproc, cpu["machine_iowait_pct"])


def burst_window_cpu(bu):
    """The burst's CPU figures over the time to its last row. The CPU is read
    before the burst and after the run has settled, a few seconds after the
    last row, when the machine is nearly idle; over that whole window the
    busy share would understate how busy the burst itself kept the machine.
    The time after the last row is counted as idle (it nearly is)."""
    cpu, t = bu.get("cpu"), bu.get("to_last_row_s")
    if not cpu or not t or not cpu.get("wall_s") or t >= cpu["wall_s"]:
        return cpu
    k = cpu["wall_s"] / t
    return dict(cpu, wall_s=t, machine_busy_pct=min(100.0, round(cpu["machine_busy_pct"] * k, 1)),
                machine_iowait_pct=min(100.0, round(cpu["machine_iowait_pct"] * k, 1)))


def fmt(v, unit="", nd=1):
    if v is None:
        return "-"
    return ("%." + str(nd) + "f%s") % (v, unit)


# ---- issue 16: burst, paced phases, hops, charts ---------------------------------------

# The saga's path as bench/saga's hops() reads it: after CONFIRMED and SHIPPED,
# for each event, "published_at processed_at" of its consumer (microseconds
# from orders.created_at). HOPS name the spans between successive points.
HOP_POINTS = ["created", "order.created published", "inventory inbox", "stock.reserved published",
              "payment inbox", "payment.completed published", "order inbox", "CONFIRMED",
              "order.confirmed published", "shipping inbox", "shipping.scheduled published",
              "order inbox (shipped)", "SHIPPED"]
HOPS = [
    ("intake commit -> order.created published (relay)", 0, 1),
    ("-> inventory: delivery, inbox row", 1, 2),
    ("inventory tx -> stock.reserved published", 2, 3),
    ("-> payment: delivery, inbox row", 3, 4),
    ("payment tx -> payment.completed published", 4, 5),
    ("-> order: delivery, inbox row", 5, 6),
    ("order tx -> CONFIRMED", 6, 7),
    ("CONFIRMED -> order.confirmed published", 7, 8),
    ("-> shipping: delivery, inbox row", 8, 9),
    ("shipping tx -> shipping.scheduled published", 9, 10),
    ("-> order: delivery, inbox row", 10, 11),
    ("order tx -> SHIPPED", 11, 12),
]
CONFIRMED_HOPS = 7  # the first seven hops add up to placed -> CONFIRMED
SERVERS = ("rabbitmq", "mariadbd")


def marks(res, name):
    out = {}
    try:
        with open(os.path.join(res, name + ".t")) as f:
            for line in f:
                k, v = line.split()
                out[k] = float(v)
    except (OSError, ValueError):
        pass
    return out


def raw_samples(res, t0, t1):
    rows, path = [], os.path.join(res, "run.samples")
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if t0 <= d["t"] <= t1:
                rows.append(d)
    return rows


def read_hops(path):
    """[(confirmed_ms, shipped_ms, [13 points in ms or None])] of a TAG.tsv."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            def ms(x):
                return None if x in ("NULL", "") else int(x) / 1000
            conf, ship = ms(cols[0]), ms(cols[1]) if len(cols) > 1 else None
            pts = [0.0]
            for c in cols[2:7]:
                pub, proc = (c.split() + ["NULL", "NULL"])[:2] if c != "NULL" else ("NULL", "NULL")
                pts += [ms(pub), ms(proc)]
            pts += [None] * (11 - len(pts))
            pts.insert(7, conf)
            pts.append(ship)
            out.append((conf, ship, pts))
    return out


def lat_summary(v):
    return {"n": len(v), "p50_ms": pct(v, 50), "p90_ms": pct(v, 90), "p95_ms": pct(v, 95), "p99_ms": pct(v, 99),
            "max_ms": max(v) if v else None}


def hop_table(rows):
    """Per hop: p50, p99 and the mean in the slowest 1% (by placed -> CONFIRMED)."""
    conf = [c for c, _, _ in rows if c is not None]
    if not conf:
        return []
    cut = pct(conf, 99)
    slow = [p for c, _, p in rows if c is not None and c >= cut]
    out = []
    for name, a, b in HOPS:
        v = [p[b] - p[a] for _, _, p in rows if p[a] is not None and p[b] is not None]
        t = [p[b] - p[a] for p in slow if p[a] is not None and p[b] is not None]
        out.append({"hop": name, "n": len(v), "p50_ms": pct(v, 50), "p99_ms": pct(v, 99),
                    "slowest_1pct_mean_ms": round(sum(t) / len(t), 2) if t else None})
    return out


def per_saga(cpu, n):
    """CPU ms per saga: per role, all, of which the servers, orderflow."""
    if not cpu or not n:
        return None
    roles = {k: round(1000 * v / n, 3) for k, v in cpu["cpu_s"].items()}
    allv = sum(roles.values())
    srv = sum(v for k, v in roles.items() if k in SERVERS)
    return {"roles": roles, "all": round(allv, 2), "servers": round(srv, 2),
            "rabbitmq": roles.get("rabbitmq"), "mariadbd": roles.get("mariadbd"), "orderflow": round(allv - srv, 2)}


def paced(res, tag, rate, dps):
    """A paced phase: latencies, hops, queues flat?, completion, CPU per saga."""
    try:
        with open(os.path.join(res, tag + ".done")) as f:
            placed, late, secs = f.read().split()
    except (OSError, ValueError):
        return None
    placed, secs = int(placed), float(secs)
    ld = load(os.path.join(res, tag + ".load.json"), {})
    offered = ld.get("rate") or float(rate)
    completion = int(late) / (0.75 * secs) if secs > 0 else 0.0
    m = marks(res, tag)
    during = raw_samples(res, m.get("begin", 0), m.get("loadend", m.get("end", 0)) + 2)
    whole = raw_samples(res, m.get("begin", 0), m.get("end", 0))
    growth = slope([(d["t"], d["queued"] + d["outbox"]) for d in during[1:]]) if len(during) >= 4 else None
    allowed = max(FLAT * offered * dps, offered * dps / secs if secs > 0 else 0)
    rows = read_hops(os.path.join(res, tag + ".tsv"))
    cpu = cpu_delta(res, tag + ".a", tag + ".b")
    return {
        "tag": tag, "offered_rate": float(rate), "achieved_offered_rate": offered, "seconds": secs,
        "placed": placed, "completion_rate": round(completion, 1),
        "backlog_growth_msgs_per_s": None if growth is None else round(growth, 1),
        "growth_allowed_msgs_per_s": round(allowed, 1), "samples": len(during),
        "max_ready": max([d.get("ready", 0) for d in whole], default=None),
        "max_backlog": max([d["queued"] + d["outbox"] for d in whole], default=None),
        "flat": completion >= KEEP_UP * offered and (growth is None or growth <= allowed),
        "placed_to_confirmed": lat_summary([c for c, _, _ in rows if c is not None]),
        "placed_to_shipped": lat_summary([s for _, s, _ in rows if s is not None]),
        "hops": hop_table(rows), "intake_p99_ms": ld.get("p99_ms"),
        "http_errors": ld.get("http_errors", 0) + ld.get("net_errors", 0),
        "cpu": cpu, "cpu_ms_per_saga": per_saga(cpu, placed)}


def burst(res):
    try:
        with open(os.path.join(res, "burst.done")) as f:
            n, to_ship, to_last = f.read().split()
    except (OSError, ValueError):
        return None
    n = int(n)
    cpu = cpu_delta(res, "burst.a", "burst.b")
    w = marks(res, "burst")
    return {"orders": n, "to_last_shipped_s": int(to_ship) / 1e6, "to_last_row_s": int(to_last) / 1e6,
            "sagas_per_s_to_last_shipped": round(n * 1e6 / int(to_ship), 1) if int(to_ship) else None,
            "sagas_per_s_to_last_row": round(n * 1e6 / int(to_last), 1) if int(to_last) else None,
            "max_ready": max([d.get("ready", 0) for d in raw_samples(res, w.get("begin", 0), w.get("end", 0))], default=None),
            "load": load(os.path.join(res, "burst.load.json")), "cpu": cpu, "cpu_ms_per_saga": per_saga(cpu, n)}


def step_latency(res, st):
    rows = read_hops(os.path.join(res, "step%d.tsv" % st["step"]))
    return {"placed_to_confirmed": lat_summary([c for c, _, _ in rows if c is not None]),
            "placed_to_shipped": lat_summary([s for _, s, _ in rows if s is not None])}


def charts(res, out_json, prefix):
    """Draws PREFIX-latency.svg (percentiles against the offered rate, from the
    sustained steps and the paced phases) and PREFIX-timeline.svg (SHIPPED/s and
    queue depth over the run, from the sampler) with gnuplot."""
    R = load(out_json)
    pts = []
    for st in R["sustained"]["steps"]:
        if st.get("latency") and st["latency"]["placed_to_confirmed"]["n"]:
            pts.append((st["achieved_offered_rate"], st["latency"], "step"))
    for ph in R.get("paced") or []:
        if ph["placed_to_confirmed"]["n"]:
            pts.append((ph["achieved_offered_rate"], ph, "paced"))
    pts.sort(key=lambda x: x[0])
    with open(os.path.join(res, "latency.dat"), "w") as f:
        f.write("# offered/s  CONFIRMED p50 p90 p99  SHIPPED p50 p90 p99  source\n")
        for r, l, src in pts:
            c, s = l["placed_to_confirmed"], l["placed_to_shipped"]
            f.write("%.1f %s %s %s %s %s %s %s\n" % (r, c["p50_ms"], c["p90_ms"], c["p99_ms"],
                                                    s["p50_ms"], s["p90_ms"], s["p99_ms"], src))
    rows = raw_samples(res, 0, float("inf"))
    t0 = rows[0]["t"] if rows else 0
    with open(os.path.join(res, "timeline.dat"), "w") as f:
        f.write("# s  shipped/s  queued  ready  outbox\n")
        for a, b in zip(rows, rows[1:]):
            dt = b["t"] - a["t"]
            rate = max(0, b["shipped"] - a["shipped"]) / dt if dt > 0 else 0
            f.write("%.1f %.1f %d %d %d\n" % (b["t"] - t0, rate, b["queued"], b.get("ready", 0), b["outbox"]))
    phases = []
    for p in glob.glob(os.path.join(res, "*.t")):
        name = os.path.basename(p)[:-2]
        m = marks(res, name)
        if "begin" in m and not name.startswith("scale"):
            phases.append((m["begin"] - t0, name))
    title = "orderflow bench/saga %s%s" % (R["params"].get("run_id", ""), " (--short)" if R["params"].get("short") else "")
    term = 'set terminal svg size 960,600 dynamic enhanced font "sans,11" background "white"\n'
    lat = os.path.join(res, "latency.dat")
    with open(os.path.join(res, "latency.gp"), "w") as f:
        f.write(term + 'set output "%s-latency.svg"\n' % prefix)
        f.write('set title "%s: placed -> CONFIRMED / SHIPPED latency against offered load"\n' % title)
        f.write('set xlabel "offered orders/s"\nset ylabel "ms (log scale)"\nset logscale y\nset grid\n'
                'set key top left\nset style data linespoints\n')
        f.write('plot "%s" u 1:2 t "CONFIRMED p50" lc 1 pt 7, "" u 1:3 t "CONFIRMED p90" lc 2 pt 7, '
                '"" u 1:4 t "CONFIRMED p99" lc 7 pt 7, "" u 1:5 t "SHIPPED p50" lc 1 dt 2 pt 6, '
                '"" u 1:6 t "SHIPPED p90" lc 2 dt 2 pt 6, "" u 1:7 t "SHIPPED p99" lc 7 dt 2 pt 6\n' % lat)
    tl = os.path.join(res, "timeline.dat")
    with open(os.path.join(res, "timeline.gp"), "w") as f:
        f.write(term + 'set output "%s-timeline.svg"\n' % prefix)
        f.write("set multiplot layout 2,1 title \"%s: throughput and queue depth over time\"\n" % title)
        f.write('set grid\nset xlabel "seconds since the sampler started"\nset key top right\n')
        for x, name in phases:
            f.write('set arrow from %.1f, graph 0 to %.1f, graph 1 nohead dt 3 lc rgb "gray"\n' % (x, x))
            f.write('set label "%s" at %.1f, graph 0.97 rotate by 90 right font ",8" tc rgb "gray30"\n' % (name, x + 1))
        f.write('set ylabel "sagas/s"\nplot "%s" u 1:2 w l lc 1 t "orders reaching SHIPPED per second"\n' % tl)
        f.write('set ylabel "messages / rows"\nplot "%s" u 1:3 w l lc 7 t "in work and retry queues", '
                '"" u 1:4 w l lc 2 t "ready", "" u 1:5 w l lc 3 t "outbox unpublished"\nunset multiplot\n' % tl)
    # A run with neither sustained steps nor paced phases (--skip) has no
    # latency to draw; gnuplot would refuse the empty range.
    for g in (("latency.gp",) if pts else ()) + ("timeline.gp",):
        r = subprocess.run(["gnuplot", os.path.join(res, g)], capture_output=True, text=True)
        if r.returncode != 0:
            print("saga_report: gnuplot %s: %s" % (g, r.stderr.strip()), file=sys.stderr)
            return 1
    return 0


def report(res, out_json):
    R = {"params": load(os.path.join(res, "params.json"), {}), "machine": load(os.path.join(res, "machine.json"), {}),
         "shape": load(os.path.join(res, "shape.json"), {})}
    nproc = R["machine"].get("nproc") or 1
    dps = R["shape"].get("deliveries_per_saga") or 16
    pps = R["shape"].get("publishes_per_saga") or 5
    cb, cd = load(os.path.join(res, "ceiling_broker.json")), load(os.path.join(res, "ceiling_db.json"))
    ceil = {}
    if cb:
        cb["sagas_per_s"] = round(min(cb["publish_rate"] / pps, cb["delivery_rate"] / dps), 1)
        ceil["broker"] = cb
    if cd:
        cd["sagas_per_s"] = round(cd["rate"] / dps, 1)
        ceil["database"] = cd
    ceiling = min([c["sagas_per_s"] for c in ceil.values()], default=None)
    ceil["sagas_per_s"] = ceiling
    R["ceiling"] = ceil
    steps = [load(p) for p in sorted(glob.glob(os.path.join(res, "step*.json")),
                                      key=lambda p: int(re.search(r"step(\d+)", p).group(1)))
             if re.search(r"step\d+\.json$", p)]
    steps = [s for s in steps if s]
    for st in steps:
        st["latency"] = step_latency(res, st)
    good = [s for s in steps if s["kept_up"]]
    best = max(good, key=lambda s: s["completion_rate"]) if good else None
    sus = {"steps": steps, "method": (
        "open-loop steps of offered load; a step keeps up when its completion rate (orders reaching "
        "SHIPPED in the last 3/4 of the step) is >= %d%% of the offered rate and the backlog (work and retry "
        "queues + unpublished outbox, sampled every second) grows by <= %d%% of the offered deliveries/s "
        "or by <= one second of offered deliveries over the whole step; "
        "the sustained figure is the best step that kept up" % (KEEP_UP * 100, FLAT * 100))}
    if best:
        sus["sagas_per_s"] = best["completion_rate"]
        sus["step_s"] = best["cpu"]["wall_s"] if best.get("cpu") else None
        if best.get("cpu"):
            n = best["completion_rate"] * best["cpu"]["wall_s"]
            sus["cpu_ms_per_saga"] = {k: round(1000 * v / n, 3) for k, v in best["cpu"]["cpu_s"].items()} if n else {}
            sus["cpu_pct"] = {k: round(100 * v / best["cpu"]["wall_s"], 1) for k, v in best["cpu"]["cpu_s"].items()}
    failed = [s for s in steps if not s["kept_up"]]
    if failed:
        sus["first_step_not_kept_up"] = failed[0]["offered_rate"]
        sus["saturation"] = saturation(failed[0].get("cpu"), nproc)
    elif best:
        sus["saturation"] = "every step kept up: the ceiling of the search was not reached (" + saturation(best.get("cpu"), nproc) + ")"
    R["sustained"] = sus
    R["latency"] = latency(res)  # the single latency phase of runs before issue 16
    R["paced"] = [ph for ph in (paced(res, "paced" + r, r, dps)
                                for r in str(R["params"].get("latency_rates", "")).split()) if ph]
    R["burst"] = burst(res)
    R["intake"] = load(os.path.join(res, "intake.json"))
    if R["intake"]:
        R["intake"]["cpu"] = cpu_delta(res, "backlog.intake.a", "backlog.intake.b")
    R["memory"] = {"rss_mib_start": rss(res, "start"), "rss_mib_end": rss(res, "end_main")}
    R["backlog"] = drain(res, "backlog")
    R["scaling"] = [drain(res, os.path.basename(p)[:-5]) for p in
                    sorted(glob.glob(os.path.join(res, "scale-*.json")), key=os.path.getmtime)
                    if re.search(r"scale-\d+-\d+-\d+\.json$", p)]
    R["completeness"] = load(os.path.join(res, "completeness.json"))
    if R["latency"]:
        R["latency"]["cpu"] = cpu_delta(res, "latency.a", "latency.b")
    R["tables"] = tables(res, dps, pps)
    R["targets"] = targets(R, nproc)
    with open(out_json, "w") as f:
        json.dump(R, f, indent=1, sort_keys=True)
    text(R, nproc)
    return 0


def targets(R, nproc):
    """The issue's targets: [{what, target, measured, met, saturates}]."""
    out = []

    def add(what, target, measured, met, cpu=None, why=None):
        row = {"what": what, "target": target, "measured": measured, "met": met}
        if met is False:
            row["saturates"] = why or saturation(cpu, nproc)
        out.append(row)

    su = R["sustained"]
    if su["steps"]:
        failed = [s for s in su["steps"] if not s["kept_up"]]
        cpu = (failed[0] if failed else su["steps"][-1]).get("cpu")
        v = su.get("sagas_per_s")
        add("sustained sagas/s, queues flat", ">= 200", fmt(v), bool(v and v >= 200), cpu,
            su.get("saturation"))
    bu = R.get("burst")
    if bu:
        v = bu["sagas_per_s_to_last_row"]
        why = "over the %.1f s to the last row: %s" % (bu["to_last_row_s"], saturation(burst_window_cpu(bu), nproc))
        add("burst of %d: sagas/s to the last row" % bu["orders"], ">= 250", fmt(v), bool(v and v >= 250), bu["cpu"], why)
        c = bu["cpu_ms_per_saga"]
        if c:
            add("CPU ms per saga in the burst, every process", "<= 8", fmt(c["all"], nd=2), c["all"] <= 8, bu["cpu"], why)
    for ph in R.get("paced") or []:
        c, s = ph["placed_to_confirmed"], ph["placed_to_shipped"]
        r = "%.0f/s" % ph["offered_rate"]
        why = None if ph["flat"] else "the queues did not stay flat at %s: the latencies are queueing; %s" % (
            r, saturation(ph["cpu"], nproc))
        for name, v, lim in (("CONFIRMED p50", c["p50_ms"], 10), ("CONFIRMED p99", c["p99_ms"], 40),
                             ("SHIPPED p50", s["p50_ms"], 20), ("SHIPPED p99", s["p99_ms"], 80)):
            add("%s: placed->%s ms" % (r, name), "<= %d" % lim, fmt(v), v is not None and v <= lim, ph["cpu"], why)
        cc = ph["cpu_ms_per_saga"]
        if cc and ph["offered_rate"] == 100:
            add("%s: CPU ms per saga, every process" % r, "<= 10", fmt(cc["all"], nd=2), cc["all"] <= 10, ph["cpu"])
    la = R["latency"]
    if la:
        c, s = la["placed_to_confirmed"], la["placed_to_shipped"]
        why = None
        cap = su.get("sagas_per_s") or (R["backlog"] or {}).get("rate")
        if cap and cap < R["params"].get("latency_rate", 100):
            why = ("the paced load (%s/s) is above what the system did in this run (%s/s): the latencies are "
                   "queueing; " % (R["params"].get("latency_rate"), fmt(cap))) + saturation(la.get("cpu"), nproc)
        for name, v, lim in (("placed->CONFIRMED p50 ms", c["p50_ms"], 15), ("placed->CONFIRMED p99 ms", c["p99_ms"], 50),
                             ("placed->SHIPPED p99 ms", s["p99_ms"], 100)):
            add(name, "<= %d" % lim, fmt(v), v is not None and v <= lim, la.get("cpu"), why)
    it = R["intake"]
    if it:
        add("intake POST/s", ">= 2000", fmt(it["rate"], nd=0), it["rate"] >= 2000, it.get("cpu"))
        add("intake p99 ms", "<= 50", fmt(it["p99_ms"]), it["p99_ms"] is not None and it["p99_ms"] <= 50, it.get("cpu"))
    m = R["memory"]
    if m.get("rss_mib_start") and m.get("rss_mib_end"):
        a, b = m["rss_mib_start"], m["rss_mib_end"]
        workers = [k for k in b if k not in ("supervisor", "mariadbd", "rabbitmq")]
        worst = max(workers, key=lambda k: b[k]) if workers else None
        if worst:
            grow = max(b[k] - a.get(k, b[k]) for k in workers)
            add("worker RSS MiB (max; growth start->end)", "<= 16, flat",
                "%.1f (%s); +%.1f" % (b[worst], worst, grow), b[worst] <= 16 and grow <= 2,
                why="memory: largest %s %.1f MiB, growth %.1f MiB" % (worst, b[worst], grow))
        if "supervisor" in b:
            add("supervisor RSS MiB", "<= 8", fmt(b["supervisor"]), b["supervisor"] <= 8,
                why="memory: supervisor %.1f MiB" % b["supervisor"])
    bl = R["backlog"]
    if bl and bl.get("rate"):
        v = su.get("sagas_per_s")
        add("backlog drain sagas/s", ">= sustained (%s)" % fmt(v), fmt(bl["rate"]),
            bool(v is None or bl["rate"] >= 0.95 * v), bl.get("cpu"))
        grow = max([r["max"] - r["first"] for k, r in bl["rss_mib"].items()
                    if k not in ("mariadbd", "rabbitmq")], default=0)
        add("memory while draining (growth MiB, orderflowd)", "flat (<= 2)", "+%.1f" % grow, grow <= 2,
            why="memory grows while draining")
    return out


def ratio(v, c):
    return "%5.0f%% of ceiling" % (100 * v / c) if v and c else ""


def text(R, nproc):
    m, p = R["machine"], R["params"]
    print("orderflow saga benchmark  %s%s" % (p.get("run_id", ""), "  (--short)" if p.get("short") else ""))
    print("machine: %s cores %s, %s GiB, kernel %s, RabbitMQ %s, MariaDB %s" % (
        m.get("nproc"), m.get("cpu_model"), m.get("ram_gib"), m.get("kernel"), m.get("rabbitmq"), m.get("mariadb")))
    print("build: %s (%s), commit %s; load average at start %s; wall %s s" % (
        m.get("build"), m.get("build_type") or "?", m.get("git_commit"), " ".join(m.get("loadavg_at_start", [])),
        p.get("wall_s")))
    s = R["shape"]
    print("saga shape (warm-up): %s events, %s publishes, %s deliveries per saga, %s bytes per event" % (
        s.get("events_per_saga"), s.get("publishes_per_saga"), s.get("deliveries_per_saga"), s.get("avg_event_bytes")))
    print("config: %s worker(s) per domain, prefetch %s, relay batch %s, %s relay(s), %s queues, relay.grace_ms %s, audit and notification linger_ms %s, audit log_from %s\n" % (p.get("workers"), p.get("prefetch"), p.get("batch"), p.get("relays", 1), p.get("queue_type", "quorum"), p.get("grace_ms", 0), p.get("linger_ms", "default"), p.get("log_from", "default")))
    c = R["ceiling"]
    ceiling = c.get("sagas_per_s")
    print("CEILING (same run)")
    if "broker" in c:
        b = c["broker"]
        print("  broker   %7.0f publishes/s confirmed, %7.0f deliveries/s acked (%d msgs x %d B, %d %s queues) = %6.1f sagas/s" % (
            b["publish_rate"], b["delivery_rate"], b["messages"], b["size"], b["queues"], b["queue_type"], b["sagas_per_s"]))
    if "database" in c:
        d = c["database"]
        print("  database %7.0f tx/s (inbox + effect + outbox, %d connections, %d tx)          = %6.1f sagas/s" % (
            d["rate"], d["threads"], d["transactions"], d["sagas_per_s"]))
    print("")
    su = R["sustained"]
    print("SUSTAINED (target >= 200 sagas/s, queues flat)")
    for st in su["steps"]:
        g = st["backlog_growth_msgs_per_s"]
        print("  offered %5.0f/s  completed %6.1f/s  backlog growth %s msg/s (max %d, deepest %s)  %s" % (
            st["achieved_offered_rate"], st["completion_rate"],
            "%7.1f" % g if g is not None else "unknown (%d samples)" % st.get("samples", 0), st["backlog_max"],
            st.get("deepest_queue") or "-", "kept up" if st["kept_up"] else "FELL BEHIND"))
    for st in su["steps"]:
        la = st.get("latency") or {}
        c, s = la.get("placed_to_confirmed") or {}, la.get("placed_to_shipped") or {}
        if c.get("n"):
            print("  offered %5.0f/s  placed->CONFIRMED p50/p90/p99 %s/%s/%s ms, SHIPPED %s/%s/%s ms" % (
                st["achieved_offered_rate"], fmt(c["p50_ms"]), fmt(c["p90_ms"]), fmt(c["p99_ms"]),
                fmt(s["p50_ms"]), fmt(s["p90_ms"]), fmt(s["p99_ms"])))
    print("  sustained: %s sagas/s %s" % (fmt(su.get("sagas_per_s")), ratio(su.get("sagas_per_s"), ceiling)))
    if su.get("saturation"):
        print("  saturates: " + su["saturation"])
    print("  method: " + su["method"])
    if su.get("cpu_ms_per_saga"):
        print("  CPU per saga (ms) and CPU % of one core at the sustained step:")
        for k, v in sorted(su["cpu_ms_per_saga"].items(), key=lambda kv: -kv[1]):
            print("    %-14s %8.3f ms  %5.1f%%" % (k, v, su["cpu_pct"].get(k, 0)))
    print("")
    la = R["latency"]
    if la:
        print("LATENCY at %s orders/s (from orders.created_at / confirmed_at / shipped_at)" % p.get("latency_rate"))
        for k, tgt in (("placed_to_confirmed", "p50 <= 15, p99 <= 50"), ("placed_to_shipped", "p99 <= 100")):
            v = la[k]
            print("  %-20s p50 %7s  p95 %7s  p99 %7s  max %7s ms  (n=%d; target %s)" % (
                k.replace("_", " "), fmt(v["p50_ms"]), fmt(v["p95_ms"]), fmt(v["p99_ms"]), fmt(v["max_ms"]), v["n"], tgt))
        print("")
    issue16_text(R, nproc)
    it = R["intake"]
    if it:
        print("INTAKE POST /api/orders, %d clients closed loop, %.0f s, domains off (target >= 2000/s, p99 <= 50 ms)" % (
            it["threads"], it["elapsed_s"]))
        dbc = R["ceiling"].get("database", {}).get("rate")
        print("  %.0f req/s  p50 %s  p99 %s  max %s ms  (%d ok, %d errors)%s" % (
            it["rate"], fmt(it["p50_ms"]), fmt(it["p99_ms"]), fmt(it["max_ms"]), it["ok"], it["http_errors"] + it["net_errors"],
            ("  [one transaction each: %s of the database's %.0f tx/s]" % (ratio(it["rate"], dbc).strip(), dbc)) if dbc else ""))
        if it.get("cpu"):
            print("  saturates: " + saturation(it["cpu"], nproc))
        print("")
    mem = R["memory"]
    if mem.get("rss_mib_start"):
        print("MEMORY RSS MiB, start -> end of the main run (max over a role's processes; target worker <= 16, supervisor <= 8)")
        end = mem.get("rss_mib_end") or {}
        for k, v in sorted(mem["rss_mib_start"].items()):
            print("  %-14s %7.1f -> %7s" % (k, v, fmt(end.get(k))))
        print("")
    bl = R["backlog"]
    if bl and bl.get("orders"):
        print("BACKLOG DRAIN: %d orders placed with the workers stopped, then started" % bl["orders"])
        print("  %.1f sagas/s %s (between the 10th and the 90th percentile of the completions; sustained %s); "
              "deepest queue %s" % (bl["rate"] or 0, ratio(bl["rate"], ceiling), fmt(su.get("sagas_per_s")),
                                     bl.get("deepest_queue") or "-"))
        print("  all %d done %.1f s after orderflowd was launched (%d s until every domain consumed, first "
              "completion at %s s)" % (bl["orders"], bl["seconds"], bl.get("startup_s", 0),
                                        fmt(bl.get("first_completion_s"))))
        print("  RSS MiB while draining (first / max / last):")
        for k, v in bl["rss_mib"].items():
            print("    %-14s %7.1f %7.1f %7.1f" % (k, v["first"], v["max"], v["last"]))
        if bl.get("cpu"):
            print("  saturates: " + saturation(bl["cpu"], nproc))
        print("")
    if R["scaling"]:
        print("SCALING (backlog drains; CPU ms per saga of the busiest roles)")
        print("  workers prefetch batch  orders  sagas/s  order  inventory payment  audit  relay  rabbitmq mariadbd")
        for r in R["scaling"]:
            if not r:
                continue
            c = r.get("cpu_ms_per_saga", {})
            print("  %7d %8d %5d %7d %8.1f %6s %9s %7s %6s %6s %9s %8s" % (
                r["workers"], r["prefetch"], r["batch"], r["orders"], r["rate"] or 0,
                *(fmt(c.get(k), nd=2) for k in ("order", "inventory", "payment", "audit", "relay", "rabbitmq", "mariadbd"))))
        print("")
    if R.get("targets"):
        print("TARGETS")
        for t in R["targets"]:
            print("  %-46s %-22s %-24s %s" % (t["what"], t["target"], t["measured"],
                                             "met" if t["met"] else "MISSED: " + t.get("saturates", "")))
        print("")
    tb = R.get("tables")
    if tb:
        print("BOUNDED TABLES (retention %d s, %d orders/s for %d s, %d samples; flat = slope after the retention "
              "within %d%% of the rows written per second)" % (tb["retention_s"], tb["rate"], tb["seconds"],
                                                               tb["samples"], FLAT_TABLES * 100))
        print("  table   first     max    last  after-retention min..max  slope rows/s  written/s  pruned/s  flat")
        for k in ("inbox", "outbox"):
            v = tb[k]
            print("  %-6s %6s %7s %7s  %10s..%-14s %12s %10s %9s  %s" % (
                k, v["first"], v["max"], v["last"], v["after_retention_min"], v["after_retention_max"],
                fmt(v["slope_rows_per_s"]), v["written_rows_per_s"], v["pruned_rows_per_s"],
                "yes" if v["flat"] else "NO"))
        print("")
    co = R["completeness"]
    if co:
        print("COMPLETENESS of the main run: %d orders, %d SHIPPED; missing notifications %d, missing audit rows %d; "
              "webhooks delivered %d of %d (receiver saw %s): %s" % (
                  co["orders"], co["shipped"], co["shipped_missing_notifications"], co["shipped_missing_audit_rows"],
                  co["webhook_delivered"], co["webhook_expected"], co["receiver_posts"],
                  "complete" if co["complete"] else "INCOMPLETE"))


def issue16_text(R, nproc):
    """The figures of issue 16's table: burst, 60 and 100 orders/s; the hops."""
    bu, ph = R.get("burst"), R.get("paced") or []
    if not bu and not ph:
        return
    cols = (["burst %d" % bu["orders"]] if bu else []) + ["%.0f/s" % p["offered_rate"] for p in ph]
    print("ISSUE 16 FIGURES (paced: open loop for %s s, then drained; latencies from the orders table)" %
          R["params"].get("latency_s"))
    print("  %-44s" % "" + "".join("%20s" % c for c in cols))

    def row(name, vals):
        print("  %-44s" % name + "".join("%20s" % v for v in vals))

    def both(d, a, b):
        return "%s / %s" % (fmt(d[a]), fmt(d[b])) if d and d.get("n") else "-"
    pre = ["-"] if bu else []
    row("placed->CONFIRMED p50 / p99 ms", pre + [both(p["placed_to_confirmed"], "p50_ms", "p99_ms") for p in ph])
    row("placed->SHIPPED p50 / p99 ms", pre + [both(p["placed_to_shipped"], "p50_ms", "p99_ms") for p in ph])
    row("queues flat? (max ready)", (["(%s)" % bu["max_ready"]] if bu else []) +
        ["%s (%s)" % ("yes" if p["flat"] else "NO", p["max_ready"]) for p in ph])
    row("completed sagas/s (last 3/4 of the load)", pre + ["%.1f of %.1f" % (p["completion_rate"], p["achieved_offered_rate"])
                                                           for p in ph])
    if bu:
        row("burst sagas/s to last SHIPPED / last row", ["%s / %s" % (fmt(bu["sagas_per_s_to_last_shipped"]),
                                                                      fmt(bu["sagas_per_s_to_last_row"]))] + ["" for _ in ph])
    cs = ([bu["cpu_ms_per_saga"]] if bu else []) + [p["cpu_ms_per_saga"] for p in ph]
    row("CPU ms per saga, every process", [fmt(c and c["all"], nd=2) for c in cs])
    row("  of which RabbitMQ + MariaDB", [fmt(c and c["servers"], nd=2) for c in cs])
    row("    RabbitMQ", [fmt(c and c["rabbitmq"], nd=2) for c in cs])
    row("    MariaDB", [fmt(c and c["mariadbd"], nd=2) for c in cs])
    row("  orderflow, all its processes", [fmt(c and c["orderflow"], nd=2) for c in cs])
    roles = sorted({k for c in cs if c for k in c["roles"] if k not in SERVERS})
    for k in roles:
        row("    " + k, [fmt(c and c["roles"].get(k), nd=2) for c in cs])
    row("machine busy % (all processes on it)", [fmt(c and c["machine_busy_pct"], nd=0) for c in
                                                 ([bu["cpu"]] if bu else []) + [p["cpu"] for p in ph]])
    su, it = R["sustained"], R.get("intake")
    print("  sustained (queues flat, best step): %s sagas/s" % fmt(su.get("sagas_per_s")))
    if it:
        print("  intake: %.0f POST/s, p99 %s ms (%d clients, closed loop, domains off)" % (
            it["rate"], fmt(it["p99_ms"]), it["threads"]))
    print("")
    for p in ph:
        if not p["hops"]:
            continue
        print("HOPS at %.0f/s: where placed->CONFIRMED/SHIPPED goes, from orders.created_at, outbox.published_at,"
              " inbox.processed_at" % p["offered_rate"])
        print("  (an inbox row is written when the consumer's transaction begins; 'published' is when the relay marked"
              " the row, after the broker's confirm, so a delivery can come before it and show < 0)")
        print("  %-50s %6s %9s %9s %16s" % ("hop", "n", "p50 ms", "p99 ms", "slowest 1% mean"))
        for i, h in enumerate(p["hops"]):
            if i == CONFIRMED_HOPS:
                print("  %-50s %6s %9s %9s" % ("= placed->CONFIRMED", p["placed_to_confirmed"]["n"],
                                               fmt(p["placed_to_confirmed"]["p50_ms"]),
                                               fmt(p["placed_to_confirmed"]["p99_ms"])))
            print("  %-50s %6d %9s %9s %16s" % (h["hop"], h["n"], fmt(h["p50_ms"], nd=2), fmt(h["p99_ms"], nd=2),
                                                fmt(h["slowest_1pct_mean_ms"], nd=2)))
        print("  %-50s %6s %9s %9s" % ("= placed->SHIPPED", p["placed_to_shipped"]["n"],
                                       fmt(p["placed_to_shipped"]["p50_ms"]), fmt(p["placed_to_shipped"]["p99_ms"])))
        print("")


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    cmd = argv[1]
    if cmd == "machine":
        print(json.dumps(machine(argv[2], argv[3])))
        return 0
    if cmd == "step-ok":
        return step(argv[2], argv[3], argv[4])
    if cmd == "sample":
        return sample(*argv[2:8])
    if cmd == "drain-rate":
        return drain_rate(argv[2], argv[3])
    if cmd == "completeness":
        return completeness(argv[2], argv[3], argv[4])
    if cmd == "report":
        return report(argv[2], argv[3])
    if cmd == "charts":
        return charts(argv[2], argv[3], argv[4])
    print("saga_report: unknown command %s" % cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
