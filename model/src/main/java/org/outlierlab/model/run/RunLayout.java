package org.outlierlab.model.run;

import org.apache.hadoop.fs.Path;

/**
 * Where a run's files go in its directory ({@code <warehouse>/runs/<run_id>}): one folder per table or kind of file,
 * each read as the warehouse's table of that name (runs reads run_info).
 */
public record RunLayout(String runDir) {
  /** {@link Checkpoint}s, one file each. */
  public Path checkpoints() {
    return new Path(runDir, "checkpoints");
  }

  /** {@link Snapshots}, one Parquet file per captured step. */
  public Path snapshots() {
    return new Path(runDir, "snapshots");
  }

  /** The {@link TrainLog}. */
  public Path trainLog() {
    return new Path(runDir, "train_log");
  }

  /** The run's {@link RunInfo} row. */
  public Path runInfo() {
    return new Path(runDir, "run_info");
  }
}
