# FGFI's fine-grained feature imitation (Wang et al., CVPR 2019) on the FPN outputs. Sources:
# - imitation mask (`fine_grained` guide): per GT box, the locations with an anchor whose IoU exceeds ψ·(max IoU
#   over all anchors of all levels), ψ = 0.5 (the paper's value; iou_factor=0.5 in the official code), union over boxes.
# - loss (repro/distill/losses/fitnets.py FGFILoss): Σ_masked ‖f_adap(s) − t‖² / (2·N_p), N_p the number of masked
#   locations (the paper's imitation loss; official code: norms = 2·mask.sum()).
# - weight λ = 0.01: the official code's default imitation weight (twangnh/Distilling-Object-Detectors,
#   trainval_net_sup.py, --ilw 0.01).
# - adaptation layer: the official 3x3 conv, without its ReLU (VGG features were post-ReLU; FPN outputs are signed).
#   FGFI also skips the imitation loss for its first 400 warm-up steps; not done here.
distill = dict(
    terms=dict(
        neck=dict(feature='neck', guide=dict(type='fine_grained', psi=0.5),
                  loss=dict(type='FGFILoss', kernel_size=3), weight=0.01)))
