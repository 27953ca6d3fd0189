# PGD on ATSS with a MobileNetV2 student (PGD Table 2, "Ours": 33.5 -> 38.3 AP): the R101 teacher of Table 1
# (configs/teachers/atss_r101.py; the paper's is R101 3x multi-scale, 45.5 AP, mmdet's zoo has R101 1x only) ->
# ATSS MobileNetV2 1x (configs/detectors/atss_mbv2.py). Terms of _base_/pgd_terms.py.
# Released values: α = 0.04 (not pgd_atss's 0.08), τ = 0.8, δ = 0.0008 (work_configs/pgd_atss_r101_mb2_1x.py);
# K = 9 (PGWAnchorModule topk=9 in work_configs/detectors/atss_mb2_distill_head.py).
# Paper variant: α = 0.8 (anchor-based), K = 30.
_base_ = ['../detectors/atss_mbv2.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/atss_r101.py')
distill = dict(
    inherit=True,  # the student's neck and head start from the teacher's: init_student=True in the released config
    terms=dict(cls=dict(guide=dict(k=9), loss=dict(alpha=0.04, tau=0.8)),
               reg=dict(guide=dict(k=9), loss=dict(alpha=0.04, tau=0.8))))
