# CrossKD between heterogeneous backbones (CrossKD Table 9): RetinaNet Swin-T teacher -> RetinaNet R50 student.
# The heads have the same width, so no adapter is needed; set distill.adapt=True where they differ.
_base_ = './crosskd_retinanet.py'
teacher = dict(config='configs/teachers/retinanet_swin_t.py')
