# YOLOX-S (CSPDarknet backbone, YOLOXPAFPN neck, YOLOXHead), 300 epochs: a student of the modern-family pairs
# (issue 21). mmdet 3.3's config as is (40.5 AP in its zoo): BatchSyncRandomResize, Mosaic/RandomAffine/MixUp,
# YOLOXModeSwitchHook (the last 15 epochs without them and with the L1 loss), SyncNormHook and EMA included; the tiny
# profile replaces the pipeline and the resize range and shrinks the schedule and widths (configs/profiles/tiny.py).
_base_ = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/yolox/yolox_s_8x8_300e_coco/yolox_s_8x8_300e_coco_20211121_095711-4592a793.pth'
