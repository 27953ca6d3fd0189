# The `tiny` profile: an override layer that makes any model config in configs/ train on the embedded
# synthetic dataset on a CPU in minutes. Narrow backbones trained from scratch (no pretrained weights can be
# downloaded), small images, and each config's own epoch count over a small train split, so a teacher's
# 2x schedule is still twice a student's 1x. Sizes were chosen from CPU step times in ../shared/STACK-FACTS.md.

# repro.data.synthetic.SyntheticSpec; the dataset is generated once and cached under ~/.cache/repro/data.
# 1000 val images: on 100, the GFL R50 student's AP varied 0.94 between seeds 0-4; the same weights on 1000 varied
# 0.56 (benchmarks/seed_noise/probes/). Evaluating 1000 images costs about 1.5 minutes of a 10-minute run.
synthetic = dict(seed=0, num_train=400, num_val=1000, image_size=192)
# Stand-ins for the datasets a config can name (`dataset`, configs/datasets/), merged over `synthetic`. CrowdHuman:
# one class, 'person', in groups whose neighbours overlap with IoU 0.3-0.7, up to 14 people an image (about 9.6 on
# average, 1.9 pairs an image with IoU > 0.5), ignore regions in about half the images (repro/data/crowd_scene.py).
synthetic_for = dict(crowdhuman=dict(scene='crowd', max_objects=14))
# A narrow version of each backbone type, merged over the config's backbone (before the user's overrides); the
# bridge derives the FPN's in_channels from the result. About a quarter of the paper-size widths.
backbones = dict(
    ResNet=dict(base_channels=16, frozen_stages=-1, norm_eval=False, norm_cfg=dict(type='BN', requires_grad=True),
                init_cfg=None),
    SwinTransformer=dict(embed_dims=24, drop_path_rate=0.1, convert_weights=False, init_cfg=None),
    MobileNetV2=dict(widen_factor=0.5, frozen_stages=-1, norm_eval=False, init_cfg=None),
    CSPNeXt=dict(norm_cfg=dict(type='BN'), init_cfg=None),
    CSPDarknet=dict(),  # YOLOX's: BN already, no pretrained weights; relative_widths narrows it
)
# Backbone types whose detectors come in sizes (RTMDet-S/L): instead of `parts`' fixed 64 channels, the backbone's
# widen_factor, the neck's out_channels and the head's in/feat_channels are the config's times this factor, so a
# pair keeps its width ratio (tiny RTMDet-L: 64 channels, RTMDet-S: 32). Their SyncBN becomes BN (one process).
relative_widths = dict(CSPNeXt=0.25, CSPDarknet=0.25)  # YOLOX-L/S: 64 and 32 channels
# BatchSyncRandomResize (YOLOX's multi-scale batches): 480-800 px around COCO's 640, here 128-256 around 192.
batch_resize = dict(random_size_range=(128, 256))
# Configs with a YOLO-style schedule (more than `over` epochs: RTMDet's and YOLOX's 300) train `epochs` epochs here, their
# epoch-based LR steps, pipeline switch and dynamic validation intervals shrunk with them; teachers (configs/teachers/)
# train `teacher_epochs`, twice their students', as a 1x teacher becomes 2x. At 24 epochs the tiny RTMDet-L (three
# times RTMDet-S's depth, from scratch) reached 12.6 AP, under its RTMDet-S student's 13.5 (seed 0, commit 902d910).
long_schedule = dict(over=100, epochs=24, teacher_epochs=48)
# Per head type, merged over the config's bbox_head like `backbones`: what the small images or training from scratch
# cannot run. mmcv's deformable conv (DDOD's first tower layer) rejects maps under 3x3, and a 192 px image's P7 is
# 2x2. RetinaNet's tower is the only one without normalisation; from scratch it did not learn: the R50 student scored
# 0.0 AP (loss_cls 1.13 -> 0.93 in 12 epochs, the same score 0.036 everywhere), also with its init std doubled to
# keep the 256-channel gain; with GN in the tower, like the other one-stage heads here, 9.9 AP (e0342d3c2e9b).
heads = dict(DDODHead=dict(use_dcn=False),
             RetinaHead=dict(norm_cfg=dict(type='GN', num_groups=32, requires_grad=True)))
# Narrow widths per model part, merged into the parts a model config has (dense detectors have a bbox_head,
# two-stage ones an rpn_head and a roi_head): a quarter of the paper-size 256-channel FPN and heads.
parts = dict(
    neck=dict(out_channels=64),
    bbox_head=dict(in_channels=64, feat_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=64), bbox_head=dict(in_channels=64, fc_out_channels=256)))
# Teachers (configs/teachers/) train at least this many epochs, their LR steps stretched with them (1x -> 2x). At
# 1x the tiny ATSS R101 teacher was level with its R50 student (16.6 vs 16.2 AP); at 2x it reached 20.1.
teacher_min_epochs = 24
# LinearLR warm-up in iterations: the COCO configs' 500 would cover most of a tiny 1x run (12 x 50 iterations).
warmup_iters = 100

img_scale = (192, 192)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
val_loader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file='annotations/instances_val.json', data_prefix=dict(img='val/'), pipeline=test_pipeline))

overrides = dict(
    train_dataloader=dict(
        batch_size=8, num_workers=1, persistent_workers=True,
        dataset=dict(ann_file='annotations/instances_train.json', data_prefix=dict(img='train/'),
                     filter_cfg=dict(filter_empty_gt=True, min_size=0), pipeline=train_pipeline)),
    val_dataloader=val_loader,
    test_dataloader=val_loader,
    default_hooks=dict(logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=2),
                       visualization=dict(draw=False)),
    log_processor=dict(window_size=10),
    env_cfg=dict(dist_cfg=dict(backend='gloo')),
)
