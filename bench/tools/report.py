"""report.py --dir DIR --charts CHARTS: reads the raw wrk outputs (DIR/raw/NAME.REP.txt) and
DIR/meta.env written by bench/run; writes DIR/results.json, DIR/results.md and the SVG charts
CHARTS/throughput.svg and CHARTS/latency.svg. Standard library only."""

import argparse
import glob
import html
import json
import os
import platform
import re
import statistics

# name -> (service, what, connections)
RUNS = {
    "authd_verify": ("authd", "GET /auth/verify", 64),
    "hello_json": ("actix-hello", "GET /json (ceiling)", 64),
    "hello_verify": ("actix-hello", "GET /verify (EdDSA JWT only)", 64),
    "flask_protected": ("flask", "GET /protected (@jwt_required)", 64),
    "authd_login": ("authd", "POST /api/auth/login", 32),
    "flask_login": ("flask", "POST /login", 32),
    "authd_refresh": ("authd", "POST /api/auth/refresh (each token once)", 64),
    "flask_refresh": ("flask", "POST /refresh (refresh JWT, not rotated)", 64),
    "authd_verify_flood": ("authd", "GET /auth/verify during a login flood", 64),
    "flask_protected_flood": ("flask", "GET /protected during a login flood", 64),
    "authd_flood_login": ("authd", "the login flood itself (1 thread)", 32),
    "flask_flood_login": ("flask", "the login flood itself (1 thread)", 32),
    "authd_login500": ("authd", "POST /api/auth/login, 500 connections", 500),
    "flask_login500": ("flask", "POST /login, 500 connections", 500),
    "authd_admin_search": ("authd", "GET /api/admin/users?q=4242&page=1 (100k users)", 16),
}

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def parse_wrk(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    r = {"rps": None, "p50_ms": None, "p99_ms": None, "requests": 0, "non2xx": 0,
         "socket_errors": 0, "timeouts": 0, "statuses": {}}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", text):
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        if m := re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M):
            r[key] = ms(m.group(1))
    if m := re.search(r"(\d+) requests in", text):
        r["requests"] = int(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text):
        r["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text):
        c, rd, w, t = map(int, m.groups())
        r["socket_errors"] = c + rd + w + t
        r["timeouts"] = t
    for code, n in re.findall(r"^STATUS (\d+) (\d+)$", text, re.M):
        r["statuses"][code] = r["statuses"].get(code, 0) + int(n)
    return r


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def read_meta(path):
    meta = {}
    for line in open(path, encoding="utf-8"):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            meta[k] = v
    return meta


def reps_of(meta, key):
    return [float(v) for k, v in meta.items() if k.startswith(key + ".") and v]


def machine():
    cpu = "unknown"
    for line in open("/proc/cpuinfo", encoding="utf-8"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in open("/proc/meminfo", encoding="utf-8"):
        if line.startswith("MemTotal"):
            mem_kib = int(line.split()[1])
    distro = ""
    if os.path.exists("/etc/os-release"):
        for line in open("/etc/os-release", encoding="utf-8"):
            if line.startswith("PRETTY_NAME="):
                distro = line.split("=", 1)[1].strip().strip('"')
    return {"cores": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kib / 1048576, 1),
            "kernel": platform.release(), "os": distro}


def fmt(v, digits=0):
    if v is None:
        return "n/a"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def fmt_ms(v):
    if v is None:
        return "n/a"
    return f"{v:.2f}" if v < 10 else f"{v:,.0f}"


# --- SVG -------------------------------------------------------------------------------------
COLORS = {"authd": "#d9480f", "actix-hello": "#1971c2", "flask": "#2f9e44", "ideal": "#868e96"}


def svg_panels(title, panels, unit):
    """panels: [(panel title, [(label, value, color)])]; one linear scale per panel."""
    width, left, right = 900, 330, 120
    bar_h, gap, head = 22, 6, 30
    y = 50
    parts = []
    for ptitle, bars in panels:
        parts.append(f'<text x="10" y="{y + 16}" font-weight="bold">{html.escape(ptitle)}</text>')
        y += head
        vmax = max([v for _, v, _ in bars if v] or [1])
        for label, value, color in bars:
            w = 0 if not value else (width - left - right) * value / vmax
            parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{html.escape(label)}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
            shown = "n/a" if value is None else (fmt(value) if unit == "req/s" else fmt_ms(value))
            parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 16}">{shown} {unit}</text>')
            y += bar_h + gap
        y += 14
    head_svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y + 10}" '
                f'viewBox="0 0 {width} {y + 10}" font-family="sans-serif" font-size="13">'
                f'<rect width="100%" height="100%" fill="white"/>'
                f'<text x="10" y="28" font-size="17" font-weight="bold">{html.escape(title)}</text>')
    return head_svg + "".join(parts) + "</svg>\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--charts", required=True)
    args = ap.parse_args()
    meta = read_meta(os.path.join(args.dir, "meta.env"))

    runs = {}
    for name, (service, what, conns) in RUNS.items():
        files = sorted(glob.glob(os.path.join(args.dir, "raw", f"{name}.*.txt")))
        if not files:
            continue
        reps = [parse_wrk(f) for f in files]
        statuses = {}
        for r in reps:
            for c, n in r["statuses"].items():
                statuses[c] = statuses.get(c, 0) + n
        runs[name] = {
            "service": service, "what": what, "connections": conns,
            "rps": med([r["rps"] for r in reps]),
            "p50_ms": med([r["p50_ms"] for r in reps]),
            "p99_ms": med([r["p99_ms"] for r in reps]),
            "requests": sum(r["requests"] for r in reps),
            "non2xx": sum(r["non2xx"] for r in reps),
            "socket_errors": sum(r["socket_errors"] for r in reps),
            "timeouts": sum(r["timeouts"] for r in reps),
            "statuses": statuses,
            "reps": reps,
        }

    def rps(n):
        return runs.get(n, {}).get("rps")

    def ratio(a, b):
        return a / b if a and b else None

    cores = int(meta.get("cores", os.cpu_count()))
    a_py = med(reps_of(meta, "argon2_py_s"))
    a_rs = med(reps_of(meta, "argon2_rs_s"))
    ideal_rs = cores / a_rs if a_rs else None
    ideal_py = cores / a_py if a_py else None
    hwm500 = med(reps_of(meta, "authd_login500_hwm_kib"))
    flask_hwm500 = med(reps_of(meta, "flask_login500_hwm_kib"))
    idle = float(meta["authd_idle_rss_kib"]) if meta.get("authd_idle_rss_kib") else None

    ratios = {
        "authd_verify / actix /json": ratio(rps("authd_verify"), rps("hello_json")),
        "authd_verify / actix /verify": ratio(rps("authd_verify"), rps("hello_verify")),
        "authd_verify / flask /protected": ratio(rps("authd_verify"), rps("flask_protected")),
        "authd login / ideal (argon2 crate)": ratio(rps("authd_login"), ideal_rs),
        "authd login / ideal (argon2-cffi)": ratio(rps("authd_login"), ideal_py),
        "authd login / flask login": ratio(rps("authd_login"), rps("flask_login")),
        "flask login / ideal (argon2-cffi)": ratio(rps("flask_login"), ideal_py),
        "authd refresh / flask refresh": ratio(rps("authd_refresh"), rps("flask_refresh")),
    }
    flood_p99 = runs.get("authd_verify_flood", {}).get("p99_ms")
    targets = [
        ("verify >= 70% of the actix ceiling's /json", ratios["authd_verify / actix /json"], 0.70,
         "ratio"),
        ("verify >= 15x the Flask peer's /protected", ratios["authd_verify / flask /protected"], 15,
         "ratio"),
        ("verify p99 < 5 ms during a login flood", flood_p99, 5.0, "below"),
        ("login >= 90% of the argon2 ideal (argon2 crate)", ratios["authd login / ideal (argon2 crate)"],
         0.90, "ratio"),
        ("refresh >= 1,000/s", rps("authd_refresh"), 1000, "ratio"),
        ("< 256 MiB resident with 500 concurrent logins", hwm500 / 1024 if hwm500 else None, 256,
         "below"),
        ("< 40 MiB idle", idle / 1024 if idle else None, 40, "below"),
    ]
    target_rows = []
    for name, value, goal, kind in targets:
        met = None if value is None else (value >= goal if kind == "ratio" else value < goal)
        target_rows.append({"target": name, "value": value, "goal": goal, "met": met})

    result = {
        "meta": meta, "machine": machine(), "runs": runs, "ratios": ratios,
        "argon2": {"seconds_per_hash_python_argon2_cffi": a_py,
                   "seconds_per_hash_rust_argon2_crate": a_rs,
                   "ideal_logins_per_s_rust": ideal_rs, "ideal_logins_per_s_python": ideal_py,
                   "cores": cores},
        "memory_kib": {"authd_idle_rss": idle, "authd_login500_peak": hwm500,
                       "flask_idle_rss_all_processes": float(meta.get("flask_idle_rss_kib") or 0) or None,
                       "flask_login500_peak_sum_of_processes": flask_hwm500,
                       "actix_hello_idle_rss": float(meta.get("hello_idle_rss_kib") or 0) or None},
        "authd_startup_ms": float(meta["authd_startup_ms"]) if meta.get("authd_startup_ms") else None,
        "targets": target_rows,
    }
    with open(os.path.join(args.dir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2, sort_keys=False)
        f.write("\n")

    # --- markdown ---
    m = result["machine"]
    md = []
    md.append(f"Mode `{meta.get('mode')}`: wrk {meta.get('threads')} threads, {meta.get('duration')} per run, "
              f"median of {meta.get('reps')} run(s); {meta.get('started')} to {meta.get('finished')}, "
              f"authd at commit {meta.get('commit')}"
              + (f" plus {meta.get('dirty')} uncommitted file(s) in src/ or migrations/" if meta.get("dirty", "0") != "0" else "")
              + ".")
    md.append("")
    md.append(f"Machine: {m['cores']} cores, {m['cpu']}, {m['ram_gib']} GiB RAM, Linux {m['kernel']}, {m['os']}.")
    md.append("")
    md.append("| run | service | endpoint | conns | req/s | p50 ms | p99 ms | non-2xx | socket errors (timeouts) |")
    md.append("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for name, r in runs.items():
        md.append(f"| `{name}` | {r['service']} | {r['what']} | {r['connections']} | {fmt(r['rps'])} | "
                  f"{fmt_ms(r['p50_ms'])} | {fmt_ms(r['p99_ms'])} | {r['non2xx']} | "
                  f"{r['socket_errors']} ({r['timeouts']}) |")
    md.append("")
    md.append("Status codes seen by the scripted (lua) runs, summed over repetitions: " + "; ".join(
        f"`{n}` " + ", ".join(f"{c}: {k}" for c, k in sorted(r["statuses"].items()))
        for n, r in runs.items() if r["statuses"]) + ".")
    md.append("")
    md.append("| ratio | value |")
    md.append("|---|---:|")
    for k, v in ratios.items():
        md.append(f"| {k} | {fmt(v, 2) if v is not None else 'n/a'} |")
    md.append("")
    md.append("| other figure | value |")
    md.append("|---|---:|")
    md.append(f"| argon2id m=19456 t=2 p=1, one hash, argon2 crate 0.6 (authd's) | {fmt(a_rs * 1000, 1) if a_rs else 'n/a'} ms |")
    md.append(f"| argon2id m=19456 t=2 p=1, one hash, argon2-cffi (Flask's) | {fmt(a_py * 1000, 1) if a_py else 'n/a'} ms |")
    md.append(f"| login ideal = {cores} cores / hash time (argon2 crate; argon2-cffi) | {fmt(ideal_rs, 1)}/s; {fmt(ideal_py, 1)}/s |")
    md.append(f"| authd start to `/readyz` 200 | {fmt(result['authd_startup_ms'])} ms |")
    md.append(f"| authd idle RSS after start | {fmt(idle / 1024 if idle else None, 1)} MiB |")
    md.append(f"| authd peak RSS (VmHWM) during 500 concurrent logins | {fmt(hwm500 / 1024 if hwm500 else None, 1)} MiB |")
    lr = med(reps_of(meta, "authd_login_rss_kib"))
    la = med(reps_of(meta, "authd_login500_rss_5s_after_kib"))
    md.append(f"| authd RSS right after the 32-connection login run (fresh process before it) | {fmt(lr / 1024 if lr else None, 1)} MiB |")
    md.append(f"| authd RSS 5 s after the 500-connection login run | {fmt(la / 1024 if la else None, 1)} MiB |")
    md.append(f"| authd RSS after the admin search runs (fresh process, 100k users) | {fmt(float(meta.get('authd_final_rss_kib', 0)) / 1024, 1)} MiB |")
    md.append(f"| Flask peer idle RSS, master + 4 workers | {fmt((result['memory_kib']['flask_idle_rss_all_processes'] or 0) / 1024, 1)} MiB |")
    md.append(f"| Flask peer peak RSS during 500 logins, sum of processes | {fmt(flask_hwm500 / 1024 if flask_hwm500 else None, 1)} MiB |")
    md.append(f"| actix-hello idle RSS | {fmt((result['memory_kib']['actix_hello_idle_rss'] or 0) / 1024, 1)} MiB |")
    md.append(f"| refresh tokens rotated in all refresh runs (per-run block: {meta.get('refresh_block')}) | {meta.get('authd_refresh_rotated')} |")
    md.append(f"| admin search `q=4242`: matching users (total) | {meta.get('search_total')} |")
    md.append("")
    md.append("| target | value | goal | met |")
    md.append("|---|---:|---:|---|")
    for t in target_rows:
        v = t["value"]
        md.append(f"| {t['target']} | {fmt(v, 2) if v is not None else 'n/a'} | {fmt(t['goal'], 2)} | "
                  f"{'n/a' if t['met'] is None else ('met' if t['met'] else '**missed**')} |")
    with open(os.path.join(args.dir, "results.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")

    # --- charts ---
    def bar(name, label, color=None):
        r = runs.get(name)
        return (label, r["rps"] if r else None, color or COLORS[r["service"] if r else "ideal"])

    tp = [
        ("Token verification (64 connections)", [
            bar("authd_verify", "authd GET /auth/verify"),
            bar("hello_json", "actix-hello GET /json (ceiling)"),
            bar("hello_verify", "actix-hello GET /verify"),
            bar("flask_protected", "Flask GET /protected"),
        ]),
        ("Login, argon2id (32 connections)", [
            bar("authd_login", "authd POST /api/auth/login"),
            bar("flask_login", "Flask POST /login"),
            ("ideal: cores / hash time (argon2 crate)", ideal_rs, COLORS["ideal"]),
            ("ideal: cores / hash time (argon2-cffi)", ideal_py, COLORS["ideal"]),
        ]),
        ("Refresh (64 connections)", [
            bar("authd_refresh", "authd (rotating, DB transaction)"),
            bar("flask_refresh", "Flask (stateless JWT)"),
        ]),
        ("Admin users search, 100,000 users (16 connections)", [
            bar("authd_admin_search", "authd /api/admin/users?q=4242"),
        ]),
    ]
    with open(os.path.join(args.charts, "throughput.svg"), "w", encoding="utf-8") as f:
        f.write(svg_panels(f"Throughput, requests/s (median of {meta.get('reps')}; higher is better)", tp, "req/s"))

    lat = []
    for title, names in [
        ("Verification p50 / p99", ["authd_verify", "hello_json", "hello_verify", "flask_protected"]),
        ("Verification during a login flood p50 / p99", ["authd_verify_flood", "flask_protected_flood"]),
        ("Login p50 / p99 (32 connections)", ["authd_login", "flask_login"]),
        ("Refresh p50 / p99", ["authd_refresh", "flask_refresh"]),
        ("Admin users search p50 / p99", ["authd_admin_search"]),
    ]:
        bars = []
        for n in names:
            r = runs.get(n)
            if not r:
                continue
            label = f"{r['service']} {n.split('_', 1)[1]}"
            bars.append((label + " p50", r["p50_ms"], COLORS[r["service"]]))
            bars.append((label + " p99", r["p99_ms"], COLORS[r["service"]]))
        if bars:
            lat.append((title, bars))
    with open(os.path.join(args.charts, "latency.svg"), "w", encoding="utf-8") as f:
        f.write(svg_panels("Latency, ms (median of runs; lower is better)", lat, "ms"))


if __name__ == "__main__":
    main()
