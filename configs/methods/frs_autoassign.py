# FRS on AutoAssign (PGD Table 1, FRS row: 42.4 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 44.8 /
# student 40.6 AP; the paper's teachers are R101 3x multi-scale, ours is configs/teachers/autoassign_r101.py
# (mmdet's zoo has no AutoAssign R101).
_base_ = ['../detectors/autoassign_r50.py', './_base_/frs_terms.py']
teacher = dict(config='configs/teachers/autoassign_r101.py')
# S uses AutoAssign's raw class scores, without the objectness its inference multiplies in (as FRS's code takes any
# head's class scores). Weights feature 0.01, cls 0.05: the authors' released FCOS config (config/distill_frs/
# resnet50_resnet101_fcos_frs.py); FRS released no AutoAssign config, we use the anchor-free (FCOS) values.
distill = dict(terms=dict(frs_feat=dict(weight=0.01), frs_cls=dict(weight=0.05)))
