"""Training: the LightningModule and its recipe, callbacks, the CSV logger, optimizers, schedules,
and the code that starts, resumes and reports a run.

    training/loop.py      train(cfg, run_dir): the pure training function the Hydra task calls
    training/builders.py  model, LightningModule, callbacks, loggers and Trainer from the config
    training/module.py    InceptionClassifier: loss, metrics, EMA, optimizer groups, schedule
    training/resume.py    what happens to a run directory when a run continues

Importing this package loads nothing heavy; each module imports what it needs.
"""
