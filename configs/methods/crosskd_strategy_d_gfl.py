# CrossKD Table 10, cross-head strategy (d), our reading of the figure: the student's own predictions are pulled
# towards the reverse cross-head predictions of strategy (b) (the teacher's layer-i features through the student's
# layers i..end), detached.
_base_ = './crosskd_gfl.py'
distill = dict(terms=dict(cls=dict(source='student', target='reverse'), reg=dict(source='student', target='reverse')))
