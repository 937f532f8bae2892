package org.outlierlab.model.run;

import org.apache.hadoop.fs.Path;
import org.outlierlab.dataprep.fs.FileLock;

/**
 * Where a run's files go in its directory ({@code <warehouse>/runs/<run_id>}): one folder per table or kind of file,
 * each read as the warehouse's table of that name (runs reads run_info). The one place these names are spelled.
 */
public record RunLayout(String runDir) {
  /** The warehouse's folder of run directories. */
  public static final String RUNS = "runs";
  public static final String CHECKPOINTS = "checkpoints";
  public static final String SNAPSHOTS = "snapshots";
  public static final String TRAIN_LOG = "train_log";
  public static final String ALARMS = "alarms";
  public static final String RUN_INFO = "run_info";
  public static final String CONFIG = "config.conf";
  public static final String TOKENS_MANIFEST = "tokens_manifest.json";

  /** Run {@code runId}'s layout in {@code warehouse}: {@code <warehouse>/runs/<runId>}. */
  public static RunLayout in(String warehouse, String runId) {
    return new RunLayout(warehouse + "/" + RUNS + "/" + runId);
  }

  /** The folder of {@code warehouse}'s run directories. */
  public static Path runs(String warehouse) {
    return new Path(warehouse, RUNS);
  }

  /** {@link Checkpoint}s, one file each. */
  public Path checkpoints() {
    return new Path(runDir, CHECKPOINTS);
  }

  /** {@link Snapshots}, one Parquet file per captured step. */
  public Path snapshots() {
    return new Path(runDir, SNAPSHOTS);
  }

  /** The {@link TrainLog}. */
  public Path trainLog() {
    return new Path(runDir, TRAIN_LOG);
  }

  /** The {@link Alarms} the outlier alarm raised, one Parquet file per step with any. */
  public Path alarms() {
    return new Path(runDir, ALARMS);
  }

  /** The run's {@link RunInfo} row. */
  public Path runInfo() {
    return new Path(runDir, RUN_INFO);
  }

  /**
   * The lock a training job holds on this run (beside the run directory, hidden from the tables' listings):
   * one job at a time trains a run.
   */
  public Path lock() {
    return FileLock.beside(new Path(runDir));
  }

  /** The model and train settings the run resolved (what "auto" and "" became), as HOCON. */
  public Path config() {
    return new Path(runDir, CONFIG);
  }

  /** The data-prep manifest of the tokens the run was trained on, copied when it started. */
  public Path tokensManifest() {
    return new Path(runDir, TOKENS_MANIFEST);
  }
}
