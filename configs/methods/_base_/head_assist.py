# HEAD's assistant head (repro/distill/assistant.py, where our reading of the method is written down). Values from
# the authors' released configs: mimic loss weight 2.0, ramped up linearly over the first 2000 iterations (the tiny
# profile shortens the ramp to its LR warm-up), assistant initialised from the teacher's head, and the student's
# detections (score > 0.05, NMS 0.5, top 100 after 1000 per level) as the assistant RoI head's proposals.
assist = dict(mimic_weight=2.0, warmup_iters=2000, init_from_teacher=True,
              proposals=dict(nms_pre=1000, score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5),
                             max_per_img=100))
