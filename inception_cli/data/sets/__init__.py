"""One module per data set of the `data` config group, each with one `@register`ed DataSet.

Every module here is imported to fill the registry (inception_cli/data/registry.py), so these
modules must not import torch at the top: they import it where they build a dataset.
"""
