# PGD on FCOS (PGD Tables 1, 6b): R101 teacher -> R50 student, terms of _base_/pgd_terms.py.
# Released values: α = 0.04, τ = 0.8, δ = 0.0008 (work_configs/pgd_fcos_r101_r50_1x.py); K = 30
# (PGWAnchorFreeModule topk=30 in work_configs/detectors/fcos_r50_distill_head.py).
# Paper variant: α = 0.4 (anchor-free), K = 30.
_base_ = ['../detectors/fcos_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/fcos_r101_pgd.py')
distill = dict(
    inherit=True,  # the student's neck and head start from the teacher's: init_student=True in the released config
    terms=dict(cls=dict(guide=dict(k=30), loss=dict(alpha=0.04, tau=0.8)),
               reg=dict(guide=dict(k=30), loss=dict(alpha=0.04, tau=0.8))),
    variants=dict(paper=dict(terms=dict(cls=dict(loss=dict(alpha=0.4)), reg=dict(loss=dict(alpha=0.4))))))
