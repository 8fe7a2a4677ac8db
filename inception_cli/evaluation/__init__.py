"""Single-crop, 10-crop and 144-crop evaluation of runs and published weights, alone or as an
ensemble (the paper's Tables 2 and 5), on one or several processes, resumable.

Each member sees the crops of its own preprocessing; its softmax probabilities are averaged over
the crops, and an ensemble's are the mean of its members' (GoogLeNet section 7). The protocols
and the crop order are documented in inception_cli/data/crops.py and docs/eval.md.

    member_args.py   what the arguments name (run directories, published weights), read
                     without loading anything
    output.py        the result file, chosen, created and locked before anything is loaded
    members.py       run directories and published weights loaded into Members, with their
                     preprocessing
    checkpoints.py   which checkpoint of a run, and the EMA or raw weights in it
    data.py          the images to evaluate (--data, else the runs' own data), the blacklist,
                     and whether they fit the members
    settings.py      device, precision (`auto` resolved), memory layout, batch
    batches.py       the loader: images by position, cropped in its workers (CPU) or not (GPU)
    scoring.py       forward passes: each image's top classes per member and for the ensemble
    predictions.py   what is kept of each image (top-5 classes), saved and gathered
    loop.py          one process's loop: progress, partial results, SIGTERM
    partial.py       partial results of an interrupted evaluation, and their key
    distributed.py   several processes: ranks from the environment, gathering, --devices
    progress.py      the progress bar on a terminal, lines with an ETA in logs
    session.py       one process's part of `inception eval`, from loading to the result
    scores.py        top-1/top-5 errors and throughput from the predictions
    real_labels.py   ImageNet-ReaL labels (--real-labels): read, matched to the images, scored
    results.py       the JSON record, the file it goes to, and the printed table
    single_crop_note.py  the note when multi-crop does worse than the single crop
"""
