package org.outlierlab.jobs.sql;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.outlierlab.jobs.metrics.MetricsJob;
import org.outlierlab.model.run.RunInfo;
import org.outlierlab.model.run.TrainLog;

/**
 * A small warehouse in the project's schemas, written by the project's own writers (run_info, train_log) and as
 * the metrics job writes layer_metrics: three runs of two block types, with known kurtosis values.
 */
public final class TestWarehouse {
  /** Run, its block type. Run "007" checks that a run id that looks like a number stays a string. */
  static final Map<String, String> BLOCKS = Map.of("007", "pre-ln", "pre-2", "pre-ln", "op-1", "op");
  static final long[] STEPS = {0, 100};
  /** Kurtosis of resid_attn_in per run, [layer][step index]. */
  static final Map<String, double[][]> KURTOSIS = Map.of(
      "007", new double[][] {{1.5, 3.25}, {2.0, 7.5}},
      "pre-2", new double[][] {{4.0, 2.5}, {1.25, 6.0}},
      "op-1", new double[][] {{1.125, 1.0}, {1.75, 1.5}});
  /** The peak kurtosis per (layer, block) of the rows above: the answer of {@link #PEAK_QUERY}. */
  static final List<String> PEAKS = List.of("0 op 1.125", "0 pre-ln 4.0", "1 op 1.75", "1 pre-ln 7.5");
  static final String PEAK_QUERY = "SELECT m.layer, r.block, max(m.value) AS peak_kurtosis FROM layer_metrics m"
      + " JOIN runs r USING (run_id) WHERE m.metric = 'kurtosis' AND m.site = 'resid_attn_in'"
      + " GROUP BY m.layer, r.block ORDER BY m.layer, r.block";
  /** train_log rows per run. */
  static final int LOGGED_STEPS = 3;

  private TestWarehouse() {}

  /** {@link #write(SparkSession, String)} with a Spark of its own, stopped afterwards. */
  static void write(String warehouse) throws IOException {
    SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      write(spark, warehouse);
    } finally {
      spark.stop();
    }
  }

  /** Writes the three runs' run_info and train_log, and their layer_metrics, under {@code warehouse}. */
  static void write(SparkSession spark, String warehouse) throws IOException {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    List<Row> metrics = new ArrayList<>();
    for (var run : BLOCKS.entrySet()) {
      addRun(warehouse, run.getKey(), run.getValue(), conf);
      double[][] kurtosis = KURTOSIS.get(run.getKey());
      for (int layer = 0; layer < kurtosis.length; layer++) {
        for (int s = 0; s < STEPS.length; s++) {
          metrics.add(RowFactory.create(run.getKey(), STEPS[s], layer, "resid_attn_in", "kurtosis", kurtosis[layer][s]));
          // Rows the query must leave out: another site, another metric, both above every kurtosis.
          metrics.add(RowFactory.create(run.getKey(), STEPS[s], layer, "unembed_in", "kurtosis", 99.0));
          metrics.add(RowFactory.create(run.getKey(), STEPS[s], layer, "resid_attn_in", "mmr_max", 50.0));
        }
      }
    }
    spark.createDataFrame(metrics, MetricsJob.SCHEMA).write().mode(SaveMode.Overwrite).partitionBy("run_id")
        .parquet(warehouse + "/layer_metrics");
  }

  /** One run's run_info and train_log ({@link #LOGGED_STEPS} rows). */
  public static void addRun(String warehouse, String runId, String block, Configuration conf) throws IOException {
    String runDir = warehouse + "/runs/" + runId;
    new RunInfo(runId, block, "model { block = " + block + " }", "finished", "2025-01-01T00:00:00Z",
        "2025-01-01T00:10:00Z", 200, 600.0, 3.5, 3.75, 1, "CpuBackend", 0, Double.NaN, "OpenBLAS 0.3.19, Zen kernels",
        null, null).write(runDir, conf);
    TrainLog log = new TrainLog(new Path(runDir, "train_log"), conf);
    for (int step = 0; step < LOGGED_STEPS; step++) {
      log.add(new TrainLog.Row(runId, step, 4.0 - step, 1e-3, 0.5, 1000, step, Double.NaN));
    }
    log.flush();
  }
}
