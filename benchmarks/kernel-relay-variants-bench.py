# pgbench -S (4 clients) against direct TCP and the prototype relays of kernel-relay-variants.py,
# targets in alternating order per round; CPU per transaction of the work that serves the benchmark:
# pgbench (rusage of the child), the PostgreSQL of PGDATA (postmaster and children, ended backends in
# its cutime), the relays (python, idle after login), kworker/ksoftirqd threads (benchmarks/README.md 13f).
#   PGDATA=DIR python3 benchmarks/kernel-relay-variants-bench.py ROUNDS SECONDS name:port,name:port,...
# (the first target is the peer the ratios are taken against)
import subprocess, os, sys, re, time, statistics
PG = '/usr/lib/postgresql/15/bin'
targets = [t.split(':') for t in sys.argv[3].split(',')]  # name:port
rounds, secs = int(sys.argv[1]), int(sys.argv[2])
HZ = os.sysconf('SC_CLK_TCK')
def stat(pid, children=True):
    try:
        s = open('/proc/%d/stat' % pid).read(); f = s[s.rindex(')') + 2:].split()
        t = int(f[11]) + int(f[12])
        return t + (int(f[13]) + int(f[14]) if children else 0)
    except OSError:
        return 0
def pids():
    pm = int(open(os.path.join(os.environ['PGDATA'], 'postmaster.pid')).readline())
    out = subprocess.run(['pgrep', '-P', str(pm)], capture_output=True, text=True).stdout.split()
    relays = subprocess.run(['pgrep', '-f', 'krelay.py'], capture_output=True, text=True).stdout.split()
    return [pm] + [int(x) for x in out] + [int(x) for x in relays]
def kthreads():
    s = 0
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                c = open('/proc/%s/comm' % d).read()
                if c.startswith('kworker/') or c.startswith('ksoftirqd/'):
                    s += stat(int(d), False)
            except OSError:
                pass
    return s
def ctxt():
    for l in open('/proc/stat'):
        if l.startswith('ctxt'): return int(l.split()[1])
res = {n: [] for n, _ in targets}
for r in range(rounds):
    order = targets if r % 2 == 0 else targets[::-1]
    for name, port in order:
        own0 = sum(stat(p) for p in pids()); k0 = kthreads(); c0 = ctxt()
        p = subprocess.Popen([PG + '/pgbench', '-n', '-S', '-c', '4', '-j', '4', '-T', str(secs), '-h', '127.0.0.1', '-p', port,
                              '-U', 'postgres', 'postgres'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        _, status, ru = os.wait4(p.pid, 0); out = p.stdout.read()
        time.sleep(0.3)
        own1 = sum(stat(p_) for p_ in pids()); k1 = kthreads(); c1 = ctxt()
        tps = float(re.search(r'tps = ([0-9.]+)', out).group(1)); lat = float(re.search(r'latency average = ([0-9.]+)', out).group(1))
        n = int(re.search(r'actually processed: (\d+)', out).group(1))
        pgb = (ru.ru_utime + ru.ru_stime) * 1e6
        own = ((own1 - own0) + (k1 - k0)) * 1e6 / HZ + pgb
        res[name].append((tps, lat, own / n, (k1 - k0) * 1e6 / HZ / n, (c1 - c0) / n))
        print('round %d %-9s tps %8.1f lat %.3f ms  cpu %6.2f us/txn (kworker+ksoftirqd %5.2f)  cs/txn %.2f  load %s' % (
            r + 1, name, tps, lat, own / n, (k1 - k0) * 1e6 / HZ / n, (c1 - c0) / n, open('/proc/loadavg').read().split()[0]), flush=True)
print('MEDIANS')
base = statistics.median(x[0] for x in res[targets[0][0]])
basecpu = statistics.median(x[2] for x in res[targets[0][0]])
for name, _ in targets:
    m = [statistics.median(x[i] for x in res[name]) for i in range(5)]
    print('%-9s tps %8.1f (%.3fx)  lat %.3f ms  cpu %6.2f us/txn (%.3fx)  kworker %5.2f  cs/txn %.2f' % (
        name, m[0], m[0] / base, m[1], m[2], m[2] / basecpu, m[3], m[4]))
