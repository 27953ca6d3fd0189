# PGD on YOLOX (issue 21, our extension): YOLOX-L -> YOLOX-S, terms of _base_/pgd_terms.py with FCOS's released
# anchor-free values (α = 0.04, τ = 0.8, δ = 0.0008, K = 30; pgd_fcos.py): YOLOX is anchor-free, one point per
# location. PGW's quality q = p^(1-ξ)·IoU^ξ takes p = the teacher's detection score of the GT class,
# σ(cls_c)·σ(objectness) (YOLOX's cls logits alone are trained at positives only), and IoU = that of the teacher's
# decoded box with the GT. Layer 1 is the output of the first of YOLOX's two tower convs, after its Swish; the
# student's maps (128 channels) reach the loss through the 1x1 kd_adapters conv to the teacher's 256 (distill.adapt).
# The cls level weights apply to the 3 levels (1-1.5).
_base_ = ['../detectors/yolox_s.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/yolox_l.py')
distill = dict(
    adapt=True,
    terms=dict(cls=dict(guide=dict(k=30), loss=dict(alpha=0.04, tau=0.8)),
               reg=dict(guide=dict(k=30), loss=dict(alpha=0.04, tau=0.8))),
    variants=dict(paper=dict(terms=dict(cls=dict(loss=dict(alpha=0.4)), reg=dict(loss=dict(alpha=0.4))))))
