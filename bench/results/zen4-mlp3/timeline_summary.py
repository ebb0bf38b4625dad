import statistics as st, sys, glob, os
lim=float(sys.argv[1]); names=sys.argv[2:]
for n in names:
    runs=[l.split() for l in open(f'/tmp/mlp3-ab/{n}.txt')]
    med=[float(x[1]) for x in runs]; mn=[float(x[2]) for x in runs]
    rows=[]
    for f in sorted(glob.glob(f'/tmp/mlp3-ab/{n}-*.tl')):
        rows+=[list(map(float,l.split())) for l in open(f)][100:]
    tot=[r[9] for r in rows]
    fast=[r for r in rows if r[9]<lim]; slow=[r for r in rows if r[9]>=lim]
    print(f'{n}: bench medians {sorted(med)} mins {sorted(mn)}; steps {len(tot)} median {st.median(tot):.1f} min {min(tot):.1f} p10 {sorted(tot)[len(tot)//10]:.1f} fast(<{lim}) {len(fast)/len(tot):.2f}')
    for nm,sel in [('fast',fast),('slow',slow)]:
        if not sel: continue
        same=sum(1 for r in sel if round(r[10])==round(r[22]))/len(sel)
        print(f'   {nm}: same cpu at fwd end {same:.2f}; phases t0:', ' '.join('%.1f'%st.median([r[p] for r in sel]) for p in range(10)))
        print('         t1:', ' '.join('%.1f'%st.median([r[12+p] for r in sel]) for p in range(2,9)))
