# PGD on AutoAssign (PGD Table 1): R101 teacher -> R50 student, terms of _base_/pgd_terms.py.
# The paper's teachers are R101 3x multi-scale; mmdet's zoo has no AutoAssign R101
# (see configs/teachers/autoassign_r101.py).
# Released values: α = 0.08 (although anchor-free), τ = 0.4, δ = 0.0008 (work_configs/pgd_autoassign_r101_r50_1x.py);
# K = 30 (PGWAnchorFreeModule topk=30 in work_configs/detectors/autoassign_r50_distill_head.py).
# Paper variant: α = 0.4 (anchor-free), K = 30; τ stays 0.4.
_base_ = ['../detectors/autoassign_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/autoassign_r101.py')
distill = dict(
    inherit=True,  # the student's neck and head start from the teacher's: init_student=True in the released config
    terms=dict(cls=dict(guide=dict(k=30), loss=dict(alpha=0.08, tau=0.4)),
               reg=dict(guide=dict(k=30), loss=dict(alpha=0.08, tau=0.4))),
    variants=dict(paper=dict(terms=dict(cls=dict(loss=dict(alpha=0.4)), reg=dict(loss=dict(alpha=0.4))))))
