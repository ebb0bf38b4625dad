# usage: timeline_summary.py FILE... : medians of the phase stamps (us from the start of Gradients) of the steps whose
# two threads ran on different CPUs (fast mode) and of those on one CPU, after the first 100 steps of each file
import statistics as st, sys
P = 12
names = {0: 'start', 1: 'slice', 8: 'copied', 2: 'fwd start', 3: 'fwd end', 4: 'bwd end', 5: 'barrier1', 6: 'summed', 7: 'barrier2', 9: 'updated', 10: 'run end'}
rows = []
for f in sys.argv[1:]:
    rows += [list(map(float, l.split())) for l in open(f)][100:]
for label, sel in [('two CPUs', [r for r in rows if round(r[11]) != round(r[P + 11])]), ('one CPU', [r for r in rows if round(r[11]) == round(r[P + 11])])]:
    if not sel:
        continue
    tot = [r[10] for r in sel]
    print(f'{label}: {len(sel)} steps, Run end median {st.median(tot):.1f} min {min(tot):.1f} p90 {sorted(tot)[9 * len(tot) // 10]:.1f}')
    for t in (0, 1):
        print(f'  t{t}: ' + ', '.join(f'{names[p]} {st.median([r[t * P + p] for r in sel]):.1f}' for p in (1, 8, 2, 3, 4, 5, 6, 7, 9) if any(r[t * P + p] for r in sel)))
