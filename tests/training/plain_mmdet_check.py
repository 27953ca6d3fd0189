"""Run as a script, with the harness unimportable: load an exported pair with plain mmdet only, detect on one val
image with DetInferencer, and evaluate with mmdet's own test loop. Prints one JSON line."""
import json
import os
import sys

sys.modules['repro'] = None  # any import of the harness fails

from mmdet.apis import DetInferencer  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

config, weights, work_dir = sys.argv[1:4]
inferencer = DetInferencer(model=config, weights=weights, device='cpu', show_progress=False)
cfg = Config.fromfile(config)
dataset = cfg.val_dataloader.dataset
images = os.path.join(dataset.data_root, dataset.data_prefix.img)
found = inferencer(os.path.join(images, sorted(os.listdir(images))[0]), return_vis=False)['predictions'][0]
cfg.load_from, cfg.work_dir = weights, work_dir
metrics = Runner.from_cfg(cfg).test()
names = {'AP': 'bbox_mAP', 'AP50': 'bbox_mAP_50', 'AP75': 'bbox_mAP_75', 'APs': 'bbox_mAP_s', 'APm': 'bbox_mAP_m',
         'APl': 'bbox_mAP_l'}
print(json.dumps({'detections': len(found['labels']), 'classes': list(inferencer.model.dataset_meta['classes']),
                  'metrics': {k: round(100 * metrics[f'coco/{v}'], 1) for k, v in names.items()}}))
