# CrossKD between heterogeneous backbones (CrossKD Table 9, 38.0 AP): RetinaNet Swin-T 1x teacher -> RetinaNet R50
# 1x student (36.5), with the RetinaNet settings of _base_/crosskd_box_terms.py. The heads have the same width, so
# no adapter is needed; set distill.adapt=True where they differ.
_base_ = ['../detectors/retinanet_r50.py', './_base_/crosskd_box_terms.py']
teacher = dict(config='configs/teachers/retinanet_swin_t.py')
