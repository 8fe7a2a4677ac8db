"""Single-crop, 10-crop and 144-crop evaluation of runs and published weights, alone or as an
ensemble (the paper's Tables 2 and 5).

Each member sees the crops of its own preprocessing; its softmax probabilities are averaged over
the crops, and an ensemble's are the mean of its members' (GoogLeNet section 7). The protocols
and the crop order are documented in inception_cli/data/crops.py and docs/eval.md.

    members.py      run directories and published weights loaded into Members, with their
                    preprocessing
    checkpoints.py  which checkpoint of a run, and the EMA or raw weights in it
    data.py         the images to evaluate (--data, else the runs' own data), the blacklist,
                    and whether they fit the members
    scoring.py      crops, forward passes and top-1/top-5 errors of each member and the ensemble
    results.py      the JSON record, the file it goes to, and the printed table
"""
