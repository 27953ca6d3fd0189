# PGD on FCOS with a MobileNetV2 student (PGD Table 2, "Ours": 32.8 -> 37.3 AP): the R101 teacher of Table 1
# (configs/teachers/fcos_r101.py, 43.1 AP in both tables) -> FCOS MobileNetV2 1x (configs/detectors/fcos_mbv2.py).
# Terms as _base_/pgd_terms.py with the anchor-free α = 0.04 of pgd_fcos.py (the authors' code; the text's 0.4).
# The teacher's caffe-style pixel normalisation differs from the student's ImageNet one: the distiller re-normalises
# the teacher's input (GuestTeacher.teacher_inputs).
_base_ = ['../detectors/fcos_mbv2.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/fcos_r101.py')
distill = dict(terms=dict(cls=dict(loss=dict(alpha=0.04)), reg=dict(loss=dict(alpha=0.04))))
