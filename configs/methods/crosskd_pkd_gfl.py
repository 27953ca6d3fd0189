# CrossKD + PKD on the FPN features (CrossKD Table 7, last row). The PKD weight is PKD's own FPN setting (6); the
# authors' released CrossKD+PKD configs use smaller weights for other detectors (0.5 for ATSS, 2 for FCOS).
_base_ = './crosskd_gfl.py'
distill = dict(terms=dict(neck=dict(feature='neck', loss=dict(type='PKDLoss'), weight=6.0)))
