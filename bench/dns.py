"""Benchmark of the DNS audit: 200 domains beside checkdmarc's CLI, and one IP against 20 lists.

Everything is answered by the loopback ZoneServer, run in its own process so that the server's
work does not share the measured process's interpreter. Each answer is delayed (``--delay``,
10 ms by default) to stand for a resolver's round trip; ``0`` measures pure CPU.

* ``audit_domains``: Auditor's ``audit_domain`` (SPF with check_host of the sending IP, DMARC,
  DKIM, PTR/FCrDNS, MX, NS, MTA-STS, TLS-RPT, BIMI, DNSSEC; no blocklists, as checkdmarc has
  none) over the domains with a thread pool, against checkdmarc's own CLI run as a subprocess
  over the same domains (it checks them one after another). The CLI takes only plain IPs for
  plain DNS (port 53); when 127.0.0.1:53 cannot be bound, its Python API is run in a subprocess
  the way the CLI runs it (``check_domains``, sequential) with a port-aware nameserver.
* ``ip_vs_20_lists``: one IP against 20 list zones answering after 50-200 ms; the baseline is
  one query to the slowest list, measured in the same run.

Run ``python bench/dns.py`` (full) or ``--quick``. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# this file is named dns.py: keep its folder off the path, or it would shadow dnspython's ``dns``
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

PARENT = "bench.test"
LIST_DELAYS = [0.05 + 0.15 * i / 19 for i in range(20)]  # 50 ms .. 200 ms


def _dkim_public() -> str:
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return base64.b64encode(key.public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


def domain_zone(count: int) -> tuple[str, list[tuple[str, str]]]:
    """Zone text for ``count`` sending domains under PARENT (a few misconfigured), and (domain, ip)."""
    p = _dkim_public()
    key = " ".join(f'"{c}"' for c in ["v=DKIM1; k=rsa; p=" + p[:180]] + [p[i:i + 200] for i in range(180, len(p), 200)])
    lines = [f"{PARENT}. IN SOA ns.{PARENT}. hostmaster.{PARENT}. 1 3600 600 86400 300",
             f"{PARENT}. IN NS ns.{PARENT}.", f"ns.{PARENT}. IN A 192.0.2.53",
             f'_spf.esp.{PARENT}. IN TXT "v=spf1 ip4:198.51.100.0/24 -all"']
    domains = []
    for i in range(count):
        d, ip = f"d{i:03d}.{PARENT}", f"10.{i // 250}.{i % 250}.10"
        policy = "none" if i % 7 == 0 else "reject"
        lines += [f"{d}. IN NS ns.{PARENT}.", f"{d}. IN MX 10 mail.{d}.", f"mail.{d}. IN A {ip}",
                  f'{d}. IN TXT "v=spf1 ip4:{ip} include:_spf.esp.{PARENT} -all"',
                  f'_dmarc.{d}. IN TXT "v=DMARC1; p={policy}; rua=mailto:dmarc@{d}"',
                  f"{'.'.join(reversed(ip.split('.')))}.in-addr.arpa. IN PTR mail.{d}."]
        if i % 11:
            lines.append(f"s1._domainkey.{d}. IN TXT {key}")
        domains.append((d, ip))
    return "\n".join(lines) + "\n", domains


def list_zone() -> str:
    """20 RFC 5782 list zones: 127.0.0.2 listed, the test IP listed on every third."""
    lines = []
    for i in range(20):
        z = f"l{i:02d}.lists.test"
        lines += [f"2.0.0.127.{z}. IN A 127.0.0.2", f'2.0.0.127.{z}. IN TXT "test"']
        if i % 3 == 0:
            lines += [f"9.2.0.192.{z}. IN A 127.0.0.2", f'9.2.0.192.{z}. IN TXT "listed by bench"']
    return "\n".join(lines) + "\n"


def _serve(text: str, delays: dict[str, float], port: int | None, ready, stop) -> None:
    from checks.zone_server import ZoneServer

    try:
        server = ZoneServer(text, delays=delays, port=port)
        if not delays:
            _answer_udp_inline(server)
        server.start()
    except OSError as exc:
        ready.send(("error", str(exc)))
        return
    answered = [0]
    resolve = server.resolver.resolve

    def counting(request, handler):
        answered[0] += 1
        return resolve(request, handler)

    server.resolver.resolve = counting
    ready.send(("ok", server.port))
    while not stop.wait(0.05):
        if ready.poll():  # a request for the count so far
            ready.recv()
            ready.send(answered[0])
    server.stop()


def _answer_udp_inline(server) -> None:
    """Answer UDP in the serving thread: with no delay to wait out, dnslib's thread per query
    is the test server's main cost, and the comparison should measure the clients."""
    import socketserver

    from dnslib.server import DNSHandler

    udp = server._servers[0]
    address = udp.server.server_address
    udp.server.server_close()

    class InlineUDP(socketserver.UDPServer):
        allow_reuse_address = True

        def __init__(self) -> None:
            super().__init__(address, DNSHandler)
            self.resolver, self.logger = udp.server.resolver, udp.server.logger

    udp.server = InlineUDP()


class ServerProcess:
    """A ZoneServer in a child process (so its work does not compete with the measured code)."""

    def __init__(self, text: str, delays: dict[str, float], port: int | None = None) -> None:
        ctx = mp.get_context("fork")
        parent, child = ctx.Pipe()
        self.stop_event = ctx.Event()
        self.proc = ctx.Process(target=_serve, args=(text, delays, port, child, self.stop_event), daemon=True)
        self.proc.start()
        status, value = parent.recv()
        if status != "ok":
            self.proc.join()
            raise OSError(value)
        self.port = int(value)
        self.pipe = parent

    def queries(self) -> int:
        """How many queries the server has received so far."""
        self.pipe.send("count")
        return int(self.pipe.recv())

    def close(self) -> None:
        self.stop_event.set()
        self.proc.join(5)


def run_auditor(domains: list[tuple[str, str]], port: int, workers: int) -> tuple[float, float, int]:
    """Seconds (wall, CPU) to audit every domain concurrently, and how many audits saw SPF."""
    from checks.domain_audit import audit_domain
    from checks.resolver import make_resolver

    def one(item: tuple[str, str]):
        d, ip = item
        # a resolver (and cache) per audit, as the service builds one per audit
        return audit_domain(d, selectors=["s1"], ips=[ip], resolver=make_resolver([("127.0.0.1", port)], 2.0),
                            blocklists=[], fetch_policy=lambda _d: "")

    start, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        audits = list(pool.map(one, domains))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return elapsed, cpu, sum(1 for a in audits if (a.records.get("spf") or {}).get("record"))


_API_RUNNER = """
import json, sys, dns.nameserver
from checkdmarc import check_domains, results_to_json
port, domains = int(sys.argv[1]), sys.argv[2:]
# what checkdmarc's CLI does (check_domains over the list, one domain after another), with a
# nameserver object that carries the port the CLI cannot express
results = check_domains(domains, nameservers=[dns.nameserver.Do53Nameserver("127.0.0.1", port)],
                        timeout=2.0, retries=0)
print(results_to_json(results))
"""


def run_checkdmarc(domains: list[str], port: int) -> tuple[float, float, int, str]:
    """Seconds for checkdmarc over the domains (CLI on port 53, else its API the CLI's way)."""
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "domains.txt"
        listing.write_text("\n".join(domains) + "\n")
        if port == 53:
            cmd = [str(Path(sys.executable).with_name("checkdmarc")), str(listing), "--nameserver", "127.0.0.1",
                   "--timeout", "2", "--retries", "0", "--format", "json"]
            how = "checkdmarc CLI (checkdmarc FILE --nameserver 127.0.0.1 -f json), sequential"
        else:
            cmd = [sys.executable, "-c", _API_RUNNER, str(port), *domains]
            how = "checkdmarc.check_domains in a subprocess, as its CLI runs it (CLI cannot take a port)"
        start, cpu = time.perf_counter(), _children_cpu()
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=os.environ | {"PYTHONWARNINGS": "ignore"})
        elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu
    data = json.loads(out.stdout)
    data = data if isinstance(data, list) else [data]
    return elapsed, cpu, sum(1 for r in data if (r.get("spf") or {}).get("record")), how


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_domains(count: int, delay: float, workers: int) -> dict:
    """Auditor versus checkdmarc over ``count`` domains with ``delay`` per answer."""
    text, domains = domain_zone(count)
    delays = {PARENT: delay, "in-addr.arpa": delay} if delay else {}
    try:
        server = ServerProcess(text, delays, port=53)
    except OSError:
        server = ServerProcess(text, delays)
    try:
        q0 = server.queries()
        ours, ours_cpu, ours_ok = run_auditor(domains, server.port, workers)
        q1 = server.queries()
        theirs, theirs_cpu, theirs_ok, how = run_checkdmarc([d for d, _ in domains], server.port)
        q2 = server.queries()
    finally:
        server.close()
    value, base = count / ours, count / theirs
    return {"metric": f"audit_{count}_domains_delay_{int(delay * 1000)}ms", "value": round(value, 1),
            "unit": "domains/s", "seconds": round(ours, 2), "workers": workers,
            "checked_ok": {"auditor": ours_ok, "checkdmarc": theirs_ok},
            "cpu_seconds": {"auditor": round(ours_cpu, 2), "checkdmarc": round(theirs_cpu, 2)},
            "queries_per_domain": {"auditor": round((q1 - q0) / count, 1), "checkdmarc": round((q2 - q1) / count, 1)},
            "baseline": {"what": how, "value": round(base, 2), "seconds": round(theirs, 2)},
            "ratio": round(value / base, 1), "target": "ratio >= 5 (Auditor at least 5x faster)",
            "met": value / base >= 5}


def bench_lists(rounds: int) -> dict:
    """One IP against 20 lists answering after 50-200 ms, against one query to the slowest."""
    import dns.resolver

    from checks.blocklists import Blocklist, check_ip
    from checks.resolver import make_resolver

    lists = [Blocklist("ip", f"l{i:02d}.lists.test", "warn" if i % 2 else "block") for i in range(20)]
    server = ServerProcess(list_zone(), {bl.zone: d for bl, d in zip(lists, LIST_DELAYS, strict=True)})
    try:
        single, whole, listed = [], [], 0
        for _ in range(rounds):
            r = make_resolver([("127.0.0.1", server.port)], 2.0, cache=False)
            t = time.perf_counter()
            try:
                r.resolve(lists[-1].query_name("192.0.2.9"), "A")
            except dns.resolver.NXDOMAIN:
                pass
            single.append(time.perf_counter() - t)
            t = time.perf_counter()
            rows, _found = check_ip("192.0.2.9", lists=lists, resolver=make_resolver([("127.0.0.1", server.port)], 2.0))
            whole.append(time.perf_counter() - t)
            listed = sum(1 for row in rows if row["status"] == "listed")
    finally:
        server.close()
    value, base = sorted(whole)[len(whole) // 2] * 1000, sorted(single)[len(single) // 2] * 1000
    return {"metric": "ip_vs_20_lists", "value": round(value, 1), "unit": "ms (median)", "listed_on": listed,
            "baseline": {"what": "one A query to the slowest list (200 ms answer delay), median", "value": round(base, 1)},
            "ratio": round(value / base, 2), "target": "ratio <= 2 (the 20 lists' queries overlap)",
            "met": value / base <= 2}


def main() -> None:
    """Run and print the JSON document of INTERFACES.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 domains, 3 rounds")
    parser.add_argument("--delay", type=float, default=0.010, help="seconds before each answer (default 0.010)")
    parser.add_argument("--workers", type=int, default=32, help="domains audited at once")
    args = parser.parse_args()
    count, rounds = (40, 3) if args.quick else (200, 7)
    results = [bench_domains(count, args.delay, args.workers)]
    if not args.quick and args.delay:
        results.append(bench_domains(count, 0.0, args.workers))
    results.append(bench_lists(rounds))
    # other work on the machine skews every figure here; the load says how much there was
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(),
               "load_avg_1m_at_end": round(os.getloadavg()[0], 1)}
    print(json.dumps({"bench": "dns", "machine": machine,
                      "results": results}, indent=2))


if __name__ == "__main__":
    main()
