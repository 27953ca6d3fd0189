# PGD on GFL (PGD Table 1): R101 teacher -> R50 student, terms of _base_/pgd_terms.py; GFL places one anchor per
# location (anchor-based). Released values: α = 0.04 (although anchor-based), τ = 0.8, δ = 0.0008
# (work_configs/pgd_gfl_r101_r50_1x.py); K = 30 (PGWAnchorModule topk=30 in
# work_configs/detectors/gfl_r50_distill_head.py). Paper variant: α = 0.8 (anchor-based), K = 30.
_base_ = ['../detectors/gfl_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/gfl_r101.py')
distill = dict(
    inherit=True,  # the student's neck and head start from the teacher's: init_student=True in the released config
    terms=dict(cls=dict(guide=dict(k=30), loss=dict(alpha=0.04, tau=0.8)),
               reg=dict(guide=dict(k=30), loss=dict(alpha=0.04, tau=0.8))))
