# GFL R18-FPN, 1x: the student of CrossKD's ablations (Section 4.2, Tables 1-4, 10, 11; its teacher is GFL R50,
# configs/detectors/gfl_r50.py) and of Table 6. The FPN widths and the ImageNet checkpoint follow the depth.
_base_ = './gfl_r50.py'
model = dict(backbone=dict(depth=18))
zoo_checkpoint = None  # not in mmdet's zoo
