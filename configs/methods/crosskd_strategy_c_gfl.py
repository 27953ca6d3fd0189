# CrossKD Table 10, cross-head strategy (c), our reading of the figure: the student's own predictions are pulled
# towards the CrossKD cross-head predictions (student features through the teacher's layers i..end), which act as
# detached soft targets ("minimize the distances between the original predictions and the cross-head
# predictions"). The KD loss acts in the student's head, like prediction mimicking.
_base_ = './crosskd_gfl.py'
distill = dict(terms=dict(cls=dict(source='student', target='cross'), reg=dict(source='student', target='cross')))
