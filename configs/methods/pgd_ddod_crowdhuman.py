# PGD on DDOD, CrowdHuman (PGD Table 3, "Ours"): R101 teacher (36 epochs, multi-scale) -> R50 student (1x).
# Terms of _base_/pgd_terms.py. Released values: α = 0.001 (their COCO configs use 0.08), τ = 0.8, δ = 0.0008
# (work_configs/pgd_ddod_crowdhuman_r101_r50.py); K = 30 (PGWAnchorModule topk=30 in
# work_configs/det_crowdhuman/ddod_r50_distill_head.py). Paper variant: the text gives one α for both datasets,
# 0.8 (anchor-based), and K = 30.
_base_ = ['../detectors/ddod_r50_crowdhuman.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/ddod_r101_crowdhuman.py')
distill = dict(
    inherit=True,  # the student's neck and head start from the teacher's: init_student=True in the released config
    terms=dict(cls=dict(guide=dict(k=30), loss=dict(alpha=0.001, tau=0.8)),
               reg=dict(guide=dict(k=30), loss=dict(alpha=0.001, tau=0.8))))
