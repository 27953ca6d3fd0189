# CrossKD on RTMDet (issue 21, our extension: no paper reports it): RTMDet-L teacher -> RTMDet-S student, both
# mmdet's 300-epoch configs. Terms of _base_/crosskd_box_terms.py (RTMDet regresses distances that its loss decodes
# to boxes and scores with GIoU, as RetinaNet/ATSS's CrossKD does):
# - layer 1 of RTMDet's 2 tower layers: the student's pre-activation output of its first tower conv runs through
#   the teacher's second tower conv (the level's own, SepBN) and predictors, the position of CrossKD's layer 3 of 4
#   (the teacher runs its last tower layer); re-normalised to the teacher's statistics as released.
# - adapt: the heads are 128 (S) and 256 (L) channels wide; a 1x1 conv (kd_adapters) maps the student's feature to
#   the teacher's width first, as for every heterogeneous pair (FIDELITY.md, "Channel adapters").
# - cls: QFL-style BCE against the teacher's sigmoid scores (RTMDet's cls is QFL-trained: an IoU-aware score), over
#   every location with a label weight, / the number of positives of the student's dynamic soft-label assignment.
# - reg: GIoU of the decoded cross-head and teacher boxes, weighted by σ(teacher's max class logit), / the same count.
_base_ = ['../detectors/rtmdet_s.py', './_base_/crosskd_box_terms.py']
teacher = dict(config='configs/teachers/rtmdet_l.py')
distill = dict(layer=1, adapt=True)
