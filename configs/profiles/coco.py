# The `coco` profile: the papers' exact setup. The model configs in configs/ already are mmdet's COCO configs
# (8 GPUs x 2 images, 1x or the teacher's schedule, ImageNet-pretrained backbones, default hyper-parameters),
# so this layer only points them at COCO 2017. The root is `data/coco` unless --data-root or REPRO_COCO_ROOT
# says otherwise; it must hold annotations/instances_{train,val}2017.json, train2017/ and val2017/.
overrides = dict(
    # Each epoch's checkpoint of a real-size model is about 260 MB (3 GB a 1x run): keep the last one, from which a
    # run resumes, and the best by the first val metric (COCO's bbox_mAP, CrowdHuman's AP). Both are better when
    # greater; mmengine infers that from a key's name, and cannot for `crowd/AP`, so the rule is given.
    default_hooks=dict(checkpoint=dict(interval=1, max_keep_ckpts=1, save_best='auto', rule='greater')),
    # The configs' LR is for 8 GPUs x their images per GPU (the papers' 8 x 2; RTMDet's 8 x 32); mmengine scales it
    # linearly to the batch a run really has (1 GPU x 2 images of a 8 x 2 config: LR / 8), and repro.train records
    # both. The base batch is set from `base_gpus` by repro.plan.compile, before the user's overrides.
    auto_scale_lr=dict(enable=True),
)
base_gpus = 8  # mmdet's and the papers' configs are all written for 8 GPUs (their names: 8xb2, 8xb32, ...)
# A config on another dataset (`dataset`, configs/datasets/) reads that dataset's root instead: for CrowdHuman,
# --data-root, else $REPRO_CROWDHUMAN_ROOT, else data/crowdhuman (repro/profiles.py DATASETS says what it holds).
