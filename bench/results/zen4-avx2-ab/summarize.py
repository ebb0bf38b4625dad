import sys, statistics as st, collections
d=collections.defaultdict(list); mins=collections.defaultdict(list)
for line in open(sys.argv[1]):
    p=line.split()
    if len(p)<7: continue
    r,wd,side,model,batch,med,mn=p
    d[(model,batch,wd,side)].append(float(med)); mins[(model,batch,wd,side)].append(float(mn))
keys=sorted({k[:3] for k in d})
print("| model | batch | width | A median us (range) | B median us (range) | B/A | A min | B min |")
print("|---|---:|---|---:|---:|---:|---:|---:|")
for k in keys:
    a=d[k+('A',)]; b=d[k+('B',)]
    if not a or not b: continue
    f=lambda x: f"{st.median(x):.1f} ({min(x):.1f}-{max(x):.1f})"
    print(f"| {k[0]} | {k[1]} | {k[2].upper()} | {f(a)} | {f(b)} | {st.median(b)/st.median(a):.3f} | {min(mins[k+('A',)]):.1f} | {min(mins[k+('B',)]):.1f} |")
