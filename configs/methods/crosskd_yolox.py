# CrossKD on YOLOX (issue 21, our extension: no paper reports it): YOLOX-L teacher -> YOLOX-S student, both mmdet's
# 300-epoch configs (FIDELITY.md, YOLOX).
# - layer 1 of YOLOX's 2 tower layers: the student's pre-activation output of its first tower conv (the level's own:
#   YOLOX shares nothing across levels) runs through the teacher's second tower conv and predictors, re-normalised to
#   the teacher's statistics; a 1x1 conv (kd_adapters) maps the student's 128 channels to the teacher's 256 first.
# - YOLOX predicts three things; each KD term follows the detection loss it shadows:
#   cls: QFL-style BCE against the teacher's sigmoid class scores at the student's SimOTA positives only (YOLOX's
#     cls loss takes the positives only, so neither head's class logits are trained elsewhere), / their number;
#   objectness: the same BCE against the teacher's sigmoid objectness at every location (YOLOX's objectness loss
#     takes them all), / the number of positives;
#   reg: GIoU of the decoded cross-head and teacher boxes (log-sizes capped at 10^4 strides, YOLOXAdapter.decode),
#     weighted by the teacher's detection score max_c σ(cls_c)·σ(objectness), / the number of positives (CrossKD's box term, _base_/crosskd_box_terms.py).
_base_ = ['../detectors/yolox_s.py', './_base_/crosskd_box_terms.py']
teacher = dict(config='configs/teachers/yolox_l.py')
distill = dict(
    layer=1,
    adapt=True,
    terms=dict(
        cls=dict(region='pos'),
        objectness=dict(source='cross', pred='objectness', region='all', loss=dict(type='QualityFocalKD', beta=1.0),
                        weight=1.0)),
    variants=dict(paper=dict(terms=dict(objectness=dict(norm='weight_sum')))))
