"""HEAD (Wang et al., "HEAD: HEtero-Assists Distillation for Heterogeneous Object Detectors", ECCV 2022).

An *assistant head* with the teacher's head structure sits on the student's FPN features. It is trained with the
detection loss on the ground truth and, through learned linear adapters, to mimic the teacher head's features on
the same inputs (MSE). Its gradients, and only its, carry the teacher's knowledge into the student's backbone and
neck: the student's own head gets the detection loss alone. At test time the assistant is not used, and it is not
part of the saved student (its modules carry the `kd_` prefix).

Our reading of HEAD, as the CrossKD paper describes it for its Table 5 ("delivers the student features to an
assistant head with the same structure as the teacher ... optimized during training by mimicking the features of
the teacher's head"), and as the authors' released configs set it:
- two-stage teacher (Faster R-CNN): the assistant is a copy of the teacher's RoI head, initialised from the
  teacher's weights. Its proposals are the student's own detections (the dense student plays the RPN); the RoI
  sampler adds the GT boxes, so early, empty detections still train it. Mimicked: the outputs of each shared fc
  layer of the box head, on the same sampled RoIs pooled from the teacher's own FPN. RoI pooling reads the
  student's first four FPN levels (strides 8-64; the dense student has no stride-4 level).
- dense teacher (RetinaNet R50 to R18, the homogeneous case where HEAD "degenerates to FitNet"): the assistant is a
  copy of the teacher's dense head; mimicked: the last cls and reg tower features, through 1x1 convs.
- The mimic weight (2.0) ramps up linearly over `warmup_iters` iterations (2000 in the authors' configs).
- Left out: the released code's extra "cross" term from the student's own cls tower to the teacher's RoI features.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from mmdet.models.detectors import SingleStageDetector
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import MODELS
from mmengine.config import ConfigDict
from torch import Tensor, nn

from repro.distill.adapters import adapter_for
from repro.distill.adapters.base import BRANCHES
from repro.distill.detector import student_parts
from repro.distill.ramp import linear_ramp
from repro.distill.teacher import GuestTeacher
from repro.errors import ReproError

# the student's detections that become the assistant RoI head's proposals (HEAD's released RPN test settings)
PROPOSALS = dict(nms_pre=1000, score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5), max_per_img=100,
                 min_bbox_size=0)


@MODELS.register_module()
class AssistantHeadDetector(GuestTeacher, SingleStageDetector):
    """Args:
        student: the dense student detector's model config.
        teacher: the teacher's model config: a two-stage detector with a `roi_head`, or a dense one.
        assist: mimic_weight (2.0), warmup_iters (2000), init_from_teacher (True), proposals (PROPOSALS).
        teacher_checkpoint: path or URL of the teacher's weights; None leaves it random (tests only).
    """

    def __init__(self, student: dict, teacher: dict, assist: dict | None = None,
                 teacher_checkpoint: str | None = None, data_preprocessor=None, init_cfg=None):
        super().__init__(**student_parts(student), init_cfg=init_cfg,
                         data_preprocessor=data_preprocessor or student.get('data_preprocessor'))
        assist = dict(assist or {})
        unknown = set(assist) - {'mimic_weight', 'warmup_iters', 'init_from_teacher', 'proposals'}
        if unknown:
            raise ReproError(f'unknown assist keys {sorted(unknown)}: allowed are mimic_weight, warmup_iters, '
                             'init_from_teacher, proposals')
        self.mimic_weight = float(assist.get('mimic_weight', 2.0))
        self.warmup_iters = int(assist.get('warmup_iters', 2000))
        self.init_from_teacher = bool(assist.get('init_from_teacher', True))
        self.proposal_cfg = ConfigDict({**PROPOSALS, **assist.get('proposals', {})})
        guest = self.attach_teacher(teacher, teacher_checkpoint)
        self.two_stage = hasattr(guest, 'roi_head')
        self.kd_assistant = self._build_assistant(teacher, guest)
        if self.two_stage:
            widths = [fc.out_features for fc in guest.roi_head.bbox_head.shared_fcs]
            self.kd_mimic = nn.ModuleList(nn.Linear(w, w) for w in widths)
        else:
            self.teacher_adapter = adapter_for(guest.bbox_head)
            # the mimicked features are the last layer's (TOOD's: its whole stack's output, wider than one layer)
            width = self.teacher_adapter.width(self.teacher_adapter.num_layers)
            self.kd_mimic = nn.ModuleList(nn.Conv2d(width, width, 1) for _ in BRANCHES)

    def _build_assistant(self, teacher: dict, guest) -> nn.Module:
        part = 'roi_head' if self.two_stage else 'bbox_head'
        cfg = copy.deepcopy(dict(teacher[part]))
        stage = 'rcnn' if self.two_stage else None
        train_cfg, test_cfg = teacher.get('train_cfg') or {}, teacher.get('test_cfg') or {}
        cfg['train_cfg'] = train_cfg.get(stage) if stage else train_cfg
        cfg['test_cfg'] = test_cfg.get(stage) if stage else test_cfg
        if self.two_stage:
            if guest.roi_head.bbox_head.num_shared_convs or not guest.roi_head.bbox_head.shared_fcs:
                raise ReproError('HEAD mimics the shared fc layers of the teacher\'s box head; this teacher\'s box '
                                 'head has shared convs or no shared fcs')
            strides = self.bbox_head.prior_generator.strides
            cfg['bbox_roi_extractor'] = dict(cfg['bbox_roi_extractor'], featmap_strides=[s[0] for s in strides[:4]])
        width = self.neck.out_channels if self.with_neck else None
        teacher_width = guest.neck.out_channels if guest.with_neck else None
        if width != teacher_width:
            raise ReproError(f'HEAD\'s assistant takes the student\'s FPN features ({width} channels) into the '
                             f'teacher\'s head structure ({teacher_width} channels): make the widths equal')
        return MODELS.build(cfg)

    def init_weights(self):
        """After the student's own initialisation, start the assistant from the teacher's head (HEAD's weight
        transfer): mmengine's Runner calls this once the model is built, so copying earlier would be undone."""
        super().init_weights()
        if self.init_from_teacher:
            source = self.teacher.roi_head if self.two_stage else self.teacher.bbox_head
            self.kd_assistant.load_state_dict(source.state_dict())

    # --- training -------------------------------------------------------------------------------------------
    def loss(self, batch_inputs: Tensor, batch_data_samples) -> dict:
        feats = self.extract_feat(batch_inputs)
        outs = self.bbox_head(feats)
        gt_instances, gt_ignore, img_metas = unpack_gt_instances(batch_data_samples)
        losses = self.bbox_head.loss_by_feat(*outs, gt_instances, img_metas, gt_ignore)
        with torch.no_grad():
            t_feats = self.teacher.extract_feat(self.teacher_inputs(batch_inputs))
        if self.two_stage:
            assist, mimic = self._roi_assistant(feats, t_feats, outs, gt_instances, gt_ignore, img_metas)
        else:
            assist, mimic = self._dense_assistant(feats, t_feats, gt_instances, gt_ignore, img_metas)
        losses.update({f'loss_kd_assistant_{k[len("loss_"):]}': v for k, v in assist.items() if 'loss' in k})
        ramp = linear_ramp(self.warmup_iters, offset=1)
        for i, value in enumerate(mimic):
            losses[f'loss_kd_mimic{i}'] = self.mimic_weight * ramp * value
        return losses

    def _roi_assistant(self, feats, t_feats, outs, gt_instances, gt_ignore, img_metas):
        detached = [[m.detach() for m in maps] for maps in outs]
        with torch.no_grad():
            proposals = self.bbox_head.predict_by_feat(*detached, batch_img_metas=img_metas, cfg=self.proposal_cfg,
                                                       rescale=False)
        head = self.kd_assistant
        samples = []
        for i, props in enumerate(proposals):
            props.priors = props.pop('bboxes')
            assigned = head.bbox_assigner.assign(props, gt_instances[i], gt_ignore[i])
            samples.append(head.bbox_sampler.sample(assigned, props, gt_instances[i],
                                                    feats=[level[i][None] for level in feats]))
        results = head.bbox_loss(feats, samples)
        from mmdet.structures.bbox import bbox2roi
        rois = bbox2roi([s.priors for s in samples])
        with torch.no_grad():
            teacher_head = self.teacher.roi_head
            t_rois = teacher_head.bbox_roi_extractor(t_feats[:teacher_head.bbox_roi_extractor.num_inputs], rois)
            targets = shared_fc_outputs(teacher_head.bbox_head, t_rois)
        mine = shared_fc_outputs(head.bbox_head, results['bbox_feats'])
        mimic = [F.mse_loss(adapt(a), t) for adapt, a, t in zip(self.kd_mimic, mine, targets)]
        return results['loss_bbox'], mimic

    def _dense_assistant(self, feats, t_feats, gt_instances, gt_ignore, img_metas):
        adapter = adapter_for(self.kd_assistant)
        layer = adapter.num_layers
        out = adapter.forward(feats, layer)
        assist = self.kd_assistant.loss_by_feat(*adapter.loss_inputs(out.preds), gt_instances, img_metas, gt_ignore)
        with torch.no_grad():
            t_out = self.teacher_adapter.forward(t_feats, layer)
        mimic = [sum(F.mse_loss(adapt(a), t) for a, t in zip(out.feats[b], t_out.feats[b])) / len(feats)
                 for adapt, b in zip(self.kd_mimic, BRANCHES)]
        return assist, mimic


def shared_fc_outputs(bbox_head, roi_feats: Tensor) -> list[Tensor]:
    """The output of each shared fc layer of an mmdet ConvFCBBoxHead (before its ReLU) on RoI features."""
    x = roi_feats.flatten(1)
    outputs = []
    for fc in bbox_head.shared_fcs:
        x = fc(x)
        outputs.append(x)
        x = bbox_head.relu(x)
    return outputs
