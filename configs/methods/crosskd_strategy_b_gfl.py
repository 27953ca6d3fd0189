# CrossKD Table 10, cross-head strategy (b). The strategies are drawn in a figure that the paper's text does not
# describe; this is our reading of "reuses the student's detection head in the other direction": the teacher's
# layer-i head features (re-normalised to the student's statistics) go through the *student's* head layers i..end,
# and these reverse cross-head predictions are pulled towards the teacher's predictions. The KD loss thus lands on
# the student's head layers i..end and predictors, where the detection loss also acts, and never reaches the
# student's backbone, neck or head layers before i.
_base_ = './crosskd_gfl.py'
distill = dict(terms=dict(cls=dict(source='reverse'), reg=dict(source='reverse')))
