# RTMDet-S (CSPNeXt-S backbone, CSPNeXtPAFPN neck, RTMDetSepBNHead), 300 epochs: the student of the modern-family
# pairs (issue 21). mmdet 3.3's config as is (44.5 AP in its zoo), Mosaic/MixUp pipeline, EMA and pipeline switch
# included; the tiny profile replaces the pipeline and shrinks the schedule and widths (configs/profiles/tiny.py).
_base_ = 'mmdet::rtmdet/rtmdet_s_8xb32-300e_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v3.0/rtmdet/rtmdet_s_8xb32-300e_coco/rtmdet_s_8xb32-300e_coco_20220905_161602-387a891e.pth'
