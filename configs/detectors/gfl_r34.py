# GFL R34-FPN, 1x: a lightweight student of CrossKD Table 6. The FPN widths and the ImageNet checkpoint follow the
# depth.
_base_ = './gfl_r50.py'
model = dict(backbone=dict(depth=34))
zoo_checkpoint = None  # not in mmdet's zoo
