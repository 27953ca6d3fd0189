# The `coco` profile: the papers' exact setup. The model configs in configs/ already are mmdet's COCO configs
# (8 GPUs x 2 images, 1x or the teacher's schedule, ImageNet-pretrained backbones, default hyper-parameters),
# so this layer only points them at COCO 2017. The root is `data/coco` unless --data-root or REPRO_COCO_ROOT
# says otherwise; it must hold annotations/instances_{train,val}2017.json, train2017/ and val2017/.
overrides = dict()
# A config on another dataset (`dataset`, configs/datasets/) reads that dataset's root instead: for CrowdHuman,
# --data-root, else $REPRO_CROWDHUMAN_ROOT, else data/crowdhuman (repro/profiles.py DATASETS says what it holds).
