# PGD on DDOD (PGD Table 1): R101 teacher -> R50 student, terms of _base_/pgd_terms.py.
# The paper's teachers are R101 3x multi-scale; mmdet's zoo has no DDOD R101 (see configs/teachers/ddod_r101.py).
# Released values: α = 0.08, τ = 0.8, δ = 0.0008 (work_configs/pgd_ddod_r101_r50_1x.py); K = 30 (PGWAnchorModule
# topk=30 in work_configs/detectors/ddod_r50_distill_head.py). Paper variant: α = 0.8 (anchor-based), K = 30.
_base_ = ['../detectors/ddod_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/ddod_r101.py')
distill = dict(
    inherit=True,  # the student's neck and head start from the teacher's: init_student=True in the released config
    terms=dict(cls=dict(guide=dict(k=30), loss=dict(alpha=0.08, tau=0.8)),
               reg=dict(guide=dict(k=30), loss=dict(alpha=0.08, tau=0.8))))
