import json, sys, multiprocessing as mp
from exp import run_variant
V = {
 'A_raw_none_und': dict(),
 'B_raw_glob_und': dict(cut='global'),
 'C_raw_mutual_und': dict(cut='mutual'),
 'D_fm_k30w5_und': dict(weight='rownorm', cut='facemap', omega=5),
 'D2_fm_k100w10_und': dict(weight='rownorm', cut='facemap', omega=10, K=100),
 'E_soft.1_none_und': dict(weight='softmax', T=0.1),
 'F_pow4_none_und': dict(weight='pow', pw=4),
 'G_nep_es_dir': dict(weight='nep', cut='nep', flow='dir'),
 'H_raw_glob_dir': dict(cut='global', flow='dir'),
 'I_raw_glob_und_g30': dict(cut='global', gate=30),
 'J_raw_glob_und_g50': dict(cut='global', gate=50),
 'K_raw_none_und_g30': dict(gate=30),
 'L_soft.1_glob_und_g30': dict(weight='softmax', T=0.1, cut='global', gate=30),
 'M_raw_glob_dir_qtele': dict(cut='global', flow='dir', qtele=True),
 'N_raw_glob_dir_qout': dict(cut='global', flow='dir', qoutonly=True),
 'O_raw_globmut_und_g30': dict(cut='global+mutual', gate=30),
 'P_raw_glob_und_g30_min3': dict(cut='global', gate=30, minsize=3),
 'Q_fm30_und_g30': dict(weight='rownorm', cut='facemap', omega=5, gate=30),
 'R_fm30_und_g30_attall': dict(weight='rownorm', cut='facemap', omega=5, gate=30, attach='always'),
 'S_raw_glob_und_g30_attall': dict(cut='global', gate=30, attach='always'),
 'T_pow4_none_und_g30': dict(weight='pow', pw=4, gate=30),
 'U_pow4_glob_und_g30': dict(weight='pow', pw=4, cut='global', gate=30),
 'W_raw_globmut_und_g30_attall': dict(cut='global+mutual', gate=30, attach='always'),
 'Y_raw_globL_und_g30': dict(cut='global', gate=30, thr_from='linkage'),
 'Z_raw_globmutL_und_g30': dict(cut='global+mutual', gate=30, thr_from='linkage'),
 'a_fmglob_und': dict(weight='rownorm', cut='facemap+global', omega=5),
 'b_fmmut_und': dict(weight='rownorm', cut='facemap+mutual', omega=5),
 'c_fm_w3_und': dict(weight='rownorm', cut='facemap', omega=3),
 'd_fm_w8_und': dict(weight='rownorm', cut='facemap', omega=8),
 'e_fm_pow4_und': dict(weight='pow', pw=4, cut='facemap', omega=5),
 'f_fm_raw_und': dict(weight='raw', cut='facemap', omega=5),
 'g_fm_dir': dict(weight='rownorm', cut='facemap', omega=5, flow='dir'),
 'h_fmglob_und_g30': dict(weight='rownorm', cut='facemap+global', omega=5, gate=30),
 'i_fmglob_und_g50': dict(weight='rownorm', cut='facemap+global', omega=5, gate=50),
 'j_fm_und_g50': dict(weight='rownorm', cut='facemap', omega=5, gate=50),
 'k_glob_und_g20': dict(cut='global', gate=20),
 'l_fm_und_g20': dict(weight='rownorm', cut='facemap', omega=5, gate=20),
 'm_fmglobmut_und': dict(weight='rownorm', cut='facemap+global+mutual', omega=5),
 'R1_glob_g30_attL': dict(cut='global', gate=30, attach='thrL', reattach=True),
 'R2_glob_g50_attL': dict(cut='global', gate=50, attach='thrL', reattach=True),
 'R3_fmglob_g30_attL': dict(weight='rownorm', cut='facemap+global', omega=5, gate=30, attach='thrL', reattach=True),
 'R4_fmmut_g30_attL': dict(weight='rownorm', cut='facemap+mutual', omega=5, gate=30, attach='thrL', reattach=True),
 'R5_fmglobmut_g30_attL': dict(weight='rownorm', cut='facemap+global+mutual', omega=5, gate=30, attach='thrL', reattach=True),
 'R6_glob_g30_attT': dict(cut='global', gate=30, attach='thr', reattach=True),
 'R7_fm_g30_attL': dict(weight='rownorm', cut='facemap', omega=5, gate=30, attach='thrL', reattach=True),
 'M2_fmmut_mt2': dict(weight='rownorm', cut='facemap+mutual', omega=5, mt=2.0),
 'M3_glob_mt2': dict(cut='global', mt=2.0),
 'M4_fmmut_mt.5': dict(weight='rownorm', cut='facemap+mutual', omega=5, mt=0.5),
 'X1_fmglob_grho_attT': dict(weight='rownorm', cut='facemap+global', omega=5, gate='rho', attach='thr', reattach=True),
 'X2_fmglob_grho_attL': dict(weight='rownorm', cut='facemap+global', omega=5, gate='rho', attach='thrL', reattach=True),
 'X3_glob_grho_attL': dict(cut='global', gate='rho', attach='thrL', reattach=True),
 'X4_fmglob_grho_attT_s2': dict(weight='rownorm', cut='facemap+global', omega=5, gate='rho', attach='thr', reattach=True, seed=2),
 'X5_fmglob_g50_attL': dict(weight='rownorm', cut='facemap+global', omega=5, gate=50, attach='thrL', reattach=True),
 'X6_fmglob_g30_attT_force': dict(weight='rownorm', cut='facemap+global', omega=5, gate=30, attach='thr', reattach=True, force_gate=True),
 'Y1_globmut_k50': dict(cut='global+mutual', K=50),
 'Y2_pow4_mut': dict(weight='pow', pw=4, cut='mutual'),
 'Y3_nep_und': dict(weight='nep', cut='nep', flow='und'),
 'Y4_globmut_dir': dict(cut='global+mutual', flow='dir'),
 'Y5_globmutL': dict(cut='global+mutual', thr_from='linkage'),
 'Y6_pow2_globmut': dict(weight='pow', pw=2, cut='global+mutual'),
 'Z1_fmglob_grho_attL_sym': dict(weight='rownorm', cut='facemap+global', omega=5, gate='rho', attach='thrL', reattach=True, symattach=True),
 'Z2_fmglob_grho_attT_sym': dict(weight='rownorm', cut='facemap+global', omega=5, gate='rho', attach='thr', reattach=True, symattach=True),
 'Z3_glob_grho_attL_sym': dict(cut='global', gate='rho', attach='thrL', reattach=True, symattach=True),
 'Z4_fmglob_g30_attL_sym': dict(weight='rownorm', cut='facemap+global', omega=5, gate=30, attach='thrL', reattach=True, symattach=True),
 'Z5_fmglob_g50_attL_sym': dict(weight='rownorm', cut='facemap+global', omega=5, gate=50, attach='thrL', reattach=True, symattach=True),
 'S1_fmglob_grho_attL_sym_seed': dict(weight='rownorm', cut='facemap+global', omega=5, gate='rho', attach='thrL', reattach=True, symattach=True, seeds=True),
 'S2_fmglob_grho_attT_sym_seed': dict(weight='rownorm', cut='facemap+global', omega=5, gate='rho', attach='thr', reattach=True, symattach=True, seeds=True),
 'S3_glob_grho_attL_sym_seed': dict(cut='global', gate='rho', attach='thrL', reattach=True, symattach=True, seeds=True),
 'S1_slope55': dict(weight='rownorm', cut='facemap+global', omega=5, gate='rho', attach='thrL', reattach=True, symattach=True, seeds=True, rhoslope=55),
 'S1_slope85': dict(weight='rownorm', cut='facemap+global', omega=5, gate='rho', attach='thrL', reattach=True, symattach=True, seeds=True, rhoslope=85),
 'S1_k50': dict(weight='rownorm', cut='facemap+global', omega=8, gate='rho', attach='thrL', reattach=True, symattach=True, seeds=True, K=50),
 'S1_slope100': dict(weight='rownorm', cut='facemap+global', omega=5, gate='rho', attach='thrL', reattach=True, symattach=True, seeds=True, rhoslope=100),
}
def job(args):
    s, v = args
    try:
        r = run_variant(s, **V[v])
    except Exception as e:
        r = dict(err=repr(e))
    r.update(set=s, variant=v)
    return r
if __name__ == '__main__':
    sets = sys.argv[1].split(',')
    vs = sys.argv[2].split(',') if len(sys.argv) > 2 else list(V)
    jobs = [(s, v) for s in sets for v in vs]
    with mp.Pool(2) as pool, open(sys.argv[3] if len(sys.argv) > 3 else 'grid.jsonl', 'a') as out:
        for r in pool.imap_unordered(job, jobs):
            out.write(json.dumps(r) + '\n'); out.flush()
