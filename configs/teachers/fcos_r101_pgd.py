# FCOS R101-FPN with the PGD student's settings (configs/detectors/fcos_r50.py), 1x: teacher of PGD's FCOS rows.
# The bridge derives the FPN widths from the depth. PGD's teacher is R101 3x multi-scale (43.1 AP in PGD Table 1)
# and caffe-style; mmdet's zoo has no weights for either, so both profiles train this one first (the coco profile
# takes teacher.checkpoint=PATH instead). CrossKD Table 8's FCOS teacher is mmdet's (configs/teachers/fcos_r101.py).
_base_ = '../detectors/fcos_r50.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(checkpoint='torchvision://resnet101')))
# The released teachers train with the authors' 3x setting (work_configs/base/3x_setting.py: grad_clip=None), so
# this one drops the student's clip at 35 (FIDELITY.md, PGD, "Gradient clipping").
optim_wrapper = dict(clip_grad=None)
zoo_checkpoint = None
