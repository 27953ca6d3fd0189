import pytest

from repro.errors import ReproError
from repro.plan.compile import compile_config
from repro.profiles import CONFIG_DIR

METHODS = CONFIG_DIR / 'methods'
MODEL_CONFIGS = sorted(str(p) for p in CONFIG_DIR.glob('*/*.py') if p.parent.name not in ('profiles', 'datasets'))


@pytest.mark.parametrize('config', MODEL_CONFIGS, ids=lambda p: p.split('configs/')[1])
def test_every_model_config_compiles_under_tiny(config):
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    import repro.distill  # noqa: F401  registers DistillDetector
    register_all_modules()
    compiled = compile_config(config, 'tiny')
    cfg = compiled.cfg
    detectors = [cfg.model.get('student', cfg.model)] + ([compiled.teacher.cfg.model] if compiled.teacher else [])
    leaf = cfg.train_dataloader.dataset
    while 'dataset' in leaf:  # RepeatDataset of the 3x configs
        leaf = leaf.dataset
    classes = len(leaf.metainfo['classes'])  # 6 shapes, or 1 for the crowded-scene stand-in of CrowdHuman
    for model in detectors:
        head = model.roi_head.bbox_head if 'roi_head' in model else model.bbox_head  # Faster R-CNN: its RoI head
        # no pretrained weights (YOLOX's CSPDarknet keeps its own Kaiming init, none named in the config)
        assert model.backbone.get('init_cfg') is None and head.num_classes == classes
        assert model.backbone.get('base_channels', 16) == 16
    assert leaf.data_root.endswith('/') and leaf.ann_file == 'annotations/instances_train.json'
    assert cfg.val_evaluator.ann_file.endswith('annotations/instances_val.json')
    assert cfg.train_cfg.val_interval == cfg.train_cfg.max_epochs
    for key in ('teacher_checkpoint', 'teacher_ckpt'):  # teachers are not trained here
        cfg.model.pop(key, None)
    MODELS.build(cfg.model)  # widths are consistent: the model builds


def test_teacher_schedule_stays_longer_than_student():
    teacher = compile_config(CONFIG_DIR / 'teachers/gfl_r101.py', 'tiny').cfg
    student = compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'tiny').cfg
    assert teacher.train_cfg.max_epochs == 2 * student.train_cfg.max_epochs == 24
    assert teacher.model.backbone.depth == 101 and student.model.backbone.depth == 50


def test_tiny_trains_long_schedule_teachers_twice_their_students_epochs():
    """RTMDet's 300 epochs become 24 for the student and 48 for the teacher, cosine phase and pipeline switch alike."""
    student = compile_config(CONFIG_DIR / 'detectors/rtmdet_s.py', 'tiny').cfg
    teacher = compile_config(CONFIG_DIR / 'teachers/rtmdet_l.py', 'tiny').cfg
    for cfg, epochs in ((student, 24), (teacher, 48)):
        assert cfg.train_cfg.max_epochs == epochs
        cosine = cfg.param_scheduler[1]
        assert (cosine.begin, cosine.end, cosine.T_max) == (epochs // 2, epochs, epochs // 2)  # 150-300 of 300
        switch = next(h for h in cfg.custom_hooks if h.type == 'PipelineSwitchHook')
        assert switch.switch_epoch == round(280 * epochs / 300)


def test_tiny_shortens_every_iteration_warmup():
    """FCOS's constant warm-up (a third of the LR for 500 iterations) is shortened like the linear ones: left at
    500 it would cover 500 of a tiny 1x's 600 iterations."""
    for name in ('detectors/fcos_r50.py', 'teachers/fcos_r101.py', 'detectors/gfl_r50.py'):
        cfg = compile_config(CONFIG_DIR / name, 'tiny').cfg
        warmup = cfg.param_scheduler[0]
        assert warmup.type in ('LinearLR', 'ConstantLR') and not warmup.by_epoch
        assert (warmup.begin, warmup.end) == (0, 100), name
    assert compile_config(CONFIG_DIR / 'teachers/fcos_r101.py', 'tiny').cfg.param_scheduler[0].type == 'ConstantLR'


def test_tiny_normalises_retinanets_tower_and_coco_keeps_it_as_released():
    """From scratch, RetinaNet's tower without normalisation did not learn (0.0 AP, configs/profiles/tiny.py): the
    tiny profile adds GN to it, student and teacher alike; the coco profile trains mmdet's RetinaHead unchanged."""
    for name in ('detectors/retinanet_r50.py', 'teachers/retinanet_r101.py'):
        head = compile_config(CONFIG_DIR / name, 'tiny').cfg.model.bbox_head
        assert head.norm_cfg == dict(type='GN', num_groups=32, requires_grad=True), name
        assert 'norm_cfg' not in compile_config(CONFIG_DIR / name, 'coco', check_data=False).cfg.model.bbox_head


def test_tiny_trains_1x_teachers_on_a_2x_schedule(tmp_path):
    atss = compile_config(CONFIG_DIR / 'teachers/atss_r101.py', 'tiny').cfg
    assert atss.train_cfg.max_epochs == atss.train_cfg.val_interval == 24
    warmup, steps = atss.param_scheduler
    assert (warmup.begin, warmup.end) == (0, 100)  # iterations: not stretched
    assert (steps.begin, steps.end, steps.milestones) == (0, 24, [16, 22])
    # the same detector as a student keeps its 1x; the user's own schedule is kept; coco keeps the zoo's 1x
    student = compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'tiny')
    teacher = compile_config(CONFIG_DIR / 'teachers/gfl_r50.py', 'tiny')
    assert student.cfg.train_cfg.max_epochs == 12 and teacher.cfg.train_cfg.max_epochs == 24
    assert student.run_key != teacher.run_key
    assert compile_config(CONFIG_DIR / 'teachers/atss_r101.py', 'tiny',
                          ['train_cfg.max_epochs=6']).cfg.param_scheduler[1].milestones == [8, 11]
    for name in ('annotations/instances_train2017.json', 'annotations/instances_val2017.json'):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text('{}')
    coco = [compile_config(CONFIG_DIR / f'{kind}/gfl_r50.py', 'coco', data_root=str(tmp_path), check_data=False)
            for kind in ('detectors', 'teachers')]
    assert coco[0].run_key == coco[1].run_key and coco[1].cfg.train_cfg.max_epochs == 12


def test_neck_widths_follow_a_depth_override():
    cfg = compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'tiny', ['model.backbone.depth=18']).cfg
    assert cfg.model.neck.in_channels == [16, 32, 64, 128]
    cfg = compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'tiny').cfg
    assert cfg.model.neck.in_channels == [64, 128, 256, 512]


def test_run_key_is_stable_and_content_addressed(tmp_path, monkeypatch):
    config = CONFIG_DIR / 'detectors/gfl_r50.py'
    key = compile_config(config, 'tiny').run_key
    assert compile_config(config, 'tiny').run_key == key
    assert compile_config(config, 'tiny', seed=1).run_key != key
    assert compile_config(config, 'tiny', ['train_cfg.max_epochs=6']).run_key != key
    monkeypatch.setenv('REPRO_CACHE', str(tmp_path))  # another machine's cache path: same run, same key
    assert compile_config(config, 'tiny').run_key == key
    from repro.data import synthetic
    real = synthetic.ensure_dataset  # a cache under a path that JSON would escape: still the same key
    monkeypatch.setattr(synthetic, 'ensure_dataset', lambda spec: tmp_path / 'données ü' / real(spec).name)
    assert compile_config(config, 'tiny').run_key == key


def test_overrides_parse_python_literals_and_add_keys_with_plus():
    cfg = compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'tiny',
                         ['train_cfg.max_epochs=3', 'optim_wrapper.optimizer.lr=0.5', '+custom_note=hello']).cfg
    assert cfg.train_cfg.max_epochs == 3 and cfg.train_cfg.val_interval == 3
    assert cfg.optim_wrapper.optimizer.lr == 0.5 and cfg.custom_note == 'hello'


@pytest.mark.parametrize('override, message', [
    ('train_cfg.max_epoch=3', "unknown override key 'train_cfg.max_epoch'.*did you mean train_cfg.max_epochs"),
    ('no_equals_sign', "bad override 'no_equals_sign'"),
    ('=3', "bad override '=3'"),
])
def test_bad_overrides_are_named(override, message):
    with pytest.raises(ReproError, match=message):
        compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'tiny', [override])


def test_missing_config_and_profile():
    with pytest.raises(ReproError, match='config not found: .*nope.py; pass a file under configs/'):
        compile_config('configs/detectors/nope.py', 'tiny')
    with pytest.raises(ReproError, match="unknown profile 'huge'"):
        compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'huge')


def test_broken_config_file_is_one_line(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text('model = dict(\n')
    with pytest.raises(ReproError, match='cannot read config .*bad.py'):
        compile_config(bad, 'tiny')


def test_coco_profile_checks_the_root(tmp_path):
    with pytest.raises(ReproError, match='no COCO 2017 at .*--profile tiny'):
        compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'coco', data_root=str(tmp_path))
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'annotations/instances_train2017.json').write_text('{}')
    with pytest.raises(ReproError, match='incomplete: missing annotations/instances_val2017.json, train2017, val2017'):
        compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'coco', data_root=str(tmp_path))


def test_coco_profile_keeps_the_papers_setup(tmp_path):
    (tmp_path / 'annotations').mkdir()
    for name in ('annotations/instances_train2017.json', 'annotations/instances_val2017.json'):
        (tmp_path / name).write_text('{}')
    (tmp_path / 'train2017').mkdir()
    (tmp_path / 'val2017').mkdir()
    cfg = compile_config(CONFIG_DIR / 'teachers/gfl_r101.py', 'coco', data_root=str(tmp_path)).cfg
    assert cfg.model.bbox_head.num_classes == 80 and cfg.model.neck.out_channels == 256
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'
    assert cfg.train_cfg.max_epochs == 24 and cfg.train_dataloader.batch_size == 2
    assert cfg.val_evaluator.ann_file == str(tmp_path / 'annotations/instances_val2017.json')
    assert cfg.zoo_checkpoint.startswith('https://download.openmmlab.com/')


def test_a_variant_is_merged_before_the_users_own_distill_overrides():
    """distill.variant=paper selects the method's printed form; an explicit override (Table 6a's K) still wins, and
    the variant is part of the run key. The released dict is unchanged by the variants table."""
    paper = compile_config(METHODS / 'pgd_atss.py', 'tiny', ['distill.variant=paper'])
    mine = compile_config(METHODS / 'pgd_atss.py', 'tiny', ['distill.variant=paper', 'distill.terms.cls.guide.k=5'])
    released = compile_config(METHODS / 'pgd_atss.py', 'tiny')
    terms = [c.cfg.model.distill.terms.cls for c in (paper, mine, released)]
    assert [t.guide.k for t in terms] == [30, 5, 9]
    assert [t.loss.alpha for t in terms] == [0.8, 0.8, 0.08]
    assert [t.guide.topk_domain for t in terms] == ['box', 'box', 'image']
    assert 'variants' not in paper.cfg.model.distill and paper.cfg.model.distill.variant == 'paper'
    assert len({c.run_key for c in (paper, mine, released)}) == 3


@pytest.mark.parametrize('method, override, message', [
    ('crosskd_gfl.py', 'distill.variant=printed', "distill.variant is 'printed': this method defines released, paper"),
    ('pkd_gfl.py', '+distill.variant=paper', "distill.variant is 'paper': this method defines released$"),
])
def test_an_unknown_variant_is_one_line(method, override, message):
    with pytest.raises(ReproError, match=message):
        compile_config(METHODS / method, 'tiny', [override])


def test_coco_scales_the_lr_to_the_batch_a_run_has(monkeypatch, capsys):
    """The configs' LR is for 8 GPUs x 2 images; on 1 GPU mmengine's auto_scale_lr divides it by 8, and the record
    says so. The tiny profile trains with its configs' LR as it is."""
    from repro.training.runner import effective_batch
    coco = compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'coco', check_data=False).cfg
    assert coco.auto_scale_lr == dict(enable=True, base_batch_size=16)
    monkeypatch.setenv('WORLD_SIZE', '1')
    assert effective_batch(coco) == {'effective_batch': 2, 'lr': 0.00125, 'config_lr': 0.01}
    assert capsys.readouterr().out == ("LR 0.01 scaled to 0.00125: the effective batch is 2, the config's LR is for "
                                       '16 (auto_scale_lr)\n')
    monkeypatch.setenv('WORLD_SIZE', '8')
    assert effective_batch(coco) == {'effective_batch': 16, 'lr': 0.01} and not capsys.readouterr().out
    tiny = compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'tiny').cfg
    assert not tiny.auto_scale_lr.enable and effective_batch(tiny) == {'effective_batch': 64, 'lr': 0.01}


def test_the_base_batch_is_the_configs_own_8_gpus_not_the_users_batch(monkeypatch):
    """RTMDet's LR (0.004) is for 8 GPUs x 32 images; a user's batch-size override changes the batch a run has, not
    the batch the config's LR is for."""
    from repro.training.runner import effective_batch
    rtmdet = compile_config(CONFIG_DIR / 'detectors/rtmdet_s.py', 'coco', check_data=False).cfg
    assert rtmdet.auto_scale_lr.base_batch_size == 256
    monkeypatch.setenv('WORLD_SIZE', '1')
    assert effective_batch(rtmdet)['lr'] == pytest.approx(0.004 * 32 / 256)
    gfl = compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'coco', ['train_dataloader.batch_size=4'],
                         check_data=False).cfg
    assert gfl.auto_scale_lr.base_batch_size == 16 and effective_batch(gfl)['lr'] == pytest.approx(0.01 * 4 / 16)


def test_teacher_overrides_reach_the_teacher_run_and_a_bare_list_is_refused():
    """A distilled run's `teacher.overrides` compile its teacher (ext:pgd_teacher's 4x teacher: the schedule set
    whole, since a user's max_epochs turns the profile's stretching off), and the run's own key follows the teacher's.
    Written unquoted inside the list, the value is one string, and is refused in one line."""
    four_x = ['train_cfg.max_epochs=48', 'param_scheduler.0.end=100', 'param_scheduler.1.end=48',
              'param_scheduler.1.milestones=[32, 44]']
    plain = compile_config(METHODS / 'pgd_atss.py', 'tiny')
    longer = compile_config(METHODS / 'pgd_atss.py', 'tiny', [f'teacher.overrides={four_x!r}'])
    warmup, steps = longer.teacher.cfg.param_scheduler
    assert longer.teacher.cfg.train_cfg.max_epochs == 48 and (warmup.end, steps.end, steps.milestones) == (100, 48,
                                                                                                         [32, 44])
    assert longer.teacher.run_key != plain.teacher.run_key and longer.run_key != plain.run_key
    with pytest.raises(ReproError, match=r"teacher.overrides must be a list of key=value strings.*got '\[train_cfg"):
        compile_config(METHODS / 'pgd_atss.py', 'tiny', ['teacher.overrides=[train_cfg.max_epochs=48]'])
