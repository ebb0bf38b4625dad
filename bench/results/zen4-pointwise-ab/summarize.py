import sys, statistics, collections
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    r, side, model, width, batch, thr, med, mn = f[:8]
    d[(model, width, int(batch), side)].append((float(med), float(mn)))
keys = sorted({k[:3] for k in d})
print("| model | batch | width | A median us (range) | B median us (range) | B/A | A min | B min |")
print("|---|---:|---|---:|---:|---:|---:|---:|")
for k in keys:
    a = d[k + ("A",)]; b = d[k + ("B",)]
    am = statistics.median(x[0] for x in a); bm = statistics.median(x[0] for x in b)
    fmt = lambda v: f"{v:.1f}"
    print(f"| {k[0]} | {k[2]} | {k[1]} | {fmt(am)} ({fmt(min(x[0] for x in a))}-{fmt(max(x[0] for x in a))}) | {fmt(bm)} ({fmt(min(x[0] for x in b))}-{fmt(max(x[0] for x in b))}) | {bm/am:.3f} | {fmt(min(x[1] for x in a))} | {fmt(min(x[1] for x in b))} |")
