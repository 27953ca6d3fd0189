# FKD (Zhang & Ma, ICLR 2021) on the FPN maps: attention-guided feature imitation (spatial and channel attention of
# teacher and student, averaged), attention transfer, and non-local relation distillation with trainable non-local
# blocks. One term, loss FKDLoss (no guide: FKD uses no GT boxes).
# Hyper-parameters from the authors' released single-stage detector code (ArchipLab-LinfengZhang/
# Object-Detection-Knowledge-Distillation-ICLR2021, mmdet SingleStageDetector.forward_train), used for every
# detector there: T = 0.1 for both attention masks; weights 7e-5·6 (feature imitation), 4e-3·6 (attention
# transfer) and 7e-5·6 (non-local), written in that code as products; student/teacher mask ratio 1 (a plain
# average); 1x1 / 3x3 / linear adaptation layers; non-local blocks with 64 inner channels and 8x / 4x pooling on
# P3 / P4, C/2 channels and 2x pooling on P5-P7. These are FKDLoss's defaults. (The paper's text could not be
# consulted here; its printed weights may lack the code's factor 6.)
distill = dict(terms=dict(fkd=dict(feature='neck', loss=dict(type='FKDLoss'), weight=1.0)))
