# GFL R50-FPN, 1x: the teacher of CrossKD's ablation tables (R50 -> R18, Sec. 4.2; 40.2 AP in mmdet's zoo). The
# same detector as the student config; as a teacher, the tiny profile trains it on the teachers' longer schedule.
_base_ = '../detectors/gfl_r50.py'
