"""The warehouse's tables as the Spark views define them (warehouse/views.sql, bin/oflab sql), read with pyarrow.

The warehouse is OFLAB_WAREHOUSE: a path (a relative one is taken from this directory, notebooks/) or a URI
that pyarrow.fs.FileSystem.from_uri opens (s3://bucket/warehouse, hdfs://namenode:8020/warehouse,
file:///data/warehouse); by default ../warehouse, the one bin/oflab quickstart writes. As Spark does, every
file or directory whose name starts with '.' or '_' is left out (Hadoop's .crc checksums, _SUCCESS).

    import oflab_tables as T
    T.load("layer_metrics")            # a pandas DataFrame with the view's columns
    T.dataset("snapshots")             # a pyarrow Dataset, read lazily (DuckDB queries it as it is)
"""

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

NOTEBOOKS = Path(__file__).resolve().parent

_PER_RUN = object()  # a table with one directory per run: runs/<run_id>/<directory>
# name: (directory, partition columns taken from the directory names, the job that writes the table)
TABLES = {
    "runs": ("run_info", _PER_RUN, "bin/oflab train"),
    "train_log": ("train_log", _PER_RUN, "bin/oflab train"),
    "snapshots": ("snapshots", _PER_RUN, "bin/oflab train"),
    "layer_metrics": ("layer_metrics", [("run_id", pa.string())], "bin/oflab metrics"),
    # step is a directory name cast to BIGINT, as the views do; run_id stays a string (never inferred as a number)
    "quant_eval": ("quant_eval", [("run_id", pa.string()), ("step", pa.int64())], "bin/oflab quant-eval"),
    "quant_error": ("quant_error", [("run_id", pa.string()), ("step", pa.int64())], "bin/oflab quant-eval"),
}


class MissingTable(LookupError):
    """A table without files in the warehouse; the message names the job that writes it."""


def location():
    """(filesystem, path inside it, the warehouse as given) of OFLAB_WAREHOUSE, default ../warehouse."""
    where = os.environ.get("OFLAB_WAREHOUSE", "../warehouse")
    if not urlparse(where).scheme:
        where = str((NOTEBOOKS / where).resolve())
    filesystem, path = pafs.FileSystem.from_uri(where)
    return filesystem, path.rstrip("/"), where


def _visible(names):
    return not any(name.startswith((".", "_")) for name in names)


def _files(filesystem, directory):
    """The files under directory, recursively, without hidden or underscore files and directories."""
    selector = pafs.FileSelector(directory, recursive=True, allow_not_found=True)
    return sorted(info.path for info in filesystem.get_file_info(selector)
                  if info.type == pafs.FileType.File and _visible(info.path[len(directory) + 1:].split("/")))


def dataset(name):
    """The table as a pyarrow Dataset with the view's columns (partition columns first), or MissingTable."""
    directory, partitions, writer = TABLES[name]
    filesystem, root, where = location()
    if partitions is _PER_RUN:
        runs = filesystem.get_file_info(pafs.FileSelector(f"{root}/runs", allow_not_found=True))
        files = [file for run in sorted(runs, key=lambda info: info.path)
                 if run.type == pafs.FileType.Directory and _visible([run.base_name])
                 for file in _files(filesystem, f"{run.path}/{directory}")]
        shown = f"{where}/runs/*/{directory}"
        partitioning = base = None
    else:
        base = f"{root}/{directory}"
        files = _files(filesystem, base)
        shown = f"{where}/{directory}"
        partitioning = ds.partitioning(pa.schema(partitions), flavor="hive")
    if not files:
        raise MissingTable(f"table {name}: no files in {shown}; {writer} writes it")
    # Tables gained columns over versions (runs: grid, point): as the views do, every file's columns are merged,
    # so an older file reads a newer column as null.
    schema = pa.unify_schemas([pq.read_schema(f, filesystem=filesystem) for f in files])
    if partitioning is not None:
        schema = pa.unify_schemas([schema, pa.schema(partitions)])
    data = ds.dataset(files, schema=schema, filesystem=filesystem, format="parquet", partitioning=partitioning,
                      partition_base_dir=base)
    if partitions is _PER_RUN:
        return data
    first = [column for column, _ in partitions]
    return data.replace_schema(pa.schema([data.schema.field(c) for c in first]
                                         + [f for f in data.schema if f.name not in first]))


def load(name, columns=None, filter=None):
    """The table as a pandas DataFrame: the columns given (default all), the rows matching a pyarrow filter."""
    return dataset(name).to_table(columns=columns, filter=filter).to_pandas()


def available():
    """Each table's name, row count (0 when it is missing) and the job that writes it."""
    rows = []
    for name, (_, _, writer) in TABLES.items():
        try:
            rows.append((name, dataset(name).count_rows(), writer))
        except MissingTable:
            rows.append((name, 0, writer))
    return pd.DataFrame(rows, columns=["table", "rows", "written_by"])


def metric(name, site="resid_attn_in"):
    """layer_metrics rows of one statistic at one site: run_id, step, layer, value."""
    rows = load("layer_metrics", ["run_id", "step", "layer", "value"],
                (ds.field("metric") == name) & (ds.field("site") == site))
    return rows.sort_values(["run_id", "layer", "step"], ignore_index=True)


def runs():
    """The runs table with each run's optimizer (read from its config), and a label and a colour for plots."""
    table = load("runs", ["run_id", "block", "config", "status", "steps"]).sort_values("run_id", ignore_index=True)
    table["optimizer"] = table["config"].map(lambda c: re.search(r'optimizer *= *"?([a-z_-]+)', c).group(1))
    table["label"] = table["run_id"] + " (" + table["block"] + ", " + table["optimizer"] + ")"
    table["colour"] = [f"C{i % 10}" for i in range(len(table))]
    return table.drop(columns="config")


def panels(titles, title, xlabel, ylabel, logy=False, ncols=2, sharey=True, width=6, height=3.8):
    """A figure with one panel per title, every panel on the same axes; returns (figure, {title: axes})."""
    titles = list(titles)
    ncols = max(1, min(ncols, len(titles)))
    nrows = max(1, -(-len(titles) // ncols))
    figure, grid = plt.subplots(nrows, ncols, sharex=True, sharey=sharey, squeeze=False,
                                figsize=(width * ncols, height * nrows), layout="constrained")
    axes = grid.ravel()
    for i in range(len(titles), len(axes)):
        axes[i].set_visible(False)
        axes[i - ncols].tick_params(labelbottom=True)  # the panel above a missing one shows the x axis
    for ax, name in zip(axes, titles):
        ax.set_title(name, fontsize="medium")
        ax.grid(True, which="major", alpha=0.3)
        if logy:  # plain numbers on the ticks (0.01, 1.2, 10), also within a decade
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
            ax.yaxis.set_minor_formatter(ticker.LogFormatter(labelOnlyBase=False))
    figure.suptitle(title)
    figure.supxlabel(xlabel)
    figure.supylabel(ylabel)
    return figure, dict(zip(titles, axes))


def legend(figure, axes, title=None):
    """One legend for the whole figure, right of the panels, with every label any panel has, in natural order."""
    entries = {}
    for ax in axes.values():
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    labels = sorted(entries, key=lambda label: [int(part) if part.isdigit() else part
                                                for part in re.split(r"(\d+)", label)])
    figure.legend([entries[label] for label in labels], labels, loc="outside right upper", title=title)
