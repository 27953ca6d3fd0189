# Prediction mimicking on GFL (CrossKD Tables 3 and 4): the same losses as CrossKD, but between the student's own
# predictions and the teacher's, so the KD loss reaches every student head layer (the "target conflict").
_base_ = './crosskd_gfl.py'
distill = dict(terms=dict(cls=dict(source='student'), reg=dict(source='student')))
