# PGD on FCOS with a MobileNetV2 student (PGD Table 2, "Ours": 32.8 -> 37.3 AP): the R101 teacher of Table 1
# (configs/teachers/fcos_r101_pgd.py, 43.1 AP in both tables) -> FCOS MobileNetV2 1x (configs/detectors/fcos_mbv2.py).
# Terms of _base_/pgd_terms.py.
# Released values: α = 0.04, τ = 0.8, δ = 0.0008 (work_configs/pgd_fcos_r101_mb2_1x.py); K = 30
# (topk=30 in work_configs/detectors/fcos_mb2_distill_head.py). Paper variant: α = 0.4 (anchor-free), K = 30.
_base_ = ['../detectors/fcos_mbv2.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/fcos_r101_pgd.py')
distill = dict(
    inherit=True,  # the student's neck and head start from the teacher's: init_student=True in the released config
    terms=dict(cls=dict(guide=dict(k=30), loss=dict(alpha=0.04, tau=0.8)),
               reg=dict(guide=dict(k=30), loss=dict(alpha=0.04, tau=0.8))),
    variants=dict(paper=dict(terms=dict(cls=dict(loss=dict(alpha=0.4)), reg=dict(loss=dict(alpha=0.4))))))
