# CrossKD between heterogeneous backbones (CrossKD Table 9, the MobileNetV2 rows): RetinaNet R50 1x teacher (36.5)
# -> RetinaNet MobileNetV2 1x student (30.9), with the RetinaNet settings of _base_/crosskd_box_terms.py.
_base_ = ['../detectors/retinanet_mbv2.py', './_base_/crosskd_box_terms.py']
teacher = dict(config='configs/detectors/retinanet_r50.py')
