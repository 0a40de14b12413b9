#!/usr/bin/env python3
"""Copies cuda/ to DST and inserts GDN_MARK(i, values...) timeline points into the decode
kernel (recurrent_kernel.cuh), for timeline.cu. The kernel of the repository stays free of
them. Each point reads the SM clock after the listed values are available:

  0 entry   1 slot known   2 norms done   3 pass 1 done (the state has arrived)
  4 the reduction over K and uk done   5 update pass done (the state stored)   6 outputs stored

and GDN_MARK_WAIT() reads %globaltimer right after the wait for the previous grid of a
programmatic launch (early_state_reads).

Usage: mark.py SRC_CUDA_DIR DST_DIR. Fails (assert) if the kernel no longer has the lines
the points are anchored to: update the anchors with the kernel.
"""
import sys, shutil, os
src, dst = sys.argv[1], sys.argv[2]
if os.path.exists(dst): shutil.rmtree(dst)
shutil.copytree(src, dst)
p = dst + '/recurrent_kernel.cuh'
s = open(p).read()
def rep(old, new):
    global s
    assert s.count(old) == 1, old
    s = s.replace(old, new, 1)
rep('namespace gdn::kernels {\n', '#ifndef GDN_MARK\n#define GDN_MARK(...)\n#define GDN_MARK_WAIT()\n#endif\nnamespace gdn::kernels {\n')
rep('  const int tid = static_cast<int>(threadIdx.x);\n  const int lane', '  GDN_MARK(0);\n  const int tid = static_cast<int>(threadIdx.x);\n  const int lane')
rep('    wait_then_allow_next_grid();\n    load_token<Tr>', '    wait_then_allow_next_grid();\n    GDN_MARK_WAIT();\n    load_token<Tr>')
rep('  StateT* pool = static_cast<StateT*>(p.state);', '  GDN_MARK(1, seq.read_slot);\n  StateT* pool = static_cast<StateT*>(p.state);')
rep('    tile.wait();  // the state', '    GDN_MARK(2, rq, rk);\n    tile.wait();  // the state')
i = s.index('    tile.read_pass(')
j = s.index('    });\n', i) + len('    });\n')
s = s[:j] + '    GDN_MARK(3, sums[0][0], sums[kSums - 1][kCols - 1]);\n' + s[j:]
rep('    // Pass 2: S = exp(g) S', '    GDN_MARK(4, uk[0], uk[kCols - 1]);\n    // Pass 2: S = exp(g) S')
rep('        !last);\n', '        !last);\n    GDN_MARK(5, q_dot_s[0][0]);\n')
rep('  }\n  finish_cluster_reads<Tr>(reduction);\n}\n\n}  // namespace gdn::kernels',
    '  }\n  GDN_MARK(6);\n  finish_cluster_reads<Tr>(reduction);\n}\n\n}  // namespace gdn::kernels')
open(p, 'w').write(s)
