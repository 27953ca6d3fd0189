# CrowdHuman (Shao et al., arXiv:1805.00123): full-body boxes of one class, 'person', with ignore regions
# (iscrowd=1), evaluated with CrowdDet's AP, MR^-2 and JI (PGD Table 3; repro/evaluation/crowd_metric.py).
# A config runs on it by listing this file in its _base_. `dataset` is a layer, not mmengine keys, so that it can
# sit beside a detector config that already has dataloaders: repro.plan.compile merges `overrides` over the
# config (before the profile), sets the classes in the datasets and num_classes in the model, and then
#   - the tiny profile swaps in its synthetic crowded scenes (synthetic_for in configs/profiles/tiny.py);
#   - the coco profile points the loaders at the CrowdHuman root: --data-root, else $REPRO_CROWDHUMAN_ROOT, else
#     data/crowdhuman, holding Images/ and the files `python -m repro.data.crowdhuman_root ROOT` writes.
# Scale (1400, 800), single-scale, as the PGD authors' CrowdHuman configs (work_configs/base/crowdhuman_1x_setting.py);
# their teacher's multi-scale training pipeline is in configs/teachers/ddod_r101_crowdhuman.py.
_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(1400, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1400, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
_val_loader = dict(dataset=dict(ann_file='annotations/crowdhuman_val.json', data_prefix=dict(img='Images/'),
                                pipeline=_test_pipeline))
_evaluator = dict(_delete_=True, type='CrowdDetMetric', ann_file='annotations/crowdhuman_val.json', iou_thr=0.5)
dataset = dict(
    name='crowdhuman',
    classes=('person',),
    overrides=dict(
        train_dataloader=dict(dataset=dict(ann_file='annotations/crowdhuman_train.json',
                                           data_prefix=dict(img='Images/'), pipeline=_train_pipeline)),
        val_dataloader=_val_loader,
        test_dataloader=_val_loader,
        val_evaluator=_evaluator,
        test_evaluator=_evaluator,
        custom_imports=dict(imports=['repro.evaluation'], allow_failed_imports=False)))
del _train_pipeline, _test_pipeline, _val_loader, _evaluator
